------------------------------------------------------------------------------------------
-- The dashboard's other cards: trends, history, the period page and its CSV, upcoming charges,
-- payment methods, and the troubleshooting checks.
--
-- Each company-scoped read is a C entry point (src/pg/api_call.cpp) over an internal body
-- (_<name>_impl, executable by no group role). The entry point checks as_of, resolves the
-- company (or the period's company) against the caller, audits the read and applies the
-- viewer rate limit, and only then runs the body with the resolved company: calling the API
-- function is the only way to the body, so every read of it is audited and limited.
------------------------------------------------------------------------------------------

-- One row per period, oldest first, the current period last; periods without usage included.
CREATE FUNCTION billing._usage_trends_impl(company bigint, months integer,
                                     as_of timestamptz)
RETURNS TABLE (period_start date, period_end date, month text, calls bigint, minutes numeric,
               appointments bigint, cost numeric, currency text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    starts date[] := '{}';
    ends date[] := '{}';
    period record;
    day date;
    plan billing.pricing_plans;
    totals record;
BEGIN
    IF months IS NULL OR months NOT BETWEEN 1 AND 120 THEN
        RAISE EXCEPTION 'months must be between 1 and 120' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    day := today;
    FOR i IN 1..months LOOP
        SELECT * INTO period FROM billing.period_for(company_row.id, day);
        starts := period.start_date || starts;
        ends := period.end_date || ends;
        day := period.start_date - 1;
    END LOOP;
    FOR i IN 1..months LOOP
        SELECT * INTO totals FROM billing.period_totals(company_row.id, starts[i], ends[i], as_of);
        plan := billing.plan_for_period(company_row.id, starts[i], LEAST(ends[i], today));
        period_start := starts[i];
        period_end := ends[i];
        month := pg_catalog.to_char(starts[i], 'YYYY-MM');
        calls := totals.calls;
        minutes := pg_catalog.round(totals.seconds / 60.0, 2);
        appointments := totals.appointments;
        cost := CASE WHEN plan.id IS NULL THEN NULL ELSE
                (billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency),
                                       totals.seconds, totals.appointments)).total_cost END;
        currency := company_row.currency;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION billing.usage_trends(company bigint DEFAULT NULL, months integer DEFAULT 6,
                                     as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period_start date, period_end date, month text, calls bigint, minutes numeric,
               appointments bigint, cost numeric, currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_trends(bigint, integer, timestamptz) IS
    'Usage and cost of the last N periods, oldest first (the 6-month trend chart)';

-- Invoices, newest first (the billing history table with its status badges).
CREATE FUNCTION billing._billing_history_impl(company bigint)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    RETURN QUERY
        SELECT i.id, i.number, bp.start_date, bp.end_date, i.issued_at, i.total, i.currency, i.status, i.pdf_url
          FROM billing.invoices i JOIN billing.billing_periods bp ON bp.id = i.billing_period_id
         WHERE i.company_id = company_row.id
         ORDER BY i.issued_at DESC, i.id DESC;
END
$$;

CREATE FUNCTION billing.billing_history(company bigint DEFAULT NULL)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.billing_history(bigint) IS 'A company''s invoices, newest first';

-- The period page: period, usage, charge lines, a daily series of every day, the invoice.
CREATE FUNCTION billing._period_detail_impl(period bigint) RETURNS jsonb
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

CREATE FUNCTION billing.period_detail(period bigint) RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_detail(bigint) IS
    'The period page: usage, charge lines, every day''s usage and the invoice';

-- One RFC 4180 record (fields joined by commas, quoted where needed, formulas neutralized).
CREATE FUNCTION billing.csv_record(VARIADIC fields text[]) RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_csv_record';
COMMENT ON FUNCTION billing.csv_record(text[]) IS
    'One CSV record (RFC 4180); cells starting with = + - @ are neutralized with an apostrophe';

-- The CSV export of a period, one record a row (header first, no line terminators): streams
-- through a tuplestore, so a period with millions of calls needs work_mem, not its size.
CREATE FUNCTION billing._period_csv_lines_impl(period bigint, granularity text)
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

CREATE FUNCTION billing.period_csv_lines(period bigint, granularity text DEFAULT 'call')
RETURNS SETOF text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv_lines(bigint, text) IS
    'The CSV export of a period as one record a row, for streaming very large periods';

-- The CSV export of a period as one text: the records of _period_csv_lines_impl, each ended
-- by CRLF, header first (joined by the C entry point).
CREATE FUNCTION billing.period_csv(period bigint, granularity text DEFAULT 'call') RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv(bigint, text) IS
    'The CSV export of a period (RFC 4180, CRLF, header row; granularity call or day)';

-- The upcoming charges card: next renewal, its base fee, and the projected current period with
-- its minutes and appointment charges apart (minutes: those beyond the included ones for
-- per_minute and package plans, every minute for combined; appointments: those beyond the
-- package's for package plans, every one otherwise).
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

-- A company's payment methods, the default first.
CREATE FUNCTION billing._company_payment_methods_impl(company bigint,
                                                as_of timestamptz)
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    RETURN QUERY
        SELECT m.id, m.brand, m.last4, pg_catalog.format('%s/%s', pg_catalog.lpad(m.exp_month::text, 2, '0'), m.exp_year),
               m.is_default,
               pg_catalog.make_date(m.exp_year, m.exp_month, 1) + interval '1 month' <= today,
               m.provider, m.provider_reference
          FROM billing.payment_methods m
         WHERE m.company_id = company_row.id
         ORDER BY m.is_default DESC, m.created_at DESC, m.id DESC;
END
$$;

CREATE FUNCTION billing.company_payment_methods(company bigint DEFAULT NULL,
                                                as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.company_payment_methods(bigint, timestamptz) IS
    'A company''s payment methods for display, the default first and marked';

-- Makes one method the company's default (and no other).
CREATE FUNCTION billing.set_default_payment_method(method bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner bigint;
BEGIN
    SELECT m.company_id INTO owner FROM billing.payment_methods m WHERE m.id = method FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment method % is not accessible', method USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE billing.payment_methods m SET is_default = false WHERE m.company_id = owner AND m.is_default AND m.id <> method;
    UPDATE billing.payment_methods m SET is_default = true WHERE m.id = method;
END
$$;


CREATE FUNCTION billing._diagnose_impl(company bigint, as_of timestamptz)
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

    -- The webhook outbox: deliveries the gateway gave up on after 24 hours of retries.
    "check" := 'webhook_deliveries';
    IF NOT pg_catalog.has_table_privilege('billing.webhook_deliveries', 'SELECT') THEN
        ok := true;
        detail := 'webhook deliveries are visible to the application and administrators';
    ELSE
        SELECT pg_catalog.count(*) FILTER (WHERE d.status = 'pending'), pg_catalog.count(*) FILTER (WHERE d.status = 'dead')
          FROM billing.webhook_deliveries d WHERE d.company_id = company_row.id
          INTO raw_calls, raw_appointments;
        ok := raw_appointments = 0;
        detail := pg_catalog.format('%s pending, %s dead', raw_calls, raw_appointments)
                  || CASE WHEN ok THEN '' ELSE ': retried for 24 hours without success; see billing.webhook_deliveries '
                                               '(status dead) for the last error, and set status = ''pending'' to retry' END;
    END IF;
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

CREATE FUNCTION billing.diagnose(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.diagnose(bigint, timestamptz) IS
    'The troubleshooting guide as one call: one row per check';
