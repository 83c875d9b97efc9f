-- Company scope, roles, row level security, audit and rate limiting (docs/design.md).
-- Runs as a superuser that switches to test roles; the suite's cluster preloads the library
-- with billing.database = contrib_regression, so the audit writer fills this database's log.
\set VERBOSITY terse
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['regress_viewer_a', 'regress_viewer_b', 'regress_app', 'regress_admin', 'regress_outsider'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('DROP OWNED BY %I', role_name);
            EXECUTE format('DROP ROLE %I', role_name);
        END IF;
    END LOOP;
END
$$;

-- The extension created its three group roles, NOLOGIN.
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname LIKE 'billing\_%' ORDER BY 1;
-- Tables are owned by the installing role, not by a role applications use; RLS is forced everywhere.
-- (The monthly partitions are in test partitions.)
SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind IN ('r', 'p')
   AND c.relname !~ '_[0-9]{4}_[0-9]{2}$' ORDER BY 1;

-- Two companies with data; login roles for each kind of user.
INSERT INTO billing.companies (id, name, timezone) VALUES (41, 'Alpha Praxis', 'Europe/Berlin'), (42, 'Beta Secret GmbH', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (41, 'combined', 0.10, 2.00, '2025-01-01'), (42, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (41, '2025-06-01', '2025-06-30'), (42, '2025-06-01', '2025-06-30');
SELECT count(*) FILTER (WHERE billing.record_call(c, 'call-' || c || '-' || i, '2025-06-02 10:00+02'::timestamptz + i * interval '1 hour', 60 * c, 'completed'))
  FROM generate_series(1, 5) AS i, (VALUES (41), (42)) AS t(c);
SELECT billing.record_call(42, 'beta-secret-caller', '2025-06-03 10:00+02', 60, 'completed');
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default)
VALUES (41, 'pm_alpha', 'visa', '4242', 1, 2030, true), (42, 'pm_beta', 'amex', '0005', 1, 2030, true);

CREATE ROLE regress_viewer_a LOGIN IN ROLE billing_viewer;
CREATE ROLE regress_viewer_b LOGIN IN ROLE billing_viewer;
CREATE ROLE regress_app LOGIN IN ROLE billing_app;
CREATE ROLE regress_admin LOGIN IN ROLE billing_admin;
CREATE ROLE regress_outsider LOGIN;
SELECT billing.grant_company_access('regress_viewer_a', 41);
SELECT billing.grant_company_access('regress_viewer_a', 41);  -- idempotent
SELECT regress.error_of($$SELECT billing.grant_company_access('regress_viewer_a', 42)$$);
SELECT regress.error_of($$SELECT billing.grant_company_access('regress_app', 41)$$);
SELECT regress.error_of($$SELECT billing.grant_company_access('regress_outsider', 41)$$);
SELECT regress.error_of($$SELECT billing.grant_company_access('regress_viewer_b', 999)$$);
SELECT regress.error_of($$SELECT billing.grant_company_access('no_such_role', 41)$$);
SELECT billing.grant_company_access('regress_viewer_b', 42);
SELECT billing.revoke_company_access('regress_viewer_b', 42), billing.revoke_company_access('regress_viewer_b', 42);
GRANT USAGE ON SCHEMA regress TO PUBLIC;
GRANT EXECUTE ON FUNCTION regress.error_of(text) TO PUBLIC;

------------------------------------------------------------------------------------------
-- The viewer of company 41 tries every way to see company 42.
\c - regress_viewer_a
SELECT current_user, billing.current_company();
-- Its own company, by NULL or by its id.
SELECT billing.usage_current(NULL, '2025-06-20') -> 'calls' -> 'total' AS own_calls,
       billing.usage_current(41, '2025-06-20') -> 'calls' -> 'total' AS own_calls_by_id;
-- Another company's id and an unknown id: the same error, naming nothing but the id.
SELECT regress.error_of($$SELECT billing.usage_current(42, '2025-06-20')$$);
SELECT regress.error_of($$SELECT billing.usage_current(4242, '2025-06-20')$$);
SELECT regress.error_of($$SELECT billing.usage_projection(42, '2025-06-20')$$);
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(42)$$);
SELECT regress.error_of($$SELECT * FROM billing.billing_history(42)$$);
SELECT regress.error_of($$SELECT * FROM billing.upcoming_charges(42)$$);
SELECT regress.error_of($$SELECT * FROM billing.company_payment_methods(42)$$);
SELECT regress.error_of($$SELECT * FROM billing.diagnose(42)$$);
-- Periods of another company look exactly like periods that do not exist.
SELECT regress.error_of(format('SELECT billing.period_detail(%s)', (SELECT max(id) + 1000 FROM billing.billing_periods)));
SELECT regress.error_of($$SELECT billing.period_detail(2)$$) AS other_period_or_none;
\set beta_period 'SELECT id FROM billing.billing_periods WHERE company_id = 42'
SELECT count(*) AS visible_beta_periods FROM billing.billing_periods WHERE company_id = 42;
-- Settings change nothing.
SET billing.company_id = '42';
SELECT billing.usage_current(NULL, '2025-06-20') -> 'calls' -> 'total' AS still_own_calls;
SELECT set_config('billing.company_id', '42', false) IS NOT NULL AS set, billing.current_company();
BEGIN;
SET LOCAL billing.company_id = '42';
SELECT billing.usage_current(NULL, '2025-06-20') -> 'calls' -> 'total' AS still_own_calls, billing.current_company();
COMMIT;
RESET billing.company_id;
SELECT regress.error_of($$SET billing.viewer_rate_limit = 100000$$);
SELECT regress.error_of($$SET ROLE billing_admin$$);
SELECT regress.error_of($$SET ROLE regress_viewer_b$$);
-- Direct reads, joins and views see company 41 only.
SELECT company_id, count(*) FROM billing.calls GROUP BY 1 ORDER BY 1;
SELECT id, name FROM billing.companies ORDER BY 1;
SELECT count(*) AS joined FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id WHERE c.name LIKE 'Beta%';
SELECT company_id, brand FROM billing.payment_methods ORDER BY 1;
SELECT company_id FROM billing.pricing_plans ORDER BY 1;
CREATE TEMP VIEW my_calls AS SELECT * FROM billing.calls;
SELECT count(*) AS via_view, count(*) FILTER (WHERE company_id = 42) AS beta_via_view FROM my_calls;
-- A leaky function in a WHERE clause only ever sees rows the policy let through.
CREATE TEMP TABLE seen (company_id bigint, external_id text);
CREATE FUNCTION pg_temp.leak(company bigint, external_id text) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$ BEGIN INSERT INTO seen VALUES (company, external_id); RETURN true; END $$;
SELECT count(*) FROM billing.calls k WHERE pg_temp.leak(k.company_id, k.external_id);
SELECT count(*) AS leaked_rows FROM seen WHERE company_id <> 41;
CREATE FUNCTION pg_temp.raise_on(external_id text) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$ BEGIN RAISE EXCEPTION 'saw %', external_id; END $$;
SELECT regress.error_of($$SELECT count(*) FROM billing.calls k WHERE k.external_id = 'beta-secret-caller' AND pg_temp.raise_on(k.external_id)$$);
-- The audit log and the other mappings are out of reach; the own mapping is visible.
SELECT regress.error_of($$SELECT count(*) FROM billing.audit_log$$);
SELECT role, company_id FROM billing.viewer_companies;
-- No writes, no administration.
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) VALUES (41, 'x', now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(41, 'x', now(), 1, 'completed')$$);
SELECT regress.error_of($$UPDATE billing.companies SET name = 'mine' WHERE id = 42$$);
SELECT regress.error_of($$SELECT billing.close_period(1)$$);
SELECT regress.error_of($$SELECT billing.grant_company_access('regress_viewer_a', 42)$$);
SELECT regress.error_of($$SELECT billing._boundary_selftest('live_objects')$$);
-- CSV export of its own period works; of another's, the same error as a missing one.
SELECT left(billing.period_csv((SELECT id FROM billing.billing_periods WHERE company_id = 41)), 55) AS own_csv;
SELECT regress.error_of($$SELECT billing.period_csv(999999)$$);
-- Read-only transactions work (the audit needs no write here).
BEGIN READ ONLY;
SELECT billing.usage_current(NULL, '2025-06-20') ->> 'total_cost' AS read_only_total;
COMMIT;

------------------------------------------------------------------------------------------
-- A role with no billing role gets nothing.
\c - regress_outsider
SELECT regress.error_of($$SELECT billing.usage_current(41)$$);
SELECT regress.error_of($$SELECT count(*) FROM billing.calls$$);
SELECT (billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 10, 1)).total_cost AS pure_functions_stay_public;

------------------------------------------------------------------------------------------
-- The application: one company per transaction, never carried over on a pooled connection.
\c - regress_app
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$);
SELECT count(*) AS rows_without_company FROM billing.calls;
BEGIN;
SET LOCAL billing.company_id = '42';
SELECT billing.usage_current(NULL, '2025-06-20') -> 'calls' -> 'total' AS beta_calls, billing.current_company();
SELECT company_id, count(*) FROM billing.calls GROUP BY 1;
SELECT regress.error_of($$SELECT billing.usage_current(41, '2025-06-20')$$);
COMMIT;
-- The next transaction on the same connection has no company.
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$);
SELECT count(*) AS rows_after_commit FROM billing.calls;
-- A session-level SET is refused, also by row level security.
SET billing.company_id = '42';
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$);
SELECT regress.error_of($$SELECT count(*) FROM billing.calls$$);
SELECT regress.error_of($$SELECT set_config('billing.company_id', '41', false); SELECT billing.current_company()$$);
RESET billing.company_id;
-- set_config(..., true) is transaction-local, like SET LOCAL.
BEGIN;
SELECT set_config('billing.company_id', '41', true) IS NOT NULL AS set_local;
SELECT billing.usage_current(NULL, '2025-06-20') -> 'calls' -> 'total' AS alpha_calls;
COMMIT;
-- SET LOCAL inside a savepoint that is rolled back is gone again.
BEGIN;
SAVEPOINT s;
SET LOCAL billing.company_id = '41';
ROLLBACK TO SAVEPOINT s;
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$);
COMMIT;
-- The application syncs payment methods of its transaction's company only.
BEGIN;
SET LOCAL billing.company_id = '41';
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year)
VALUES (41, 'pm_alpha_2', 'mastercard', '4444', 2, 2031);
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year) VALUES (42, 'pm_x', 'visa', '1111', 2, 2031)$$);
SELECT brand, is_default FROM billing.company_payment_methods();
COMMIT;
-- Its own rate limits, shared by every backend: exactly per_minute calls are admitted.
SELECT count(*) FILTER (WHERE billing.throttle('app-key', 5, '2030-01-01 00:00:00+00')) AS admitted
  FROM generate_series(1, 12);
SELECT billing.throttle('app-key', 5, '2030-01-01 00:00:12+00') AS one_more_after_12_seconds,
       billing.throttle('app-key', 5, '2030-01-01 00:00:12+00') AS but_only_one;
SELECT regress.error_of($$SELECT billing.throttle('k', 0)$$);
SELECT regress.error_of($$SELECT billing.throttle('k', 5, 'infinity')$$);

------------------------------------------------------------------------------------------
-- The administrator manages everything.
\c - regress_admin
SELECT company_id, count(*) FROM billing.calls WHERE company_id IN (41, 42) GROUP BY 1 ORDER BY 1;
SELECT billing.record_call(41, 'admin-call', '2025-06-05 10:00+02', 30, 'completed');
SELECT billing.usage_current(42, '2025-06-20') -> 'calls' -> 'total' AS any_company;

------------------------------------------------------------------------------------------
-- Every API call was audited exactly once, with who, which company, which function (repeated
-- reads within a second share a row and count in `reads`).
\c - postgres
SELECT billing.audit_flush_wait();
SELECT session_user_name, current_user_name, company_id, function_name, sum(reads) AS reads
  FROM billing.audit_log WHERE session_user_name LIKE 'regress%'
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;

-- A viewer beyond its rate limit gets SQLSTATE RL429, with when to retry in the detail.
ALTER ROLE regress_viewer_a SET billing.viewer_rate_limit = 3;
\c - regress_viewer_a
SELECT count(*) FILTER (WHERE regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$) = 'no error') AS admitted
  FROM generate_series(1, 5);
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-20')$$);
\c - postgres
ALTER ROLE regress_viewer_a RESET billing.viewer_rate_limit;
