-- An ordinary user plants look-alikes of the built-ins the extension uses, in public and in
-- pg_temp, puts them first in search_path, and every extension function still computes the
-- same results: each SQL function pins search_path = pg_catalog, pg_temp, the C read path's
-- queries name the schema of every table, function, operator and type (also when their kept
-- plans are analysed again under this search_path), and PostgreSQL never looks up functions or
-- operators in pg_temp.
\set VERBOSITY terse
SELECT billing.grant_company_access('regress_viewer_b', 42);
GRANT CREATE ON SCHEMA public TO regress_viewer_b;
-- The honest figures, computed first.
SELECT billing.usage_current(42, '2025-06-20') AS honest_usage \gset
SELECT billing.usage_analytics(42, '2025-06-01', '2025-06-30', '2025-06-20') AS honest_analytics \gset
SELECT billing.period_csv((SELECT id FROM billing.billing_periods WHERE company_id = 42)) AS honest_csv \gset
SELECT (billing.price('{"pricing_model":"per_minute","base_fee":49,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2}', 687.5, 87)).total_cost AS honest_price \gset

\c - regress_viewer_b
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT timestamptz '1999-01-01' $$;
CREATE FUNCTION public.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ SELECT 0::numeric $$;
CREATE FUNCTION public.round(numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT 0::numeric $$;
CREATE FUNCTION public.coalesce_evil(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT false $$;
CREATE OPERATOR public.= (leftarg = bigint, rightarg = bigint, function = public.coalesce_evil);
CREATE FUNCTION public.text_eq_evil(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR public.= (leftarg = text, rightarg = text, function = public.text_eq_evil);
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE sql AS $$ SELECT 1000::bigint $$;
CREATE FUNCTION public.jsonb_strip_nulls(jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
CREATE FUNCTION public.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT '41' $$;
CREATE FUNCTION public.pg_has_role(name, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT timestamptz '1999-01-01' $$;
CREATE FUNCTION pg_temp.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ SELECT 0::numeric $$;
CREATE TEMP TABLE companies (id bigint, name text);
INSERT INTO companies VALUES (41, 'decoy');
SET search_path = public, pg_temp, pg_catalog;
-- The look-alikes work for the user's own unqualified calls ...
SELECT round(1.5, 0) AS evil_round, 1::bigint = 1::bigint AS evil_equals;
-- ... and change nothing inside the extension.
SELECT billing.usage_current(42, '2025-06-20') = :'honest_usage'::jsonb AS usage_unchanged;
SELECT billing.period_csv((SELECT id FROM billing.billing_periods WHERE company_id OPERATOR(pg_catalog.=) 42)) OPERATOR(pg_catalog.=) :'honest_csv' AS csv_unchanged;
SELECT (billing.price('{"pricing_model":"per_minute","base_fee":49,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2}', 687.5, 87)).total_cost OPERATOR(pg_catalog.=) :honest_price AS price_unchanged;
SELECT billing.usage_analytics(NULL, '2025-06-01', '2025-06-30', '2025-06-20') OPERATOR(pg_catalog.=) :'honest_analytics'::jsonb
    AS analytics_unchanged;
SELECT billing.current_company() AS still_own_company;
SELECT month, calls, cost FROM billing.usage_trends(NULL, 2, '2025-06-20');
SELECT "check", ok, detail FROM billing.diagnose(NULL, '2025-06-20') LIMIT 1;
RESET search_path;
\c - postgres
REVOKE CREATE ON SCHEMA public FROM regress_viewer_b;
-- Ingestion in C under the same search_path, as an administrator: record_appointment links the
-- call whose external id is the one given, not whatever a look-alike = would admit, and the
-- evil = on bigint does not make an unknown call or company look known.
INSERT INTO billing.companies (id, name, timezone) VALUES (4242, 'Hostile path GmbH', 'UTC');
SELECT billing.record_call(4242, 'hostile-call-' || i, '2025-06-10 09:00+00'::timestamptz + i * interval '1 minute', 60, 'completed')
  FROM generate_series(1, 3) AS i;
SET search_path = public, pg_temp, pg_catalog;
SELECT billing.record_appointment(4242, 'hostile-appt-0', '2025-06-10 10:00+00', 'booked', 'no-such-call');
SELECT billing.record_appointment(4243, 'hostile-appt-0', '2025-06-10 10:00+00', 'booked', 'hostile-call-1');
SELECT billing.record_appointment(4242, 'hostile-appt-2', '2025-06-10 10:00+00', 'booked', 'hostile-call-2') AS linked;
SELECT pg_catalog.count(*) AS profile_differences FROM billing.verify_usage_profile(4242);
RESET search_path;
SELECT c.external_id AS linked_call FROM billing.appointments a JOIN billing.calls c ON c.id = a.call_id
 WHERE a.company_id = 4242;
DELETE FROM billing.appointments WHERE company_id = 4242;
DELETE FROM billing.calls WHERE company_id = 4242;
DELETE FROM billing.usage_daily WHERE company_id = 4242;
DELETE FROM billing.usage_profile WHERE company_id = 4242;
DELETE FROM billing.companies WHERE id = 4242;
