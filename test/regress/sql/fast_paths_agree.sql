-- Version 1.2: usage_current/usage_projection, the company scope, record_call and the rollup
-- triggers run in C. Their figures must equal a recomputation from the raw rows for every as_of
-- (also inside a day with later rows, and for derived, stored and clipped periods), and they must
-- behave like SQL functions under errors, savepoints, DDL, missing privileges and a re-created
-- extension.
SELECT extversion FROM pg_extension WHERE extname = 'company_billing';
SELECT p.proname, l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'billing'::regnamespace
   AND p.proname IN ('usage_current', 'usage_projection', 'resolve_company',
                     'record_call', '_roll_up_calls', '_roll_up_appointments', 'current_company')
 ORDER BY 1;

INSERT INTO billing.companies (id, name, timezone) VALUES (801, 'C Path Praxis', 'America/New_York'),
                                                         (802, 'C Path Zwei', 'Asia/Kolkata');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (801, 'per_minute', 49, 10, 0.15, 2, '2025-01-01'), (802, 'per_minute', 10, 5, 0.20, 1, '2025-01-01');
-- Earlier days, then one day with calls at 09:00, 12:00, 15:00 and 18:00 local.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 801, 'early-' || d, '2025-06-01 10:00 America/New_York'::timestamptz + d * interval '1 day', 100 + d, 'completed'
  FROM generate_series(0, 8) AS d;
SELECT billing.record_call(801, 'day-' || i, '2025-06-10 09:00 America/New_York'::timestamptz + i * interval '3 hours',
                           60 * (i + 1), CASE WHEN i % 2 = 0 THEN 'completed' ELSE 'missed' END) AS new
  FROM generate_series(0, 3) AS i;
SELECT billing.record_appointment(801, 'appt-' || i, '2025-06-10 10:00 America/New_York'::timestamptz + i * interval '4 hours',
                                  CASE WHEN i = 1 THEN 'cancelled' ELSE 'booked' END) AS new
  FROM generate_series(0, 2) AS i;

-- The C figures against the raw rows, at points before, between and after the day's rows.
CREATE FUNCTION pg_temp.raw_matches(company bigint, as_of timestamptz, from_day timestamptz) RETURNS boolean
LANGUAGE sql AS $$
    SELECT (u -> 'calls' ->> 'total')::bigint = k.calls AND (u -> 'calls' ->> 'completed')::bigint = k.completed
       AND (u -> 'calls' ->> 'total_minutes')::numeric = round(k.seconds / 60.0, 2)
       AND (u -> 'appointments' ->> 'total')::bigint = a.appointments
       AND billing.usage_projection($1, $2) -> 'current' = u
      FROM billing.usage_current($1, $2) AS u,
           (SELECT count(*) AS calls, count(*) FILTER (WHERE status = 'completed') AS completed,
                   coalesce(sum(duration_sec), 0) AS seconds
              FROM billing.calls WHERE company_id = $1 AND started_at >= $3 AND started_at <= $2) AS k,
           (SELECT count(*) AS appointments FROM billing.appointments
             WHERE company_id = $1 AND booked_at >= $3 AND booked_at <= $2 AND status <> 'cancelled') AS a
$$;
SELECT as_of, pg_temp.raw_matches(801, as_of, '2025-06-01 00:00 America/New_York') AS exact
  FROM unnest(ARRAY['2025-06-01 00:00', '2025-06-10 08:59', '2025-06-10 09:00', '2025-06-10 11:59:59',
                    '2025-06-10 12:00', '2025-06-10 14:00', '2025-06-10 18:00', '2025-06-10 23:59:59',
                    '2025-06-11 00:00', '2025-06-30 23:59:59']::timestamp[]) AS t(local),
       LATERAL (SELECT (t.local::text || ' America/New_York')::timestamptz AS as_of) AS x
 ORDER BY as_of;

-- Periods: derived from the anchor day (no stored row), stored, and derived but clipped by the
-- next stored period.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (801, '2025-07-01', '2025-07-31'),
                                                                             (801, '2025-08-05', '2025-09-04');
SELECT as_of, u -> 'period' AS period
  FROM unnest(ARRAY['2025-06-15 12:00-04', '2025-07-15 12:00-04', '2025-08-02 12:00-04', '2025-08-20 12:00-04']::timestamptz[]) AS as_of,
       billing.usage_current(801, as_of) AS u;

-- Periods derived from the anchor day, for every anchor day, every day of fifteen months (month
-- and year ends, a leap day), around stored periods that clip some of them: period_for() and the
-- usage documents (one C implementation) against an oracle written here in SQL from the rule.
CREATE FUNCTION pg_temp.period_oracle(company bigint, day date, OUT start_date date, OUT end_date date)
LANGUAGE plpgsql AS $$
DECLARE
    anchor smallint;
    previous_end date;
    next_start date;
BEGIN
    SELECT p.start_date, p.end_date INTO start_date, end_date FROM billing.billing_periods p
     WHERE p.company_id = company AND day BETWEEN p.start_date AND p.end_date;
    IF FOUND THEN RETURN; END IF;
    SELECT c.billing_anchor_day INTO anchor FROM billing.companies c WHERE c.id = company;
    start_date := make_date(extract(year FROM day)::int, extract(month FROM day)::int, anchor);
    IF start_date > day THEN start_date := (start_date - interval '1 month')::date; END IF;
    end_date := (start_date + interval '1 month')::date - 1;
    SELECT max(p.end_date) INTO previous_end FROM billing.billing_periods p WHERE p.company_id = company AND p.end_date < day;
    SELECT min(p.start_date) INTO next_start FROM billing.billing_periods p WHERE p.company_id = company AND p.start_date > day;
    start_date := GREATEST(start_date, previous_end + 1);
    end_date := LEAST(end_date, next_start - 1);
END
$$;
INSERT INTO billing.companies (id, name, timezone, billing_anchor_day)
SELECT 900 + a, 'Anchor ' || a, 'UTC', a FROM generate_series(1, 28) AS a;
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
SELECT 900 + a, 'per_minute', 1, 0, 0.1, 0, '2023-01-01' FROM generate_series(1, 28) AS a;
INSERT INTO billing.billing_periods (company_id, start_date, end_date)
SELECT 900 + a, date '2024-02-10', date '2024-02-20' FROM generate_series(1, 28, 3) AS a
UNION ALL
SELECT 900 + a, '2024-12-30', '2025-01-02' FROM generate_series(2, 28, 4) AS a;
SELECT count(*) AS days_checked,
       count(*) FILTER (WHERE (j #>> '{current,period,start}')::date IS DISTINCT FROM p.start_date
                           OR (j #>> '{current,period,end}')::date IS DISTINCT FROM p.end_date) AS differing,
       count(*) FILTER (WHERE (f.start_date, f.end_date) IS DISTINCT FROM (p.start_date, p.end_date)) AS period_for_differing,
       -- the jsonb built in C reads back unchanged through jsonb's own parser
       count(*) FILTER (WHERE j::text <> j::text::jsonb::text OR j <> j::text::jsonb) AS differing_jsonb
  FROM generate_series(901, 928) AS c,
       generate_series(timestamp '2024-01-01 12:00', timestamp '2025-03-31 12:00', interval '1 day') AS t,
       billing.usage_projection(c, t AT TIME ZONE 'UTC') AS j,
       pg_temp.period_oracle(c, t::date) AS p,
       billing.period_for(c, t::date) AS f;

-- Parsed plans are reused by their stored content only, so a changed plan row reads as changed.
SELECT billing.usage_current(801, '2025-06-15 12:00-04') ->> 'base_fee' AS before_update;
UPDATE billing.pricing_plans SET base_fee = 59.5 WHERE company_id = 801;
SELECT billing.usage_current(801, '2025-06-15 12:00-04') ->> 'base_fee' AS after_update;
UPDATE billing.pricing_plans SET base_fee = 49 WHERE company_id = 801;
SELECT billing.usage_current(801, '2025-06-15 12:00-04') ->> 'base_fee' AS restored;

-- One statement touching several companies and days, then moving calls to another day and to
-- another company, then deleting some: the rollup follows every change.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 801 + i % 2, 'bulk-' || i, '2025-06-01 00:00+00'::timestamptz + i * interval '97 minutes', i % 300,
       (ARRAY['completed', 'missed', 'busy'])[1 + i % 3]
  FROM generate_series(1, 400) AS i;
SELECT count(*) AS differing_days FROM billing.verify_usage_daily(801);
UPDATE billing.calls SET started_at = started_at + interval '1 day 3 hours', duration_sec = duration_sec + 7
 WHERE external_id LIKE 'bulk-%' AND duration_sec % 5 = 0;
UPDATE billing.calls SET company_id = 802 WHERE company_id = 801 AND external_id LIKE 'bulk-1%';
DELETE FROM billing.calls WHERE external_id LIKE 'bulk-%' AND duration_sec % 7 = 0;
SELECT count(*) AS differing_days FROM billing.verify_usage_daily() WHERE company_id IN (801, 802);
SELECT count(*) AS differing_profiles FROM billing.verify_usage_profile() WHERE company_id IN (801, 802);
SELECT pg_temp.raw_matches(801, '2025-06-30 23:00-04', '2025-06-01 00:00 America/New_York') AS exact_801,
       pg_temp.raw_matches(802, '2025-06-30 23:00+05:30', '2025-06-01 00:00 Asia/Kolkata') AS exact_802;

-- Errors leave the session usable: in a savepoint, and caught by PL/pgSQL around C code that
-- was inside SPI when PostgreSQL raised.
BEGIN;
SAVEPOINT before_error;
SELECT billing.usage_current(999999, '2025-06-10');
ROLLBACK TO SAVEPOINT before_error;
SELECT billing.usage_current(801, '2025-06-10 12:00-04') -> 'calls' ->> 'total' AS calls_after_savepoint;
COMMIT;
DO $$
BEGIN
    PERFORM billing.record_call(999999, 'nobody', '2025-06-10', 1);
EXCEPTION WHEN foreign_key_violation THEN
    RAISE WARNING 'caught: %', SQLERRM;
END
$$;
-- An error raised by PostgreSQL inside the C function's SPI INSERT (here by a trigger), caught by
-- PL/pgSQL: the subtransaction abort closes the C function's SPI connection.
CREATE FUNCTION pg_temp.refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.external_id = 'boom' THEN
        RAISE EXCEPTION 'refused by a trigger' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER regress_refuse_boom BEFORE INSERT ON billing.calls FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_boom();
DO $$
BEGIN
    PERFORM billing.record_call(801, 'boom', '2025-06-01 10:00-04', 100);
EXCEPTION WHEN check_violation THEN
    RAISE WARNING 'caught: %', SQLERRM;
END
$$;
DROP TRIGGER regress_refuse_boom ON billing.calls;
SELECT billing.record_call(801, 'after-errors', '2025-06-10 20:00-04', 30) AS new;

-- DDL on the tables the C path reads: columns are found by name, kept plans are replanned.
ALTER TABLE billing.usage_daily ADD COLUMN regress_note text;
ALTER TABLE billing.pricing_plans ADD COLUMN regress_note text;
SELECT pg_temp.raw_matches(801, '2025-06-10 23:00-04', '2025-06-01 00:00 America/New_York') AS exact_after_ddl;
SELECT billing.record_call(801, 'after-ddl', '2025-06-10 21:00-04', 30) AS new;
ALTER TABLE billing.usage_daily DROP COLUMN regress_note;
ALTER TABLE billing.pricing_plans DROP COLUMN regress_note;
SELECT pg_temp.raw_matches(801, '2025-06-10 23:00-04', '2025-06-01 00:00 America/New_York') AS exact_after_drop;
SELECT count(*) AS differing_days FROM billing.verify_usage_daily(801);
-- The probes remember relation OIDs; an index created again under the same name has a new OID,
-- and a renamed one is no longer the index asked for.
DROP INDEX billing.pricing_plans_company_valid_from_idx;
CREATE INDEX pricing_plans_company_valid_from_idx ON billing.pricing_plans (company_id, valid_from);
SELECT pg_temp.raw_matches(801, '2025-06-10 23:00-04', '2025-06-01 00:00 America/New_York') AS exact_new_index;
ALTER INDEX billing.pricing_plans_company_valid_from_idx RENAME TO regress_renamed_idx;
SELECT billing.usage_current(801, '2025-06-10 23:00-04');
ALTER INDEX billing.regress_renamed_idx RENAME TO pricing_plans_company_valid_from_idx;
SELECT pg_temp.raw_matches(801, '2025-06-10 23:00-04', '2025-06-01 00:00 America/New_York') AS exact_renamed_back;

-- The index reads check the caller's SELECT privilege like a query would.
REVOKE SELECT ON billing.usage_daily FROM billing_app;
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL billing.company_id = 801;
SELECT billing.usage_current(NULL, '2025-06-10');
ROLLBACK;
GRANT SELECT ON billing.usage_daily TO billing_app;
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL billing.company_id = 801;
SELECT billing.usage_current(NULL, '2025-06-10 23:00-04') -> 'calls' ->> 'total' AS app_calls;
ROLLBACK;

-- The companies row: where row level security applies, its policies decide (also one a DBA
-- added); for a role it does not apply to, the primary key finds the row the query would.
SELECT billing.resolve_company(801) = c.id AS same_row FROM billing.companies c WHERE c.id = 801;
DROP ROLE IF EXISTS regress_bypass;
CREATE ROLE regress_bypass BYPASSRLS IN ROLE billing_app;
CREATE POLICY regress_not_801 ON billing.companies AS RESTRICTIVE FOR SELECT TO billing_app USING (id <> 801);
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL billing.company_id = 801;
SELECT billing.usage_current(NULL, '2025-06-10 23:00-04');
ROLLBACK;
BEGIN;
SET LOCAL ROLE regress_bypass;
SET LOCAL billing.company_id = 801;
SELECT billing.usage_current(NULL, '2025-06-10 23:00-04') -> 'calls' ->> 'total' AS bypass_calls;
SELECT billing.usage_current(802, '2025-06-10 23:00-04');
ROLLBACK;
DROP POLICY regress_not_801 ON billing.companies;
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL billing.company_id = 801;
SET LOCAL row_security = off;
SELECT billing.usage_current(NULL, '2025-06-10 23:00-04');
ROLLBACK;
DROP ROLE regress_bypass;

-- A re-created extension in the same session: the kept plans and index reads find the new tables.
SELECT billing.usage_current(801, '2025-06-10 23:00-04') -> 'calls' ->> 'total' AS before_drop;
-- While invoices exist, dropping the extension (which would delete them with its tables) is
-- refused, however it is asked for; a superuser's explicit setting lets it through.
SELECT count(*) > 0 AS invoices_exist FROM billing.invoices;
SELECT regress.error_of('DROP EXTENSION company_billing');
SELECT regress.error_of('DROP EXTENSION company_billing CASCADE');
SELECT regress.error_of('DROP EXTENSION IF EXISTS pg_nonexistent, company_billing CASCADE');
SELECT regress.error_of('DROP EXTENSION btree_gist CASCADE');
SELECT regress.error_of('DROP SCHEMA billing CASCADE');
SELECT count(*) > 0 AS invoices_kept FROM billing.invoices;
CREATE ROLE regress_not_superuser;
SET ROLE regress_not_superuser;
SELECT regress.error_of('SET billing.allow_drop_with_invoices = on');
RESET ROLE;
DROP ROLE regress_not_superuser;
SET billing.allow_drop_with_invoices = on;
DROP EXTENSION company_billing CASCADE;
RESET billing.allow_drop_with_invoices;
CREATE EXTENSION company_billing;
INSERT INTO billing.companies (id, name) VALUES (801, 'Re-created');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute, valid_from)
VALUES (801, 'per_minute', 0, 0, 0.5, '2025-01-01');
SELECT billing.record_call(801, 'fresh', '2025-06-10 12:00+00', 120) AS new;
SELECT billing.usage_current(801, '2025-06-10 23:00+00') -> 'calls' AS after_recreate;

-- The company row of a read: a superuser's comes by primary key, and the query under row level
-- security is never prepared (a fresh session shows no plan of it); an application role's read
-- prepares and runs that query.
\c
SELECT billing.usage_current(801, '2025-06-10 23:00+00') -> 'calls' ->> 'total' AS superuser_calls;
SELECT count(*) = 0 AS no_company_query FROM pg_backend_memory_contexts WHERE ident LIKE '%FROM billing.companies c WHERE%';
BEGIN;
SET LOCAL ROLE regress_app;
SET LOCAL billing.company_id = 801;
SELECT billing.usage_current(NULL, '2025-06-10 23:00+00') -> 'calls' ->> 'total' AS app_calls;
ROLLBACK;
SELECT count(*) > 0 AS company_query_prepared FROM pg_backend_memory_contexts WHERE ident LIKE '%FROM billing.companies c WHERE%';
