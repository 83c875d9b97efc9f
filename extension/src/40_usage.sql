------------------------------------------------------------------------------------------
-- Usage: the exact per-day rollup and its triggers, period totals, the dashboard's current
-- card and projection (C: src/pg/usage_read.cpp), and the report view over every period.
------------------------------------------------------------------------------------------

-- The rollup triggers (src/pg/rollup_trigger.cpp): the statement's net change per company,
-- local day and slot, one UPDATE (or upsert, for a new row) each, in (company, day) order so
-- that concurrent writers lock rollup rows in the same order.
CREATE FUNCTION billing._roll_up_calls() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_calls';

CREATE FUNCTION billing._roll_up_appointments() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_appointments';

-- Transition tables allow one event per trigger.
CREATE TRIGGER calls_roll_up_insert AFTER INSERT ON billing.calls
    REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_update AFTER UPDATE ON billing.calls
    REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_delete AFTER DELETE ON billing.calls
    REFERENCING OLD TABLE AS old_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER appointments_roll_up_insert AFTER INSERT ON billing.appointments
    REFERENCING NEW TABLE AS new_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_update AFTER UPDATE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments NEW TABLE AS new_appointments
    FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_delete AFTER DELETE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();

-- Derived data must follow every change, also those applied with session_replication_role =
-- replica (logical replication subscribers, maintenance scripts): the rollup triggers fire always.
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_insert;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_update;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_delete;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_insert;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_update;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_delete;

-- The idempotency keys (src/pg/ingest_keys.cpp) follow every insert, update and delete of
-- billing.calls and billing.appointments: an insert stores its rows' keys (a key stored
-- before is a unique violation of call_keys_pkey or appointment_keys_pkey, as the unique
-- constraint of an unpartitioned table would raise), an update moves them, a delete removes
-- them, except in archive_calls(), which keeps the keys of the rows it archives. record_call(),
-- record_calls() and record_appointment() store their keys themselves, first, with ON
-- CONFLICT DO NOTHING. Not ENABLE ALWAYS: import_company() and logical replication carry the
-- keys tables' own rows (under session_replication_role = replica).
CREATE FUNCTION billing._keep_call_keys() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_keep_call_keys';

CREATE FUNCTION billing._keep_appointment_keys() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_keep_appointment_keys';

CREATE TRIGGER calls_keys_insert AFTER INSERT ON billing.calls
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER calls_keys_update AFTER UPDATE ON billing.calls
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER calls_keys_delete AFTER DELETE ON billing.calls
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER appointments_keys_insert AFTER INSERT ON billing.appointments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();
CREATE TRIGGER appointments_keys_update AFTER UPDATE ON billing.appointments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();
CREATE TRIGGER appointments_keys_delete AFTER DELETE ON billing.appointments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();

-- What the foreign keys from the keys to billing.companies would refuse: a company whose calls
-- or appointments were ever stored cannot be deleted or renumbered (23503).
CREATE FUNCTION billing._refuse_company_with_keys() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id OPERATOR(pg_catalog.=) OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT FROM billing.call_keys k WHERE k.company_id OPERATOR(pg_catalog.=) OLD.id)
       OR EXISTS (SELECT FROM billing.appointment_keys k WHERE k.company_id OPERATOR(pg_catalog.=) OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "companies" violates foreign key constraint "calls_company_id_fkey" on table "calls"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('Key (id)=(%s) is still referenced from table "calls" or "appointments".', OLD.id);
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER companies_keep_their_calls BEFORE DELETE OR UPDATE OF id ON billing.companies
    FOR EACH ROW EXECUTE FUNCTION billing._refuse_company_with_keys();

-- The raw per-day usage of one company (or all), straight from calls and appointments (and
-- the archived usage of rows archive_calls() removed): what the rollup must always equal. The
-- one definition used to rebuild and to verify it.
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
             WHERE raw_usage_daily.company IS NULL OR a.company_id = raw_usage_daily.company
            UNION ALL
            SELECT r.company_id, r.day, r.calls, r.completed_calls, r.seconds, r.appointments, NULL, NULL
              FROM billing.archived_usage_daily r
             WHERE raw_usage_daily.company IS NULL OR r.company_id = raw_usage_daily.company) AS x
     GROUP BY x.company_id, x.day
$$;
COMMENT ON FUNCTION billing.raw_usage_daily(bigint) IS
    'Per-day usage of one company (or all) recomputed from the raw calls and appointments';

-- Recomputes the rollup and the call profile of one company (or all) from the raw rows; returns
-- the rollup rows written.
-- For a time zone change, and after a restore with --disable-triggers.
CREATE FUNCTION billing.rebuild_usage_daily(company bigint DEFAULT NULL) RETURNS bigint
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
    DELETE FROM billing.usage_profile u WHERE company IS NULL OR u.company_id = company;
    INSERT INTO billing.usage_profile (company_id, day, slot, calls_by_hour, seconds_by_hour, completed_by_length,
                                       completed_seconds)
    SELECT r.company_id, r.day, 0, r.calls_by_hour::integer[], r.seconds_by_hour, r.completed_by_length::integer[],
           r.completed_seconds
      FROM billing.raw_usage_profile(company) AS r;
    RETURN written;
END
$$;
COMMENT ON FUNCTION billing.rebuild_usage_daily(bigint) IS
    'Recomputes the per-day rollup and call profile from the raw calls and appointments';
-- A company's days move with its time zone.
CREATE FUNCTION billing._rebuild_after_timezone_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM billing.rebuild_usage_daily(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER companies_timezone_rebuilds_rollup AFTER UPDATE OF timezone ON billing.companies
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION billing._rebuild_after_timezone_change();

-- Where the rollup and the raw rows disagree (nothing, always; for tests and benchmarks).
CREATE FUNCTION billing.verify_usage_daily(company bigint DEFAULT NULL)
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

-- The usage of a company-local date range: the calls and appointments of those local dates
-- that started at or before as_of (src/pg/usage_read.cpp, usage_up_to: the rule every usage
-- figure uses). Zeros for a company the caller's row level security hides.
CREATE FUNCTION billing.period_totals(company bigint, start_date date, end_date date,
                                                 as_of timestamptz DEFAULT 'infinity',
                                                 OUT calls bigint, OUT completed_calls bigint,
                                                 OUT seconds bigint, OUT appointments bigint)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_period_totals';
COMMENT ON FUNCTION billing.period_totals(bigint, date, date, timestamptz) IS
    'Calls, completed calls, seconds and booked appointments of a company-local date range';

CREATE FUNCTION billing.usage_current(company bigint DEFAULT NULL,
                                      as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_current';
COMMENT ON FUNCTION billing.usage_current(bigint, timestamptz) IS
    'The current period card: calls, minutes, appointments, costs and progress against included minutes';

CREATE FUNCTION billing.usage_projection(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_projection';
COMMENT ON FUNCTION billing.usage_projection(bigint, timestamptz) IS
    'The current period card and its linear projection to the end of the period';

-- Usage and charges of every stored period, set-based from the rollup: one query for all
-- companies, usable in CREATE MATERIALIZED VIEW (unique on period_id, so also REFRESH
-- MATERIALIZED VIEW CONCURRENTLY). Two sets of figures, never to be confused:
--   calls .. total_cost: the usage the period holds now, priced under its plan (NULL charges
--     without a plan); after a late call into a closed period it differs from what was billed;
--   invoice_*: the invoice issued when the period closed, as issued (its total includes the
--     adjustments for earlier periods it carries);
--   invoiced_*: everything billed for this period's usage so far, on its own invoice and as
--     adjustment lines of later ones; total_cost - invoiced_amount is what the next invoice
--     will adjust.
-- It runs with the caller's rights (security_invoker), so row level security shows each role
-- its own company only.
CREATE VIEW billing.period_usage WITH (security_invoker = true) AS
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
