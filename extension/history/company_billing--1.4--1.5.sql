-- company_billing 1.4 -> 1.5: exact calendar days (a day whose midnight repeats begins at the
-- first one), ISO 4217 minor units, an unattended month end (close_ended_periods, no early
-- close, DROP EXTENSION kept from deleting invoices), invoiced figures in period_usage,
-- retention (archive_calls), the rollup check of diagnose(), upcoming charges by kind. The
-- current definitions are in extension/src/.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.5'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

CREATE FUNCTION billing.local_day_start(day date, zone text) RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_local_day_start';
COMMENT ON FUNCTION billing.local_day_start(date, text) IS
    'The earliest instant whose local date in zone is day or later';

CREATE FUNCTION billing.local_day_end(day date, zone text) RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_local_day_end';
COMMENT ON FUNCTION billing.local_day_end(date, text) IS
    'Just after the latest instant whose local date in zone is day or earlier (the next day''s start, unless the clock goes back across midnight)';
GRANT EXECUTE ON FUNCTION billing.local_day_start(date, text), billing.local_day_end(date, text) TO PUBLIC;

-- period_totals: one rule for every usage figure, in C (the calls of the range's local dates
-- that started by as_of; on a clock that goes back across midnight, yesterday's too).
CREATE OR REPLACE FUNCTION billing.period_totals(company bigint, start_date date, end_date date,
                                                 as_of timestamptz DEFAULT 'infinity',
                                                 OUT calls bigint, OUT completed_calls bigint,
                                                 OUT seconds bigint, OUT appointments bigint)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_period_totals';
ALTER FUNCTION billing.period_totals(bigint, date, date, timestamptz) RESET ALL;

-- Currencies: the ISO 4217 minor units of every active code; other codes are refused (22023).
CREATE FUNCTION billing.currency_minor_unit(code text) RETURNS integer
LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_currency_minor_unit';
COMMENT ON FUNCTION billing.currency_minor_unit(text) IS
    'Decimals of an active ISO 4217 currency code (JPY and XPF 0, EUR 2, KWD 3, CLF 4); 22023 for any other code';
GRANT EXECUTE ON FUNCTION billing.currency_minor_unit(text) TO PUBLIC;
-- Companies whose code ISO 4217 does not list (or no longer lists) stop the update with a list
-- of them, rather than with the first failing row.
DO $$
DECLARE
    company_row record;
    unknown text[] := '{}';
BEGIN
    FOR company_row IN SELECT c.id, c.currency FROM billing.companies c ORDER BY c.id LOOP
        BEGIN
            PERFORM billing.currency_minor_unit(company_row.currency);
        EXCEPTION WHEN invalid_parameter_value THEN
            unknown := unknown || pg_catalog.format('company %s (%s)', company_row.id, company_row.currency);
        END;
    END LOOP;
    IF pg_catalog.cardinality(unknown) > 0 THEN
        RAISE EXCEPTION 'company_billing 1.5 bills only active ISO 4217 currencies: %', pg_catalog.array_to_string(unknown, ', ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Set these companies'' currency to an active code (HRK: EUR, SLL: SLE, ZWL: ZWG, ANG: XCG), then update again.';
    END IF;
END
$$;
ALTER TABLE billing.companies DROP CONSTRAINT companies_currency_check,
    ADD CONSTRAINT companies_currency_check CHECK (billing.currency_minor_unit(currency) IS NOT NULL);

-- Bodies whose day bounds, rules or columns changed (current definitions: extension/src/).
CREATE OR REPLACE FUNCTION billing._period_detail_impl(period bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    plan        billing.pricing_plans;
    totals      record;
    lines       jsonb;
    daily       jsonb;
    invoice_doc jsonb;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'period must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The entry point found the period under the caller's row level security.
    SELECT * INTO STRICT period_row FROM billing.billing_periods bp WHERE bp.id = period;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    SELECT * INTO totals FROM billing.period_totals(company_row.id, period_row.start_date, period_row.end_date);

    SELECT pg_catalog.to_jsonb(i) - 'company_id' INTO invoice_doc
      FROM billing.invoices i WHERE i.billing_period_id = period_row.id;
    IF invoice_doc IS NOT NULL THEN
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'line_number', l.line_number, 'kind', l.kind, 'description', l.description,
                   'quantity', l.quantity, 'unit_price', l.unit_price, 'amount', l.amount)
                   ORDER BY l.line_number)
          INTO lines FROM billing.invoice_lines l WHERE l.invoice_id = (invoice_doc ->> 'id')::bigint;
    ELSE
        plan := billing.plan_for_period(company_row.id, period_row.start_date, period_row.end_date);
        IF plan.id IS NOT NULL THEN
            lines := billing.charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
        END IF;
    END IF;

    -- Every local day of the period from the rollup, which keeps the days whose raw rows were
    -- archived (archive_calls) and counts each row on its own local date.
    WITH days AS (
        SELECT d::date AS day FROM pg_catalog.generate_series(period_row.start_date::timestamp,
                                                              period_row.end_date::timestamp, interval '1 day') AS d
    ), rolled AS (
        SELECT u.day, pg_catalog.sum(u.calls) AS calls, pg_catalog.sum(u.seconds) AS seconds,
               pg_catalog.sum(u.appointments) AS appointments
          FROM billing.usage_daily u
         WHERE u.company_id = company_row.id AND u.day BETWEEN period_row.start_date AND period_row.end_date
         GROUP BY u.day
    )
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'date', pg_catalog.to_char(d.day, 'YYYY-MM-DD'), 'calls', COALESCE(r.calls, 0),
               'minutes', pg_catalog.round(COALESCE(r.seconds, 0) / 60.0, 2),
               'appointments', COALESCE(r.appointments, 0)) ORDER BY d.day)
      INTO daily
      FROM days d LEFT JOIN rolled r ON r.day = d.day;

    RETURN pg_catalog.jsonb_build_object(
        'period', pg_catalog.jsonb_build_object(
            'id', period_row.id, 'company_id', period_row.company_id,
            'start', pg_catalog.to_char(period_row.start_date, 'YYYY-MM-DD'),
            'end', pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD'),
            'closed_at', period_row.closed_at),
        'status', period_row.status,
        'currency', company_row.currency,
        'usage', pg_catalog.jsonb_build_object(
            'calls', totals.calls, 'completed_calls', totals.completed_calls,
            'minutes', pg_catalog.round(totals.seconds / 60.0, 2), 'appointments', totals.appointments),
        'charges', COALESCE(lines, '[]'),
        'daily', daily,
        'invoice', invoice_doc);
END
$$;

CREATE OR REPLACE FUNCTION billing._period_csv_lines_impl(period bigint, granularity text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    period_from timestamptz;
    period_until timestamptz;
BEGIN
    IF period IS NULL OR granularity IS NULL THEN
        RAISE EXCEPTION 'period and granularity must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF granularity NOT IN ('call', 'day') THEN
        RAISE EXCEPTION 'granularity must be ''call'' or ''day'', not "%"', pg_catalog.left(granularity, 40)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The entry point found the period under the caller's row level security.
    SELECT * INTO STRICT period_row FROM billing.billing_periods bp WHERE bp.id = period;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    period_from := billing.local_day_start(period_row.start_date, company_row.timezone);
    period_until := billing.local_day_end(period_row.end_date, company_row.timezone);

    IF granularity = 'call' THEN
        RETURN NEXT billing.csv_record('call_id', 'started_at', 'timezone', 'duration_sec', 'minutes', 'status');
        RETURN QUERY
            SELECT billing.csv_record(k.external_id,
                                      pg_catalog.to_char(k.started_at AT TIME ZONE company_row.timezone, 'YYYY-MM-DD HH24:MI:SS'),
                                      company_row.timezone, k.duration_sec::text,
                                      pg_catalog.round(k.duration_sec / 60.0, 2)::text, k.status)
              FROM billing.calls k
             WHERE k.company_id = company_row.id AND k.started_at >= period_from AND k.started_at < period_until
               AND (k.started_at AT TIME ZONE company_row.timezone)::date
                   BETWEEN period_row.start_date AND period_row.end_date
             ORDER BY k.started_at, k.id;
    ELSE
        RETURN NEXT billing.csv_record('date', 'calls', 'completed_calls', 'minutes', 'appointments');
        RETURN QUERY
            SELECT billing.csv_record(pg_catalog.to_char(d.day, 'YYYY-MM-DD'), d.calls::text,
                                      d.completed_calls::text, pg_catalog.round(d.seconds / 60.0, 2)::text,
                                      d.appointments::text)
              FROM (SELECT g::date AS day, t.calls, t.completed_calls, t.seconds, t.appointments
                      FROM pg_catalog.generate_series(period_row.start_date::timestamp, period_row.end_date::timestamp,
                                                      interval '1 day') AS g,
                           LATERAL billing.period_totals(company_row.id, g::date, g::date) AS t) AS d
             ORDER BY d.day;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION billing._ensure_periods_impl(as_of timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row record;
    today date;
    day date;
    period record;
    inserted integer;
    created integer := 0;
BEGIN
    FOR company_row IN
        SELECT c.id, c.timezone,
               (SELECT pg_catalog.min(p.valid_from) FROM billing.pricing_plans p WHERE p.company_id = c.id) AS first_day,
               (SELECT pg_catalog.max(COALESCE(p.valid_until, 'infinity'::date)) FROM billing.pricing_plans p
                 WHERE p.company_id = c.id) AS last_day
          FROM billing.companies c WHERE c.active ORDER BY c.id
    LOOP
        CONTINUE WHEN company_row.first_day IS NULL;
        today := LEAST((as_of AT TIME ZONE company_row.timezone)::date, company_row.last_day);
        day := company_row.first_day;
        WHILE day <= today LOOP
            SELECT * INTO period FROM billing.period_for(company_row.id, day);
            IF period.period_id IS NULL
               AND (billing.plan_for_period(company_row.id, period.start_date, period.end_date)).id IS NOT NULL THEN
                -- A concurrent ensure_periods() may insert the same period: the exclusion
                -- constraint makes that a no-op here.
                INSERT INTO billing.billing_periods (company_id, start_date, end_date)
                VALUES (company_row.id, period.start_date, period.end_date)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS inserted = ROW_COUNT;
                created := created + inserted;
            END IF;
            day := period.end_date + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION billing._close_period_impl(period bigint, as_of timestamptz)
RETURNS billing.invoices
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    plan        billing.pricing_plans;
    totals      record;
    lines       jsonb;
    earlier     billing.billing_periods;
    earlier_plan billing.pricing_plans;
    billed      record;
    now_totals  record;
    old_charge  billing.charge;
    new_charge  billing.charge;
    config      jsonb;
    today       date;
    invoice     billing.invoices;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'period must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO period_row FROM billing.billing_periods bp WHERE bp.id = period FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'billing period % is not accessible', period USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF period_row.status = 'closed' THEN
        SELECT * INTO invoice FROM billing.invoices i WHERE i.billing_period_id = period_row.id;
        RETURN invoice;
    END IF;
    -- Whether a period has ended is a fact of the real clock: an as_of in the future would
    -- close a running period early.
    IF as_of > pg_catalog.now() THEN
        RAISE EXCEPTION 'as_of is later than now(): a period closes only once it has ended'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('as_of is %s, now() is %s.', as_of, pg_catalog.now()),
                  HINT = 'Pass an as_of at or before now(), or leave it out.';
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    IF today <= period_row.end_date THEN
        RAISE EXCEPTION 'billing period % runs until %: it can be closed from % on', period_row.id,
            pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD'),
            pg_catalog.to_char(period_row.end_date + 1, 'YYYY-MM-DD')
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    plan := billing.plan_for_period(company_row.id, period_row.start_date, period_row.end_date);
    IF plan.id IS NULL THEN
        RAISE EXCEPTION 'company % has no pricing plan for the period % to %', company_row.id,
            pg_catalog.to_char(period_row.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD')
            USING ERRCODE = 'no_data_found';
    END IF;

    SELECT * INTO totals FROM billing.period_totals(company_row.id, period_row.start_date, period_row.end_date, as_of);
    lines := billing.charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
    SELECT pg_catalog.jsonb_agg(l || pg_catalog.jsonb_build_object('billed_period_id', period_row.id))
      INTO lines FROM pg_catalog.jsonb_array_elements(lines) AS l;

    -- Usage of earlier closed periods that changed after they were billed (late, corrected or
    -- deleted calls): bill the difference between the charge of what the period holds now and
    -- the charge of what was billed for it, under that period's plan.
    FOR earlier IN
        SELECT * FROM billing.billing_periods bp
         WHERE bp.company_id = company_row.id AND bp.status = 'closed' AND bp.start_date < period_row.start_date
         ORDER BY bp.start_date
    LOOP
        SELECT COALESCE(pg_catalog.sum(l.billed_seconds), 0) AS seconds,
               COALESCE(pg_catalog.sum(l.billed_appointments), 0) AS appointments
          INTO billed FROM billing.invoice_lines l WHERE l.billed_period_id = earlier.id;
        SELECT * INTO now_totals FROM billing.period_totals(company_row.id, earlier.start_date, earlier.end_date, as_of);
        CONTINUE WHEN now_totals.seconds = billed.seconds AND now_totals.appointments = billed.appointments;
        earlier_plan := billing.plan_for_period(company_row.id, earlier.start_date, earlier.end_date);
        config := billing.plan_config(earlier_plan) || pg_catalog.jsonb_build_object('currency', company_row.currency);
        old_charge := billing.price_seconds(config, billed.seconds, billed.appointments);
        new_charge := billing.price_seconds(config, now_totals.seconds, now_totals.appointments);
        IF now_totals.seconds <> billed.seconds THEN
            lines := lines || pg_catalog.jsonb_build_object(
                'kind', 'minutes_adjustment',
                'description', pg_catalog.format('Adjustment for %s to %s: %s call minutes %s after the period was closed',
                    pg_catalog.to_char(earlier.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(earlier.end_date, 'YYYY-MM-DD'),
                    pg_catalog.round(pg_catalog.abs(now_totals.seconds - billed.seconds) / 60.0, 2),
                    CASE WHEN now_totals.seconds > billed.seconds THEN 'recorded' ELSE 'removed' END),
                'quantity', pg_catalog.round((now_totals.seconds - billed.seconds) / 60.0, 2),
                'unit_price', NULL,
                'amount', new_charge.minutes_cost - old_charge.minutes_cost,
                'billed_period_id', earlier.id,
                'billed_seconds', now_totals.seconds - billed.seconds, 'billed_appointments', 0);
        END IF;
        IF now_totals.appointments <> billed.appointments THEN
            lines := lines || pg_catalog.jsonb_build_object(
                'kind', 'appointments_adjustment',
                'description', pg_catalog.format('Adjustment for %s to %s: %s appointments %s after the period was closed',
                    pg_catalog.to_char(earlier.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(earlier.end_date, 'YYYY-MM-DD'),
                    pg_catalog.abs(now_totals.appointments - billed.appointments),
                    CASE WHEN now_totals.appointments > billed.appointments THEN 'recorded' ELSE 'removed' END),
                'quantity', now_totals.appointments - billed.appointments,
                'unit_price', NULL,
                'amount', new_charge.appointments_cost - old_charge.appointments_cost,
                'billed_period_id', earlier.id,
                'billed_seconds', 0, 'billed_appointments', now_totals.appointments - billed.appointments);
        END IF;
    END LOOP;

    INSERT INTO billing.invoices (company_id, billing_period_id, number, issued_at, due_date, currency, total)
    SELECT company_row.id, period_row.id,
           pg_catalog.format('INV-%s-%s', company_row.id, pg_catalog.to_char(period_row.start_date, 'YYYYMMDD')),
           as_of, today + 14, company_row.currency,
           (SELECT COALESCE(pg_catalog.sum((l ->> 'amount')::numeric), 0) FROM pg_catalog.jsonb_array_elements(lines) l)
    RETURNING * INTO invoice;
    INSERT INTO billing.invoice_lines (invoice_id, company_id, line_number, kind, description, quantity, unit_price,
                                       amount, billed_period_id, billed_seconds, billed_appointments)
    SELECT invoice.id, company_row.id, x.ordinality, x.line ->> 'kind', x.line ->> 'description', (x.line ->> 'quantity')::numeric,
           (x.line ->> 'unit_price')::numeric, (x.line ->> 'amount')::numeric, (x.line ->> 'billed_period_id')::bigint,
           (x.line ->> 'billed_seconds')::bigint, (x.line ->> 'billed_appointments')::bigint
      FROM pg_catalog.jsonb_array_elements(lines) WITH ORDINALITY AS x(line, ordinality);
    UPDATE billing.billing_periods bp SET status = 'closed', closed_at = as_of WHERE bp.id = period_row.id;
    RETURN invoice;
END
$$;

CREATE OR REPLACE FUNCTION billing._diagnose_impl(company bigint, as_of timestamptz)
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    period record;
    plan billing.pricing_plans;
    recent bigint;
    runtime record;
    rollup_calls numeric;
    rollup_appointments numeric;
    raw_calls numeric;
    raw_appointments numeric;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    "check" := 'company_active';
    ok := company_row.active;
    detail := pg_catalog.format('%s (%s, %s)', company_row.name, company_row.timezone,
                                CASE WHEN company_row.active THEN 'active' ELSE 'inactive' END);
    RETURN NEXT;

    today := (as_of AT TIME ZONE company_row.timezone)::date;
    SELECT * INTO period FROM billing.period_for(company_row.id, today);
    "check" := 'current_period';
    ok := true;
    detail := pg_catalog.format('%s to %s, %s', pg_catalog.to_char(period.start_date, 'YYYY-MM-DD'),
                                pg_catalog.to_char(period.end_date, 'YYYY-MM-DD'),
                                CASE WHEN period.period_id IS NULL
                                     THEN pg_catalog.format('derived from anchor day %s (no stored row; billing.ensure_periods() creates it)',
                                                            company_row.billing_anchor_day)
                                     ELSE pg_catalog.format('stored as period %s (%s)', period.period_id, period.status) END);
    RETURN NEXT;

    SELECT pg_catalog.count(*) INTO recent FROM billing.calls k
     WHERE k.company_id = company_row.id AND k.started_at > as_of - interval '30 days' AND k.started_at <= as_of;
    "check" := 'calls_last_30_days';
    ok := recent > 0;
    detail := pg_catalog.format('%s calls', recent);
    RETURN NEXT;

    plan := billing.plan_for_period(company_row.id, today, today);
    "check" := 'plan_valid_now';
    ok := plan.id IS NOT NULL;
    detail := CASE WHEN plan.id IS NULL
                   THEN pg_catalog.format('no plan is valid on %s', pg_catalog.to_char(today, 'YYYY-MM-DD'))
                   ELSE pg_catalog.format('plan %s (%s) valid from %s', plan.id, plan.pricing_model,
                                          pg_catalog.to_char(plan.valid_from, 'YYYY-MM-DD')) END;
    RETURN NEXT;

    "check" := 'plan_parameters_complete';
    IF plan.id IS NULL THEN
        ok := false;
        detail := 'no plan to check';
    ELSE
        BEGIN
            PERFORM billing.price(billing.plan_config(plan), 0, 0);
            ok := true;
            detail := billing.plan_config(plan)::text;
        EXCEPTION WHEN OTHERS THEN
            ok := false;
            detail := SQLERRM;
        END;
    END IF;
    RETURN NEXT;

    -- The rollup against the raw rows, by whole counts (an index scan each): a data-only restore
    -- with --disable-triggers, or a trigger disabled by hand, leaves it behind.
    SELECT COALESCE(pg_catalog.sum(u.calls), 0), COALESCE(pg_catalog.sum(u.appointments), 0)
      INTO rollup_calls, rollup_appointments FROM billing.usage_daily u WHERE u.company_id = company_row.id;
    SELECT (SELECT pg_catalog.count(*) FROM billing.calls k WHERE k.company_id = company_row.id)
           + (SELECT COALESCE(pg_catalog.sum(r.calls), 0) FROM billing.archived_usage_daily r WHERE r.company_id = company_row.id),
           (SELECT pg_catalog.count(*) FROM billing.appointments a WHERE a.company_id = company_row.id AND a.status <> 'cancelled')
           + (SELECT COALESCE(pg_catalog.sum(r.appointments), 0) FROM billing.archived_usage_daily r WHERE r.company_id = company_row.id)
      INTO raw_calls, raw_appointments;
    "check" := 'rollup_matches_raw';
    ok := rollup_calls = raw_calls AND rollup_appointments = raw_appointments;
    detail := CASE WHEN ok
                   THEN pg_catalog.format('%s calls and %s appointments in both', raw_calls, raw_appointments)
                   ELSE pg_catalog.format('the rollup (billing.usage_daily) holds %s calls and %s appointments, the raw rows %s and %s: '
                                          'an administrator repairs it with SELECT billing.rebuild_usage_daily(%s)',
                                          rollup_calls, rollup_appointments, raw_calls, raw_appointments, company_row.id) END;
    RETURN NEXT;

    SELECT * INTO runtime FROM billing.runtime_status();
    "check" := 'library_preloaded';
    ok := runtime.preloaded;
    detail := CASE WHEN runtime.preloaded THEN 'company_billing is in shared_preload_libraries'
                   ELSE 'company_billing is not in shared_preload_libraries: the rate limiter and the audit writer are off' END;
    RETURN NEXT;

    -- What happens to an API read in this database; the cluster's counters only for administrators.
    "check" := 'audit_writer';
    ok := runtime.audit IN ('audited', 'off');
    detail := CASE runtime.audit
        WHEN 'audited' THEN 'API reads in this database are audited in billing.audit_log'
        WHEN 'off' THEN 'billing.audit is off: API reads in this database are not audited'
        WHEN 'refused' THEN pg_catalog.format('API reads in this database are refused: the audit writer serves database %s '
                                              '(set billing.database, or billing.audit = off for this database)',
                                              runtime.audit_database)
        ELSE 'library not preloaded: API reads are not audited' END
        || CASE WHEN runtime.audit_queued IS NULL THEN ''
                WHEN runtime.audit_writer_pid IS NULL THEN pg_catalog.format('; the audit writer is not running (a standby, or it is restarting): %s queued, %s written, %s dropped',
                                       runtime.audit_queued, runtime.audit_written, runtime.audit_dropped)
                ELSE pg_catalog.format('; writer pid %s: %s queued, %s written, %s dropped', runtime.audit_writer_pid,
                                       runtime.audit_queued, runtime.audit_written, runtime.audit_dropped) END;
    RETURN NEXT;

    "check" := 'rate_limiter';
    ok := runtime.preloaded;
    detail := CASE WHEN NOT runtime.preloaded THEN 'off (library not preloaded): viewers are not rate limited'
                   ELSE pg_catalog.format('on: %s calls a minute per viewer role', pg_catalog.current_setting('billing.viewer_rate_limit'))
                        || CASE WHEN runtime.rate_limit_keys IS NULL THEN ''
                                ELSE pg_catalog.format('; %s application keys and %s viewer keys tracked',
                                                       runtime.rate_limit_keys, runtime.viewer_rate_limit_keys) END END;
    RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION billing.raw_usage_daily(company bigint)
RETURNS TABLE (company_id bigint, day date, calls bigint, completed_calls bigint, seconds bigint,
               appointments bigint, last_call_at timestamptz, last_appointment_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.company_id, x.day, pg_catalog.sum(x.calls)::bigint, pg_catalog.sum(x.completed_calls)::bigint,
           pg_catalog.sum(x.seconds)::bigint, pg_catalog.sum(x.appointments)::bigint,
           pg_catalog.max(x.last_call_at), pg_catalog.max(x.last_appointment_at)
      FROM (SELECT k.company_id, (k.started_at AT TIME ZONE c.timezone)::date AS day, 1 AS calls,
                   (k.status = 'completed')::int AS completed_calls, k.duration_sec AS seconds, 0 AS appointments,
                   k.started_at AS last_call_at, NULL::timestamptz AS last_appointment_at
              FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id
             WHERE raw_usage_daily.company IS NULL OR k.company_id = raw_usage_daily.company
            UNION ALL
            SELECT a.company_id, (a.booked_at AT TIME ZONE c.timezone)::date, 0, 0, 0,
                   (a.status <> 'cancelled')::int, NULL, a.booked_at
              FROM billing.appointments a JOIN billing.companies c ON c.id = a.company_id
             WHERE raw_usage_daily.company IS NULL OR a.company_id = raw_usage_daily.company
            UNION ALL
            SELECT r.company_id, r.day, r.calls, r.completed_calls, r.seconds, r.appointments, NULL, NULL
              FROM billing.archived_usage_daily r
             WHERE raw_usage_daily.company IS NULL OR r.company_id = raw_usage_daily.company) AS x
     GROUP BY x.company_id, x.day
$$;
COMMENT ON FUNCTION billing.raw_usage_daily(bigint) IS
    'Per-day usage of one company (or all) recomputed from the raw calls and appointments';

-- The month-end batch.
CREATE FUNCTION billing._close_ended_periods_impl(as_of timestamptz)
RETURNS TABLE (period_id bigint, company_id bigint, start_date date, end_date date, status text,
               invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text,
               error_message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row record;
    invoice billing.invoices;
BEGIN
    IF as_of > pg_catalog.now() THEN
        RAISE EXCEPTION 'as_of is later than now(): a period closes only once it has ended'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('as_of is %s, now() is %s.', as_of, pg_catalog.now()),
                  HINT = 'Pass an as_of at or before now(), or leave it out.';
    END IF;
    PERFORM billing.ensure_periods(as_of);
    FOR period_row IN
        SELECT bp.id, bp.company_id, bp.start_date, bp.end_date
          FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
         WHERE bp.status = 'open' AND bp.end_date < (as_of AT TIME ZONE c.timezone)::date
         ORDER BY bp.end_date, bp.company_id
    LOOP
        period_id := period_row.id;
        company_id := period_row.company_id;
        start_date := period_row.start_date;
        end_date := period_row.end_date;
        invoice_id := NULL; invoice_number := NULL; invoice_total := NULL;
        error_sqlstate := NULL; error_message := NULL;
        BEGIN
            invoice := billing.close_period(period_row.id, as_of);
            status := 'closed';
            invoice_id := invoice.id;
            invoice_number := invoice.number;
            invoice_total := invoice.total;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS error_sqlstate = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT;
            status := CASE WHEN error_sqlstate = 'P0002' THEN 'no_plan' ELSE 'failed' END;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION billing.close_ended_periods(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period_id bigint, company_id bigint, start_date date, end_date date, status text,
               invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text,
               error_message text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.close_ended_periods(timestamptz) IS
    'Month end for a daily job: closes every ended open period of every company, one row per period (closed, no_plan or failed with its SQLSTATE)';

REVOKE ALL ON FUNCTION billing._close_ended_periods_impl(timestamptz), billing.close_ended_periods(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.close_ended_periods(timestamptz) TO billing_admin;

-- DROP EXTENSION while invoices exist.
CREATE FUNCTION billing._refuse_drop_with_invoices() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_refuse_drop_with_invoices';

REVOKE ALL ON FUNCTION billing._refuse_drop_with_invoices() FROM PUBLIC;
CREATE EVENT TRIGGER company_billing_keeps_invoices ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION billing._refuse_drop_with_invoices();

-- upcoming_charges: projected_overage (which held every usage charge) becomes
-- projected_minutes_cost and projected_appointments_cost. A new row type: drop and create.
DROP FUNCTION billing.upcoming_charges(bigint, timestamptz);
DROP FUNCTION billing._upcoming_charges_impl(bigint, timestamptz, jsonb);
CREATE FUNCTION billing._upcoming_charges_impl(company bigint,
                                         as_of timestamptz, projection jsonb,
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_minutes_cost numeric, OUT projected_appointments_cost numeric,
                                         OUT projected_total numeric, OUT currency text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    next_plan billing.pricing_plans;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    renewal_date := (projection #>> '{current,period,end}')::date + 1;
    next_plan := billing.plan_for_period(company_row.id, renewal_date, renewal_date);
    IF next_plan.id IS NOT NULL THEN
        next_base_fee := (billing.price_seconds(billing.plan_config(next_plan)
                              || pg_catalog.jsonb_build_object('currency', company_row.currency), 0, 0)).base_fee;
    END IF;
    projected_minutes_cost := (projection #>> '{projected,costs,minutes_cost}')::numeric;
    projected_appointments_cost := (projection #>> '{projected,costs,appointments_cost}')::numeric;
    projected_total := (projection #>> '{projected,costs,total_cost}')::numeric;
    currency := company_row.currency;
END
$$;

CREATE FUNCTION billing.upcoming_charges(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now(),
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_minutes_cost numeric, OUT projected_appointments_cost numeric,
                                         OUT projected_total numeric, OUT currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.upcoming_charges(bigint, timestamptz) IS
    'Next renewal date and base fee, the current period''s projected minutes and appointment charges and total';

REVOKE ALL ON FUNCTION billing._upcoming_charges_impl(bigint, timestamptz, jsonb), billing.upcoming_charges(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.upcoming_charges(bigint, timestamptz) TO billing_viewer, billing_app, billing_admin;

-- Reports: the invoiced figures beside the current ones (columns added at the end).
CREATE OR REPLACE VIEW billing.period_usage WITH (security_invoker = true) AS
SELECT p.id AS period_id, p.company_id, p.start_date, p.end_date, p.status,
       COALESCE(u.calls, 0) AS calls, COALESCE(u.completed_calls, 0) AS completed_calls,
       pg_catalog.round(COALESCE(u.seconds, 0) / 60.0, 2) AS minutes, COALESCE(u.appointments, 0) AS appointments,
       plan.pricing_model, c.currency, (priced.charge).base_fee, (priced.charge).minutes_cost,
       (priced.charge).appointments_cost, (priced.charge).total_cost,
       i.id AS invoice_id, i.number AS invoice_number, i.status AS invoice_status, i.total AS invoice_total,
       pg_catalog.round(billed.seconds / 60.0, 2) AS invoiced_minutes, billed.appointments AS invoiced_appointments,
       billed.amount AS invoiced_amount
  FROM billing.billing_periods p
  JOIN billing.companies c ON c.id = p.company_id
  LEFT JOIN billing.invoices i ON i.billing_period_id = p.id
  LEFT JOIN LATERAL (
        SELECT pg_catalog.sum(d.calls) AS calls, pg_catalog.sum(d.completed_calls) AS completed_calls,
               pg_catalog.sum(d.seconds) AS seconds, pg_catalog.sum(d.appointments) AS appointments
          FROM billing.usage_daily d
         WHERE d.company_id = p.company_id AND d.day BETWEEN p.start_date AND p.end_date) AS u ON true
  LEFT JOIN LATERAL (
        SELECT pg_catalog.sum(l.billed_seconds) AS seconds, pg_catalog.sum(l.billed_appointments) AS appointments,
               pg_catalog.sum(l.amount) AS amount
          FROM billing.invoice_lines l
         WHERE l.company_id = p.company_id AND l.billed_period_id = p.id) AS billed ON true
  LEFT JOIN LATERAL billing.plan_for_period(p.company_id, p.start_date, p.end_date) AS plan ON true
  -- Priced once per period (OFFSET 0 keeps the subquery, and so the single call, intact), and
  -- only where a plan applies.
  LEFT JOIN LATERAL (
        SELECT CASE WHEN plan.id IS NOT NULL THEN
                    billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', c.currency),
                                          COALESCE(u.seconds, 0), COALESCE(u.appointments, 0)) END AS charge
        OFFSET 0) AS priced ON true;
COMMENT ON VIEW billing.period_usage IS
    'Usage and charges of every stored period, for reports and materialized views';


-- Retention: archive_calls() and the archived usage it keeps.
CREATE TABLE billing.archived_usage_daily (
    company_id      bigint NOT NULL REFERENCES billing.companies (id),
    day             date NOT NULL,
    calls           bigint NOT NULL,
    completed_calls bigint NOT NULL,
    seconds         bigint NOT NULL,
    appointments    bigint NOT NULL,
    archived_at     timestamptz NOT NULL,
    CONSTRAINT archived_usage_daily_pkey PRIMARY KEY (company_id, day)
);
COMMENT ON TABLE billing.archived_usage_daily IS
    'Usage of the raw calls and appointments archive_calls() removed, per company-local day';
SELECT pg_catalog.pg_extension_config_dump('billing.archived_usage_daily', '');
ALTER TABLE billing.archived_usage_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.archived_usage_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY archived_usage_daily_admin ON billing.archived_usage_daily TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY archived_usage_daily_company ON billing.archived_usage_daily FOR SELECT TO billing_viewer, billing_app
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
GRANT SELECT ON billing.archived_usage_daily TO billing_viewer, billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.archived_usage_daily TO billing_admin;
CREATE FUNCTION billing._archive_calls_impl(before date)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF before IS NULL THEN
        RAISE EXCEPTION 'before must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(before) THEN
        RAISE EXCEPTION 'before must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH closed AS (
        SELECT bp.company_id, bp.start_date, bp.end_date, c.timezone,
               billing.local_day_start(bp.start_date, c.timezone) AS period_from,
               billing.local_day_end(bp.end_date, c.timezone) AS period_until
          FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
         WHERE bp.status = 'closed' AND bp.end_date < before
    ), removed_calls AS (
        DELETE FROM billing.calls k USING closed p
         WHERE k.company_id = p.company_id AND k.started_at >= p.period_from AND k.started_at < p.period_until
           AND (k.started_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING k.company_id, (k.started_at AT TIME ZONE p.timezone)::date AS day,
                  (k.status = 'completed')::int AS completed, k.duration_sec
    ), removed_appointments AS (
        DELETE FROM billing.appointments a USING closed p
         WHERE a.company_id = p.company_id AND a.booked_at >= p.period_from AND a.booked_at < p.period_until
           AND (a.booked_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING a.company_id, (a.booked_at AT TIME ZONE p.timezone)::date AS day, (a.status <> 'cancelled')::int AS booked
    ), per_day AS (
        SELECT x.company_id, x.day, pg_catalog.sum(x.calls)::bigint AS calls, pg_catalog.sum(x.completed)::bigint AS completed,
               pg_catalog.sum(x.seconds)::bigint AS seconds, pg_catalog.sum(x.booked)::bigint AS booked,
               pg_catalog.sum(x.rows_of_calls)::bigint AS rows_of_calls, pg_catalog.sum(x.rows_of_appointments)::bigint AS rows_of_appointments
          FROM (SELECT r.company_id, r.day, 1 AS calls, r.completed, r.duration_sec AS seconds, 0 AS booked,
                       1 AS rows_of_calls, 0 AS rows_of_appointments FROM removed_calls r
                UNION ALL
                SELECT r.company_id, r.day, 0, 0, 0, r.booked, 0, 1 FROM removed_appointments r) AS x
         GROUP BY x.company_id, x.day
    ), archived AS (  -- a data-modifying WITH runs to completion, read or not
        INSERT INTO billing.archived_usage_daily AS d (company_id, day, calls, completed_calls, seconds, appointments, archived_at)
        SELECT r.company_id, r.day, r.calls, r.completed, r.seconds, r.booked, pg_catalog.now() FROM per_day r
        ON CONFLICT ON CONSTRAINT archived_usage_daily_pkey DO UPDATE
           SET calls = d.calls + excluded.calls, completed_calls = d.completed_calls + excluded.completed_calls,
               seconds = d.seconds + excluded.seconds, appointments = d.appointments + excluded.appointments,
               archived_at = excluded.archived_at
    )
    SELECT r.company_id, pg_catalog.sum(r.rows_of_calls)::bigint, pg_catalog.sum(r.rows_of_appointments)::bigint
      FROM per_day r
     GROUP BY r.company_id ORDER BY r.company_id;
END
$$;

CREATE FUNCTION billing.archive_calls(before date)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.archive_calls(date) IS
    'Retention: removes the raw calls and appointments of closed periods ended before a date; every figure and invoice stays as it was';

REVOKE ALL ON FUNCTION billing._archive_calls_impl(date), billing.archive_calls(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.archive_calls(date) TO billing_admin;
CREATE TRIGGER archived_usage_daily_written_by_archive_calls BEFORE INSERT OR UPDATE ON billing.archived_usage_daily
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('archive_calls');

-- period_for and plan_for_period: the C code the dashboard reads already used, declared once.
CREATE OR REPLACE FUNCTION billing.period_for(company bigint, day date,
                                   OUT period_id bigint, OUT start_date date,
                                   OUT end_date date, OUT status text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_period_for';
ALTER FUNCTION billing.period_for(bigint, date) RESET ALL;
CREATE OR REPLACE FUNCTION billing.plan_for_period(company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_plan_for_period';
ALTER FUNCTION billing.plan_for_period(bigint, date, date) RESET ALL;
