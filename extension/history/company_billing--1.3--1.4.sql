-- company_billing 1.3 -> 1.4: isolation (the attacks of test/attacks/), and the layout of the
-- current source (extension/src/).
--
-- * Every expression bound at install time by 1.0 that compared a numeric with an integer
--   literal could have bound to a look-alike operator in public: those CHECKs are rebuilt here,
--   with search_path = pg_catalog, pg_temp (as every 1.4 script runs).
-- * billing.period_usage runs with the caller's rights (security_invoker).
-- * No group role may execute an internal function: the internal functions of 1.3 are gone, and
--   the API functions with a PL/pgSQL body are C entry points over internal bodies
--   (src/pg/api_call.cpp) that audit, rate-limit and scope every call.
-- * Invoices and lines are written only inside close_period, invoices changed only inside
--   mark_invoice, periods closed only by close_period (_written_only_by).
-- * Viewer mappings are keyed by role OID (regrole); mappings of dropped roles are removed.
-- * billing.runtime_status() replaces _runtime_status(): what the audit does in this database,
--   and the counters for administrators only.

\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.4'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- The numeric range CHECKs, rebound to pg_catalog's operators.
ALTER TABLE billing.pricing_plans
    DROP CONSTRAINT pricing_plans_base_fee_range,
    ADD CONSTRAINT pricing_plans_base_fee_range
        CHECK (base_fee >= '0'::numeric AND base_fee < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_included_minutes_range,
    ADD CONSTRAINT pricing_plans_included_minutes_range
        CHECK (included_minutes >= '0'::numeric AND included_minutes < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_overage_per_minute_range,
    ADD CONSTRAINT pricing_plans_overage_per_minute_range
        CHECK (overage_per_minute >= '0'::numeric AND overage_per_minute < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_per_minute_rate_range,
    ADD CONSTRAINT pricing_plans_per_minute_rate_range
        CHECK (per_minute_rate >= '0'::numeric AND per_minute_rate < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_per_appointment_rate_range,
    ADD CONSTRAINT pricing_plans_per_appointment_rate_range
        CHECK (per_appointment_rate >= '0'::numeric AND per_appointment_rate < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_package_minutes_range,
    ADD CONSTRAINT pricing_plans_package_minutes_range
        CHECK (package_minutes >= '0'::numeric AND package_minutes < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_package_appointments_range,
    ADD CONSTRAINT pricing_plans_package_appointments_range
        CHECK (package_appointments >= '0'::numeric AND package_appointments < 'Infinity'::numeric),
    DROP CONSTRAINT pricing_plans_overage_per_appointment_range,
    ADD CONSTRAINT pricing_plans_overage_per_appointment_range
        CHECK (overage_per_appointment >= '0'::numeric AND overage_per_appointment < 'Infinity'::numeric);


-- Viewer mappings by role OID. A name that no longer names a role was a dropped role's: gone.
ALTER TABLE billing.viewer_companies RENAME TO viewer_companies_1_3;
ALTER TABLE billing.viewer_companies_1_3 RENAME CONSTRAINT viewer_companies_pkey TO viewer_companies_1_3_pkey;
ALTER TABLE billing.viewer_companies_1_3 RENAME CONSTRAINT viewer_companies_company_id_fkey TO viewer_companies_1_3_company_id_fkey;
-- Which login role of billing_viewer sees which company (one company per role). Keyed by the
-- role's OID: a role dropped and created again under the same name is a new role and sees
-- nothing; mappings of dropped roles are removed by grant_company_access and ensure_periods.
CREATE TABLE billing.viewer_companies (
    role       regrole PRIMARY KEY,
    company_id bigint NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT viewer_companies_company_id_fkey FOREIGN KEY (company_id) REFERENCES billing.companies (id)
);
SELECT pg_catalog.pg_extension_config_dump('billing.viewer_companies', '');
COMMENT ON TABLE billing.viewer_companies IS
    'The company each billing_viewer login role is pinned to (see grant_company_access)';
INSERT INTO billing.viewer_companies (role, company_id, granted_at)
SELECT r.oid::pg_catalog.regrole, v.company_id, v.granted_at
  FROM billing.viewer_companies_1_3 v JOIN pg_catalog.pg_roles r ON r.oid = pg_catalog.to_regrole(v.role_name)::pg_catalog.oid;
DROP TABLE billing.viewer_companies_1_3;
ALTER TABLE billing.viewer_companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.viewer_companies FORCE ROW LEVEL SECURITY;
CREATE POLICY viewer_companies_admin ON billing.viewer_companies TO billing_admin USING (true) WITH CHECK (true);

CREATE POLICY viewer_companies_own ON billing.viewer_companies FOR SELECT TO billing_viewer
    USING (role::pg_catalog.oid OPERATOR(pg_catalog.=)
           (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER));
GRANT SELECT ON billing.viewer_companies TO billing_viewer;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.viewer_companies TO billing_admin;


-- Reports apply the caller's row level security.
ALTER VIEW billing.period_usage SET (security_invoker = true);

-- The internal functions of 1.3 (their C symbols stay in the library for older versions).
DROP FUNCTION billing._company(bigint, text), billing._usage(bigint, timestamptz, boolean, text),
    billing._usage_document(jsonb, date, date, date, bigint, bigint, bigint, bigint, boolean),
    billing._record_read(bigint, text, text), billing._runtime_status(), billing._check_as_of(timestamptz),
    billing._check_event(text, text, bigint, text, text, timestamptz, text, text[]), billing._is_viewer(),
    billing._setting_company(), billing._transaction_company_setting(),
    billing._charge_lines(billing.pricing_plans, text, bigint, bigint), billing._period_csv_lines(bigint, text, text),
    billing._raw_usage_daily(bigint), billing._boundary_selftest(text);

-- New functions.

CREATE FUNCTION billing.charge_lines(plan billing.pricing_plans, currency text, seconds bigint,
                                      appointments bigint)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    charge billing.charge := billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', currency),
                                                   seconds, appointments);
    minutes numeric := pg_catalog.round(seconds / 60.0, 2);
    lines jsonb := '[]';
BEGIN
    IF plan.pricing_model <> 'combined' THEN
        lines := lines || pg_catalog.jsonb_build_object(
            'kind', 'base_fee', 'description', pg_catalog.format('Base fee (%s plan)', plan.pricing_model),
            'quantity', 1, 'unit_price', charge.base_fee, 'amount', charge.base_fee,
            'billed_seconds', 0, 'billed_appointments', 0);
    END IF;
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'minutes',
        'description', CASE plan.pricing_model
            WHEN 'per_appointment' THEN pg_catalog.format('Call minutes: %s, included in the plan', minutes)
            WHEN 'combined' THEN pg_catalog.format('Call minutes: %s', minutes)
            ELSE pg_catalog.format('Call minutes: %s used, %s included, %s over', minutes,
                                   charge.included_minutes, pg_catalog.round(charge.overage_minutes, 2)) END,
        'quantity', CASE WHEN plan.pricing_model IN ('per_minute', 'package')
                         THEN pg_catalog.round(charge.overage_minutes, 2) ELSE minutes END,
        'unit_price', CASE plan.pricing_model WHEN 'per_appointment' THEN 0
                           WHEN 'combined' THEN plan.per_minute_rate ELSE plan.overage_per_minute END,
        'amount', charge.minutes_cost, 'billed_seconds', seconds, 'billed_appointments', 0);
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'appointments',
        'description', CASE plan.pricing_model
            WHEN 'package' THEN pg_catalog.format('Appointments: %s booked, %s included, %s over', appointments,
                                                  charge.included_appointments, charge.overage_appointments)
            ELSE pg_catalog.format('Appointments: %s booked', appointments) END,
        'quantity', CASE plan.pricing_model WHEN 'package' THEN charge.overage_appointments ELSE appointments END,
        'unit_price', CASE plan.pricing_model WHEN 'package' THEN plan.overage_per_appointment
                           ELSE COALESCE(plan.per_appointment_rate, 0) END,
        'amount', charge.appointments_cost, 'billed_seconds', 0, 'billed_appointments', appointments);
    RETURN lines;
END
$$;
COMMENT ON FUNCTION billing.charge_lines(billing.pricing_plans, text, bigint, bigint) IS
    'The invoice lines (base fee, minutes, appointments) of a usage under a plan; pure, like price()';

CREATE FUNCTION billing.raw_usage_daily(company bigint)
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
             WHERE raw_usage_daily.company IS NULL OR a.company_id = raw_usage_daily.company) AS x
     GROUP BY x.company_id, x.day
$$;
COMMENT ON FUNCTION billing.raw_usage_daily(bigint) IS
    'Per-day usage of one company (or all) recomputed from the raw calls and appointments';

CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint,
                                       OUT audit_written bigint, OUT audit_dropped bigint,
                                       OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_runtime_status_v2';
COMMENT ON FUNCTION billing.runtime_status() IS
    'Whether API reads are audited in this database, and (for administrators) the audit and limiter counters';

CREATE FUNCTION billing._written_only_by() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_written_only_by';

CREATE FUNCTION billing._ensure_periods_impl(as_of timestamptz) RETURNS integer
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
               (SELECT pg_catalog.min(p.valid_from) FROM billing.pricing_plans p WHERE p.company_id = c.id) AS first_day
          FROM billing.companies c WHERE c.active ORDER BY c.id
    LOOP
        CONTINUE WHEN company_row.first_day IS NULL;
        today := (as_of AT TIME ZONE company_row.timezone)::date;
        day := company_row.first_day;
        WHILE day <= today LOOP
            SELECT * INTO period FROM billing.period_for(company_row.id, day);
            IF period.period_id IS NULL THEN
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

CREATE FUNCTION billing._close_period_impl(period bigint, as_of timestamptz)
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

CREATE FUNCTION billing._mark_invoice_impl(invoice bigint, status text, pdf_url text,
                                     as_of timestamptz)
RETURNS billing.invoices
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result billing.invoices;
BEGIN
    IF invoice IS NULL OR status IS NULL THEN
        RAISE EXCEPTION 'invoice and status must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF status NOT IN ('pending', 'paid', 'failed', 'void') THEN
        RAISE EXCEPTION 'unknown invoice status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known statuses: pending, paid, failed, void.';
    END IF;
    UPDATE billing.invoices i
       SET status = _mark_invoice_impl.status,
           pdf_url = COALESCE(_mark_invoice_impl.pdf_url, i.pdf_url),
           status_changed_at = CASE WHEN i.status = _mark_invoice_impl.status THEN i.status_changed_at ELSE as_of END
     WHERE i.id = _mark_invoice_impl.invoice
    RETURNING * INTO result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % is not accessible', invoice USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN result;
END
$$;

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

    WITH days AS (
        SELECT d::date AS day FROM pg_catalog.generate_series(period_row.start_date::timestamp,
                                                              period_row.end_date::timestamp, interval '1 day') AS d
    ), bounds AS (
        SELECT (period_row.start_date::timestamp AT TIME ZONE company_row.timezone) AS period_from,
               ((period_row.end_date + 1)::timestamp AT TIME ZONE company_row.timezone) AS period_until
    ), call_days AS (
        SELECT (k.started_at AT TIME ZONE company_row.timezone)::date AS day, pg_catalog.count(*) AS calls,
               COALESCE(pg_catalog.sum(k.duration_sec), 0) AS seconds
          FROM bounds b JOIN billing.calls k ON k.company_id = company_row.id
           AND k.started_at >= b.period_from AND k.started_at < b.period_until
         GROUP BY 1
    ), appointment_days AS (
        SELECT (a.booked_at AT TIME ZONE company_row.timezone)::date AS day, pg_catalog.count(*) AS appointments
          FROM bounds b JOIN billing.appointments a ON a.company_id = company_row.id
           AND a.booked_at >= b.period_from AND a.booked_at < b.period_until AND a.status <> 'cancelled'
         GROUP BY 1
    )
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'date', pg_catalog.to_char(d.day, 'YYYY-MM-DD'), 'calls', COALESCE(c.calls, 0),
               'minutes', pg_catalog.round(COALESCE(c.seconds, 0) / 60.0, 2),
               'appointments', COALESCE(a.appointments, 0)) ORDER BY d.day)
      INTO daily
      FROM days d LEFT JOIN call_days c ON c.day = d.day LEFT JOIN appointment_days a ON a.day = d.day;

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
    period_from := period_row.start_date::timestamp AT TIME ZONE company_row.timezone;
    period_until := (period_row.end_date + 1)::timestamp AT TIME ZONE company_row.timezone;

    IF granularity = 'call' THEN
        RETURN NEXT billing.csv_record('call_id', 'started_at', 'timezone', 'duration_sec', 'minutes', 'status');
        RETURN QUERY
            SELECT billing.csv_record(k.external_id,
                                      pg_catalog.to_char(k.started_at AT TIME ZONE company_row.timezone, 'YYYY-MM-DD HH24:MI:SS'),
                                      company_row.timezone, k.duration_sec::text,
                                      pg_catalog.round(k.duration_sec / 60.0, 2)::text, k.status)
              FROM billing.calls k
             WHERE k.company_id = company_row.id AND k.started_at >= period_from AND k.started_at < period_until
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

CREATE FUNCTION billing._upcoming_charges_impl(company bigint,
                                         as_of timestamptz, projection jsonb,
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_overage numeric, OUT projected_total numeric,
                                         OUT currency text)
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
    projected_total := (projection #>> '{projected,costs,total_cost}')::numeric;
    projected_overage := projected_total - (projection #>> '{projected,costs,base_fee}')::numeric;
    currency := company_row.currency;
END
$$;

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

CREATE TRIGGER invoices_written_by_close_period BEFORE INSERT ON billing.invoices
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER invoices_changed_by_mark_invoice BEFORE UPDATE ON billing.invoices
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('mark_invoice');
CREATE TRIGGER invoice_lines_written_by_close_period BEFORE INSERT ON billing.invoice_lines
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER billing_periods_inserted_closed_by_close_period BEFORE INSERT ON billing.billing_periods
    FOR EACH ROW WHEN (NEW.status = 'closed' OR NEW.closed_at IS NOT NULL)
    EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER billing_periods_updated_closed_by_close_period BEFORE UPDATE ON billing.billing_periods
    FOR EACH ROW WHEN (OLD.status = 'open' AND (NEW.status = 'closed' OR NEW.closed_at IS NOT NULL))
    EXECUTE FUNCTION billing._written_only_by('close_period');


-- Functions with a new implementation (C entry points over the internal bodies above, or new bodies).

CREATE OR REPLACE FUNCTION billing.resolve_company(company bigint) RETURNS bigint
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_resolve_company';
COMMENT ON FUNCTION billing.resolve_company(bigint) IS
    'The company a read with this argument is about, checked against the caller (42501 if none)';

CREATE OR REPLACE FUNCTION billing.rebuild_usage_daily(company bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM billing.usage_daily u WHERE company IS NULL OR u.company_id = company;
    INSERT INTO billing.usage_daily (company_id, day, slot, calls, completed_calls, seconds, appointments,
                                     last_call_at, last_appointment_at)
    SELECT r.company_id, r.day, 0, r.calls, r.completed_calls, r.seconds, r.appointments, r.last_call_at,
           r.last_appointment_at
      FROM billing.raw_usage_daily(company) AS r;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION billing.rebuild_usage_daily(bigint) IS
    'Recomputes the per-day rollup from the raw calls and appointments';

CREATE OR REPLACE FUNCTION billing.verify_usage_daily(company bigint DEFAULT NULL)
RETURNS TABLE (company_id bigint, day date, rollup_calls bigint, raw_calls bigint, rollup_seconds bigint,
               raw_seconds bigint, rollup_appointments bigint, raw_appointments bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH rolled AS (
        SELECT u.company_id, u.day, pg_catalog.sum(u.calls)::bigint AS calls, pg_catalog.sum(u.completed_calls)::bigint AS completed,
               pg_catalog.sum(u.seconds)::bigint AS seconds, pg_catalog.sum(u.appointments)::bigint AS appointments
          FROM billing.usage_daily u
         WHERE verify_usage_daily.company IS NULL OR u.company_id = verify_usage_daily.company
         GROUP BY 1, 2
    )
    SELECT COALESCE(r.company_id, w.company_id), COALESCE(r.day, w.day), r.calls, w.calls, r.seconds, w.seconds,
           r.appointments, w.appointments
      FROM rolled r FULL JOIN billing.raw_usage_daily(verify_usage_daily.company) w
        ON w.company_id = r.company_id AND w.day = r.day
     WHERE (COALESCE(r.calls, 0), COALESCE(r.completed, 0), COALESCE(r.seconds, 0), COALESCE(r.appointments, 0))
           IS DISTINCT FROM (COALESCE(w.calls, 0), COALESCE(w.completed_calls, 0), COALESCE(w.seconds, 0), COALESCE(w.appointments, 0))
$$;
COMMENT ON FUNCTION billing.verify_usage_daily(bigint) IS
    'Rows where the rollup differs from a recomputation from the raw rows (empty when exact)';

CREATE OR REPLACE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
                                           status text DEFAULT 'booked',
                                           call_external_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    linked_call bigint;
BEGIN
    IF company IS NULL OR external_id IS NULL OR booked_at IS NULL OR status IS NULL THEN
        RAISE EXCEPTION 'record_appointment: % must not be NULL',
            CASE WHEN company IS NULL THEN 'company' WHEN external_id IS NULL THEN 'external_id'
                 WHEN booked_at IS NULL THEN 'booked_at' ELSE 'status' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(external_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'record_appointment: external_id must have 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (booked_at >= TIMESTAMPTZ '2000-01-01 00:00:00+00' AND booked_at < TIMESTAMPTZ '2100-01-01 00:00:00+00') THEN
        RAISE EXCEPTION 'record_appointment: booked_at must lie in the years 2000 to 2099'
            USING ERRCODE = 'datetime_field_overflow';
    END IF;
    IF status NOT IN ('booked', 'cancelled') THEN
        RAISE EXCEPTION 'record_appointment: unknown appointment status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known statuses: booked, cancelled.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.companies c WHERE c.id = record_appointment.company) THEN
        RAISE EXCEPTION 'record_appointment: company % does not exist', company
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF call_external_id IS NOT NULL THEN
        SELECT c.id INTO linked_call FROM billing.calls c
         WHERE c.company_id = record_appointment.company AND c.external_id = call_external_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'record_appointment: company % has no call "%"',
                company, pg_catalog.left(call_external_id, 40)
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;

    INSERT INTO billing.appointments (company_id, external_id, call_id, booked_at, status)
    VALUES (record_appointment.company, record_appointment.external_id, linked_call,
            record_appointment.booked_at, record_appointment.status)
    ON CONFLICT ON CONSTRAINT appointments_company_external_id_key DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.record_appointment(bigint, text, timestamptz, text, text) IS
    'Stores an appointment once per (company, external_id); true when it was new. '
    'A later cancellation is an UPDATE of billing.appointments.status.';

CREATE OR REPLACE FUNCTION billing.ensure_periods(as_of timestamptz DEFAULT pg_catalog.now()) RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.ensure_periods(timestamptz) IS
    'Creates the missing billing periods of every active company up to as_of (for a daily job)';

CREATE OR REPLACE FUNCTION billing.close_period(period bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS billing.invoices
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.close_period(bigint, timestamptz) IS
    'Closes an ended period and returns its invoice (the same invoice when called again)';

CREATE OR REPLACE FUNCTION billing.mark_invoice(invoice bigint, status text, pdf_url text DEFAULT NULL,
                                     as_of timestamptz DEFAULT pg_catalog.now())
RETURNS billing.invoices
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.mark_invoice(bigint, text, text, timestamptz) IS
    'Sets an invoice''s status (paid, failed, void, pending) and optionally its PDF URL';

CREATE OR REPLACE FUNCTION billing.usage_trends(company bigint DEFAULT NULL, months integer DEFAULT 6,
                                     as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period_start date, period_end date, month text, calls bigint, minutes numeric,
               appointments bigint, cost numeric, currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_trends(bigint, integer, timestamptz) IS
    'Usage and cost of the last N periods, oldest first (the 6-month trend chart)';

CREATE OR REPLACE FUNCTION billing.billing_history(company bigint DEFAULT NULL)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.billing_history(bigint) IS 'A company''s invoices, newest first';

CREATE OR REPLACE FUNCTION billing.period_detail(period bigint) RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_detail(bigint) IS
    'The period page: usage, charge lines, every day''s usage and the invoice';

CREATE OR REPLACE FUNCTION billing.period_csv_lines(period bigint, granularity text DEFAULT 'call')
RETURNS SETOF text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv_lines(bigint, text) IS
    'The CSV export of a period as one record a row, for streaming very large periods';

CREATE OR REPLACE FUNCTION billing.period_csv(period bigint, granularity text DEFAULT 'call') RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv(bigint, text) IS
    'The CSV export of a period (RFC 4180, CRLF, header row; granularity call or day)';

CREATE OR REPLACE FUNCTION billing.upcoming_charges(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now(),
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_overage numeric, OUT projected_total numeric,
                                         OUT currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.upcoming_charges(bigint, timestamptz) IS
    'Next renewal date and base fee, projected usage charges and total of the current period';

CREATE OR REPLACE FUNCTION billing.company_payment_methods(company bigint DEFAULT NULL,
                                                as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.company_payment_methods(bigint, timestamptz) IS
    'A company''s payment methods for display, the default first and marked';

CREATE OR REPLACE FUNCTION billing.diagnose(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.diagnose(bigint, timestamptz) IS
    'The troubleshooting guide as one call: one row per check';

CREATE OR REPLACE FUNCTION billing.audit_flush_wait(timeout interval DEFAULT '10 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deadline timestamptz := pg_catalog.clock_timestamp() + timeout;
    status record;
BEGIN
    LOOP
        SELECT * INTO status FROM billing.runtime_status();
        IF NOT status.preloaded OR status.audit_queued IS NULL THEN
            RETURN false;
        END IF;
        IF status.audit_queued = 0 THEN
            -- The writer takes entries off the queue before committing them: one more beat.
            PERFORM pg_catalog.pg_sleep(0.2);
            RETURN true;
        END IF;
        IF pg_catalog.clock_timestamp() > deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.05);
    END LOOP;
END
$$;
COMMENT ON FUNCTION billing.audit_flush_wait(interval) IS
    'Waits until the audit writer has written every queued read (false on timeout or without preload)';

CREATE OR REPLACE FUNCTION billing.grant_company_access(role regrole, company bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_company bigint;
BEGIN
    IF role IS NULL OR company IS NULL THEN
        RAISE EXCEPTION 'role and company must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.pg_has_role(role::oid, 'billing_viewer', 'MEMBER')
       OR pg_catalog.pg_has_role(role::oid, 'billing_app', 'MEMBER')
       OR pg_catalog.pg_has_role(role::oid, 'billing_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'role % must be a member of billing_viewer (and of neither billing_app nor billing_admin)', role
            USING ERRCODE = 'invalid_parameter_value', HINT = 'GRANT billing_viewer TO the role first.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.companies c WHERE c.id = company) THEN
        RAISE EXCEPTION 'company % does not exist', company USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Mappings of dropped roles match no role; they go here.
    DELETE FROM billing.viewer_companies v
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = v.role::oid);
    SELECT v.company_id INTO current_company FROM billing.viewer_companies v WHERE v.role = grant_company_access.role;
    IF FOUND AND current_company <> company THEN
        RAISE EXCEPTION 'role % is already mapped to company %', role, current_company
            USING ERRCODE = 'unique_violation', HINT = 'A viewer sees one company: revoke that access first.';
    END IF;
    INSERT INTO billing.viewer_companies (role, company_id) VALUES (grant_company_access.role, company)
    ON CONFLICT ON CONSTRAINT viewer_companies_pkey DO NOTHING;
END
$$;
COMMENT ON FUNCTION billing.grant_company_access(regrole, bigint) IS
    'Pins a billing_viewer login role to one company';

CREATE OR REPLACE FUNCTION billing.revoke_company_access(role regrole, company bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role IS NULL OR company IS NULL THEN
        RAISE EXCEPTION 'role and company must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM billing.viewer_companies v WHERE v.role = revoke_company_access.role AND v.company_id = company;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.revoke_company_access(regrole, bigint) IS
    'Removes a viewer role''s access to its company; true when there was one';


-- Privileges: no group role executes an internal function (the new ones start without grants).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    billing.price(jsonb, numeric, numeric), billing.price(text, numeric, numeric),
    billing.price(billing.pricing_plans, numeric, numeric), billing.price_seconds(jsonb, numeric, numeric),
    billing.plan_config(billing.pricing_plans), billing.charge_lines(billing.pricing_plans, text, bigint, bigint),
    billing.csv_record(text[]), billing.is_valid_timezone(text), billing.looks_like_card_number(text)
    TO PUBLIC;
GRANT EXECUTE ON FUNCTION billing.runtime_status() TO billing_viewer, billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.raw_usage_daily(bigint) TO billing_admin;
