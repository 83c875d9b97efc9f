-- Attacks on a running installation, from the sides of a viewer, the application, an
-- administrator and a role with no billing role. Every row of attack.results must hold.
\set ON_ERROR_STOP on
\i test/attacks/harness.sql
CREATE FUNCTION attack.error_text(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
GRANT USAGE ON SCHEMA attack TO PUBLIC;
GRANT EXECUTE ON FUNCTION attack.error_text(text) TO PUBLIC;

DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['atk_viewer_a', 'atk_viewer_b', 'atk_app', 'atk_admin', 'atk_outsider', 'Mixed Case'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('DROP OWNED BY %I', r);
            EXECUTE format('DROP ROLE %I', r);
        END IF;
    END LOOP;
END $$;
CREATE ROLE atk_viewer_a LOGIN IN ROLE billing_viewer;
CREATE ROLE atk_viewer_b LOGIN IN ROLE billing_viewer;
CREATE ROLE "Mixed Case" LOGIN IN ROLE billing_viewer;
CREATE ROLE atk_app LOGIN IN ROLE billing_app;
CREATE ROLE atk_admin LOGIN IN ROLE billing_admin;
CREATE ROLE atk_outsider LOGIN;

INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Alpha', 'Europe/Berlin'), (2, 'Beta', 'America/New_York');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute, valid_from)
VALUES (1, 'per_minute', 10, 5, 0.5, '2025-01-01'), (2, 'per_minute', 20, 5, 0.5, '2025-01-01');
SELECT count(*) FROM (SELECT billing.record_call(c, 'call-' || c || '-' || i, '2025-05-10 12:00+00'::timestamptz + i * interval '1 hour', 300, 'completed')
                        FROM generate_series(1, 2) c, generate_series(1, 5) i) x;
SELECT billing.record_call(1, 'k;=1+1', '2025-06-05 12:00+00', 60, 'completed'),
       billing.record_call(1, 'a,=HYPERLINK("x")', '2025-06-05 13:00+00', 60, 'completed');
SELECT billing.ensure_periods('2025-06-20');
SELECT (billing.close_period(p.id, '2025-06-02')).number FROM billing.billing_periods p WHERE p.start_date = '2025-05-01' ORDER BY p.company_id;
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default)
VALUES (1, 'pm_a', 'visa', '4242', 1, 2030, true), (2, 'pm_b', 'visa', '1111', 1, 2030, true);
SELECT billing.grant_company_access('atk_viewer_a', 1), billing.grant_company_access('atk_viewer_b', 2),
       billing.grant_company_access('"Mixed Case"', 1);
SELECT id AS beta_period FROM billing.billing_periods WHERE company_id = 2 AND start_date = '2025-05-01' \gset
SELECT id AS alpha_june FROM billing.billing_periods WHERE company_id = 1 AND start_date = '2025-06-01' \gset
SELECT id AS beta_open FROM billing.billing_periods WHERE company_id = 2 AND start_date = '2025-06-01' \gset
SELECT id AS beta_invoice FROM billing.invoices WHERE company_id = 2 \gset
SELECT id AS beta_method FROM billing.payment_methods WHERE company_id = 2 \gset
\set beta_period_text '''' :beta_period ''''

-- Views: each applies the caller's row level security.
SELECT attack.attack('period_usage as a viewer shows no other company', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.period_usage WHERE company_id <> 1', 'value:0');
SELECT attack.attack('period_usage as the app with another company', 'atk_app', '1', 'SELECT count(*) FROM billing.period_usage WHERE company_id <> 1', 'value:0');
SELECT attack.attack('period_usage as the app with no company', 'atk_app', NULL, 'SELECT count(*) FROM billing.period_usage', 'value:0');
SELECT attack.attack('every view of the extension runs as the caller', 'atk_admin', NULL,
    $$SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind = 'v' AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false)$$, 'value:0');
SELECT attack.attack('usage_daily of another company as a viewer', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.usage_daily WHERE company_id = 2', 'value:0');
SELECT attack.attack('usage_profile of another company as a viewer', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.usage_profile WHERE company_id = 2', 'value:0');
SELECT attack.attack('usage_profile of another company as the app', 'atk_app', '1', 'SELECT count(*) FROM billing.usage_profile WHERE company_id = 2', 'value:0');
SELECT attack.attack('another company''s analytics as a viewer', 'atk_viewer_a', NULL, $$SELECT billing.usage_analytics(2, '2025-05-01', '2025-05-31', '2025-06-20')$$, '42501');
SELECT attack.attack('analytics body called directly for another company', 'atk_viewer_a', NULL, $$SELECT billing._usage_analytics_impl(2, '2025-05-01', '2025-05-31', '2025-06-20')$$, '42501');
SELECT attack.attack('a viewer recomputes every company''s call profile', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.raw_usage_profile(NULL)', '42501');
SELECT attack.attack('the app verifies every company''s call profile', 'atk_app', '1', 'SELECT count(*) FROM billing.verify_usage_profile()', '42501');
SELECT attack.attack('the app writes the call profile', 'atk_app', '1', $$UPDATE billing.usage_profile SET completed_seconds = 0 RETURNING 1$$, '42501');
SELECT attack.attack('a viewer inserts a call profile row', 'atk_viewer_a', NULL, $$INSERT INTO billing.usage_profile VALUES (1, '2025-05-10', 9, '{}', '{}', '{}', 0)$$, '42501');

-- Alerts: the webhook and its secret, budgets, the outbox, other companies' alerts, forged or
-- resolved alerts, the exact check and the spend cap.
INSERT INTO billing.alert_settings (company_id, monthly_budget, webhook_url)
VALUES (1, 10.00, 'http://127.0.0.1:9/one'), (2, 10.00, 'http://127.0.0.1:9/two');
SELECT attack.attack('a viewer reads its webhook secret', 'atk_viewer_a', NULL, 'SELECT webhook_secret FROM billing.alert_settings', '42501');
SELECT attack.attack('a viewer reads its webhook URL', 'atk_viewer_a', NULL, 'SELECT webhook_url FROM billing.alert_settings', '42501');
SELECT attack.attack('a viewer reads another company''s budget', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.alert_settings WHERE company_id = 2', 'value:0');
SELECT attack.attack('a viewer reads another company''s alerts', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.alerts WHERE company_id = 2', 'value:0');
SELECT attack.attack('another company''s alerts through company_alerts', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.company_alerts(2)', '42501');
SELECT attack.attack('the alerts body called directly for another company', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing._company_alerts_impl(2, 20)', '42501');
SELECT attack.attack('another company''s budget card', 'atk_viewer_a', NULL, 'SELECT billing.budget_status(2)', '42501');
SELECT attack.attack('the app reads another company''s alerts', 'atk_app', '1', 'SELECT count(*) FROM billing.alerts WHERE company_id = 2', 'value:0');
SELECT attack.attack('the app forges an alert', 'atk_app', '1', $$INSERT INTO billing.alerts (company_id, period_start, period_end, kind, threshold, state, value, fired_at) VALUES (1, '2025-05-01', '2025-05-31', 'budget', 50, 'firing', 50, now()) RETURNING 1$$, '42501');
SELECT attack.attack('the app resolves an alert', 'atk_app', '1', $$UPDATE billing.alerts SET state = 'resolved' RETURNING 1$$, '42501');
SELECT attack.attack('the app raises a budget', 'atk_app', '1', 'UPDATE billing.alert_settings SET monthly_budget = 1000000 RETURNING 1', '42501');
SELECT attack.attack('the app points a webhook elsewhere', 'atk_app', '1', $$UPDATE billing.alert_settings SET webhook_url = 'http://attacker.example/' RETURNING 1$$, '42501');
SELECT attack.attack('the app forges an outbox event', 'atk_app', '1', $$INSERT INTO billing.alert_events (company_id, alert_id, event, created_at, body) SELECT 1, id, 'alert.fired', now(), '{}' FROM billing.alerts LIMIT 1 RETURNING 1$$, '42501');
SELECT attack.attack('the app runs the exact check', 'atk_app', '1', 'SELECT billing.evaluate_alerts(1)', '42501');
SELECT attack.attack('a viewer asks the spend cap', 'atk_viewer_a', NULL, 'SELECT allowed FROM billing.can_consume(1, 5)', '42501');
SELECT attack.attack('a viewer lists due webhooks with their secrets', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.due_webhooks()', '42501');
SELECT attack.attack('a viewer reports a webhook delivered', 'atk_viewer_a', NULL, 'SELECT billing.webhook_attempted(1, true)', '42501');
SELECT attack.attack('an outsider reads the outbox', 'atk_outsider', NULL, 'SELECT count(*) FROM billing.alert_events', '42501');
SELECT attack.attack('an outsider reads the alerts', 'atk_outsider', NULL, 'SELECT count(*) FROM billing.alerts', '42501');
SELECT attack.attack('the check trigger called as a function', 'atk_admin', NULL, 'SELECT billing._check_alerts()', 'error');

-- Internal functions: no group role may execute any of them.
SELECT attack.attack('no internal function executable by billing_viewer', 'atk_admin', NULL,
    $$SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.proname LIKE '\_%' AND p.prorettype <> 'trigger'::regtype AND has_function_privilege('billing_viewer', p.oid, 'EXECUTE')$$, 'value:0');
SELECT attack.attack('no internal function executable by billing_app', 'atk_admin', NULL,
    $$SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.proname LIKE '\_%' AND p.prorettype <> 'trigger'::regtype AND has_function_privilege('billing_app', p.oid, 'EXECUTE')$$, 'value:0');
SELECT attack.attack('no internal function executable by billing_admin', 'atk_admin', NULL,
    $$SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.proname LIKE '\_%' AND p.prorettype <> 'trigger'::regtype AND has_function_privilege('billing_admin', p.oid, 'EXECUTE')$$, 'value:0');
SELECT attack.attack('trends body called directly for another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing._usage_trends_impl(2, 6, '2025-06-20')$$, '42501');
SELECT attack.attack('CSV body called directly (no audit, no limit)', 'atk_viewer_a', NULL, format('SELECT count(*) FROM billing._period_csv_lines_impl(%s, %L)', :beta_period, 'call'), '42501');
SELECT attack.attack('diagnose body called directly', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing._diagnose_impl(1, now())$$, '42501');
SELECT attack.attack('history body called directly by the app', 'atk_app', '1', $$SELECT count(*) FROM billing._billing_history_impl(2)$$, '42501');
SELECT attack.attack('close_period body called directly by an admin', 'atk_admin', NULL, format('SELECT (billing._close_period_impl(%s, now())).id', :beta_open), '42501');
SELECT attack.attack('forged audit entry through _record_read', 'atk_viewer_a', NULL, $$SELECT billing._record_read(2, 'usage_current', 'viewer:atk_viewer_b')$$, '42883');
SELECT attack.attack('company row through _company', 'atk_viewer_a', NULL, $$SELECT (billing._company(2, NULL)).name$$, '42883');
SELECT attack.attack('unaudited document through _usage', 'atk_viewer_a', NULL, $$SELECT billing._usage(1, now(), false, NULL)$$, '42883');
SELECT attack.attack('cluster counters through _runtime_status', 'atk_viewer_a', NULL, $$SELECT (billing._runtime_status()).audit_queued$$, '42883');

-- Another company through the API.
SELECT attack.attack('usage_current of another company', 'atk_viewer_a', NULL, $$SELECT billing.usage_current(2, '2025-06-20')$$, '42501');
SELECT attack.attack('usage_projection of another company', 'atk_viewer_a', NULL, $$SELECT billing.usage_projection(2, '2025-06-20')$$, '42501');
SELECT attack.attack('usage_trends of another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.usage_trends(2, 6, '2025-06-20')$$, '42501');
SELECT attack.attack('billing_history of another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.billing_history(2)$$, '42501');
SELECT attack.attack('period_detail of another company', 'atk_viewer_a', NULL, format('SELECT billing.period_detail(%s)', :beta_period), '42501');
SELECT attack.attack('period_csv of another company', 'atk_viewer_a', NULL, format('SELECT billing.period_csv(%s)', :beta_period), '42501');
SELECT attack.attack('period_csv_lines of another company', 'atk_viewer_a', NULL, format('SELECT count(*) FROM billing.period_csv_lines(%s)', :beta_period), '42501');
SELECT attack.attack('upcoming_charges of another company', 'atk_viewer_a', NULL, $$SELECT (billing.upcoming_charges(2, '2025-06-20')).projected_total$$, '42501');
SELECT attack.attack('payment methods of another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.company_payment_methods(2)$$, '42501');
SELECT attack.attack('diagnose of another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.diagnose(2, '2025-06-20')$$, '42501');
SELECT attack.attack('resolve_company of another company', 'atk_viewer_a', NULL, $$SELECT billing.resolve_company(2)$$, '42501');
SELECT attack.attack('a viewer setting billing.company_id changes nothing', 'atk_viewer_a', '2', $$SELECT billing.current_company()$$, 'value:1');
SELECT attack.attack('period_totals of another company shows nothing', 'atk_viewer_a', NULL, $$SELECT calls FROM billing.period_totals(2, '2025-05-01', '2025-05-31')$$, 'value:0');
SELECT attack.attack('plan_for_period of another company shows nothing', 'atk_viewer_a', NULL, $$SELECT (billing.plan_for_period(2, '2025-05-01', '2025-05-31')).id$$, 'value:<null>');
SELECT attack.attack('the app with company 1 asks for company 2', 'atk_app', '1', $$SELECT billing.usage_current(2, '2025-06-20')$$, '42501');
SELECT attack.attack('the app with company 1 asks for a period of company 2', 'atk_app', '1', format('SELECT billing.period_detail(%s)', :beta_period), '42501');
SELECT attack.attack('the app without a company asks for company 2', 'atk_app', NULL, $$SELECT billing.usage_current(2, '2025-06-20')$$, '42501');
SELECT attack.attack('the app with a session-level company', 'atk_app', NULL, $$SELECT set_config('billing.company_id', '1', false) || billing.current_company()::text$$, '42501');
SELECT attack.attack('a role without billing role reads usage', 'atk_outsider', NULL, $$SELECT billing.usage_current(1, '2025-06-20')$$, '42501');
SELECT attack.attack('a role without billing role reads calls', 'atk_outsider', NULL, $$SELECT count(*) FROM billing.calls$$, '42501');
SELECT attack.attack('a viewer reads calls of another company', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.calls WHERE company_id = 2$$, 'value:0');
SELECT attack.attack('a viewer turns row_security off', 'atk_viewer_a', NULL, $$SELECT set_config('row_security', 'off', true) || (SELECT count(*) FROM billing.calls)::text$$, '42501');
SELECT attack.attack('the app changes another company''s payment method', 'atk_app', '1', $$WITH u AS (UPDATE billing.payment_methods SET brand = 'x' WHERE company_id = 2 RETURNING 1) SELECT count(*) FROM u$$, 'value:0');
SELECT attack.attack('the app adds a payment method to another company', 'atk_app', '1', $$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year) VALUES (2, 'pm_x', 'visa', '0000', 1, 2030) RETURNING id$$, '42501');

-- Existence oracles: a foreign id and an unknown id give the same error.
SELECT attack.attack('period_detail: foreign and unknown period look alike', 'atk_viewer_a', NULL,
    format($q$SELECT attack.error_text('SELECT billing.period_detail(%s)') = replace(attack.error_text('SELECT billing.period_detail(999999)'), '999999', '%s')$q$, :beta_period, :beta_period), 'value:true');
SELECT attack.attack('period_csv: foreign and unknown period look alike', 'atk_viewer_a', NULL,
    format($q$SELECT attack.error_text('SELECT billing.period_csv(%s)') = replace(attack.error_text('SELECT billing.period_csv(999999)'), '999999', '%s')$q$, :beta_period, :beta_period), 'value:true');
SELECT attack.attack('usage_current: foreign and unknown company look alike', 'atk_viewer_a', NULL,
    $q$SELECT attack.error_text('SELECT billing.usage_current(2)') = replace(attack.error_text('SELECT billing.usage_current(999999)'), '999999', '2')$q$, 'value:true');
SELECT attack.attack('the app: foreign and unknown company look alike', 'atk_app', '1',
    $q$SELECT attack.error_text('SELECT billing.billing_history(2)') = replace(attack.error_text('SELECT billing.billing_history(999999)'), '999999', '2')$q$, 'value:true');
SELECT attack.attack('the app: foreign and unknown payment method look alike', 'atk_app', '1',
    format($q$SELECT attack.error_text('SELECT billing.set_default_payment_method(%s)') = replace(attack.error_text('SELECT billing.set_default_payment_method(999999)'), '999999', '%s')$q$, :beta_method, :beta_method), 'value:true');

-- Issued billing records.
SELECT attack.attack('an admin adds a line to an issued invoice', 'atk_admin', NULL,
    format($q$INSERT INTO billing.invoice_lines (invoice_id, company_id, line_number, kind, description, quantity, amount, billed_period_id) VALUES (%s, 2, 99, 'minutes', 'x', 1, -100, %s) RETURNING id$q$, :beta_invoice, :beta_period), '42501');
SELECT attack.attack('an admin writes an invoice by hand', 'atk_admin', NULL,
    format($q$INSERT INTO billing.invoices (company_id, billing_period_id, number, issued_at, due_date, currency, total) VALUES (2, %s, 'FAKE-1', now(), current_date, 'EUR', 1) RETURNING id$q$, :beta_open), '42501');
SELECT attack.attack('an admin sets status_changed_at by hand', 'atk_admin', NULL, format('UPDATE billing.invoices SET status_changed_at = now() WHERE id = %s RETURNING id', :beta_invoice), '42501');
SELECT attack.attack('an admin changes an invoice total', 'atk_admin', NULL, format('UPDATE billing.invoices SET total = 0 WHERE id = %s RETURNING id', :beta_invoice), '42501');
SELECT attack.attack('an admin deletes invoice lines', 'atk_admin', NULL, 'DELETE FROM billing.invoice_lines RETURNING id', '55000');
SELECT attack.attack('an admin truncates invoice lines', 'atk_admin', NULL, 'TRUNCATE billing.invoice_lines', 'error');
SELECT attack.attack('an admin closes a period without an invoice', 'atk_admin', NULL, format($q$UPDATE billing.billing_periods SET status = 'closed', closed_at = now() WHERE id = %s RETURNING id$q$, :beta_open), '42501');
SELECT attack.attack('an admin inserts a closed period', 'atk_admin', NULL, $q$INSERT INTO billing.billing_periods (company_id, start_date, end_date, status, closed_at) VALUES (2, '2030-01-01', '2030-01-31', 'closed', now()) RETURNING id$q$, '42501');
SELECT attack.attack('mark_invoice still changes the status', 'atk_admin', NULL, format($q$SELECT (billing.mark_invoice(%s, 'paid')).status$q$, :beta_invoice), 'value:paid');

-- Mappings, settings and the audit.
SELECT attack.attack('a viewer sees its own mapping only', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.viewer_companies', 'value:1');
SELECT attack.attack('a viewer maps itself to another company', 'atk_viewer_a', NULL, $$INSERT INTO billing.viewer_companies (role, company_id) VALUES ('atk_viewer_a', 2) RETURNING 1$$, '42501');
SELECT attack.attack('a quoted role name maps the real role', 'Mixed Case', NULL, $$SELECT billing.current_company()$$, 'value:1');
SELECT attack.attack('a viewer writes the audit log', 'atk_viewer_a', NULL, $$INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, function_name) VALUES (now(), 2, 'x', 'x', 'x') RETURNING id$$, '42501');
SELECT attack.attack('a viewer switches the audit off', 'atk_viewer_a', NULL, $$SELECT set_config('billing.audit', 'off', true)$$, '42501');
SELECT attack.attack('a viewer lifts its rate limit', 'atk_viewer_a', NULL, $$SELECT set_config('billing.viewer_rate_limit', '0', true)$$, '42501');
SELECT attack.attack('the app switches the audit off', 'atk_app', '1', $$SELECT set_config('billing.audit', 'off', true)$$, '42501');
SELECT attack.attack('a viewer sees no cluster counters', 'atk_viewer_a', NULL, $$SELECT (audit_queued IS NULL AND audit_written IS NULL AND rate_limit_keys IS NULL AND token_failures IS NULL)::text FROM billing.runtime_status()$$, 'value:true');
SELECT attack.attack('diagnose shows a viewer no counters', 'atk_viewer_a', NULL, $$SELECT bool_or(detail LIKE '%queued%' OR detail LIKE '%keys tracked%')::text FROM billing.diagnose(NULL, '2025-06-20')$$, 'value:false');
SELECT attack.attack('the app exhausts a viewer''s limit through throttle()', 'atk_app', NULL,
    $$SELECT count(*) FILTER (WHERE billing.throttle(k, 1)) FROM unnest(ARRAY['viewer:atk_viewer_b', 'viewer:' || 'atk_viewer_b'::regrole::oid, 'atk_viewer_b']) k, generate_series(1, 50)$$, 'value:3');
SELECT attack.attack('... and the viewer still reads', 'atk_viewer_b', NULL, $$SELECT (billing.usage_current(NULL, '2025-06-20') IS NOT NULL)::text$$, 'value:true');

-- Writes and administration.
SELECT attack.attack('a viewer records a call', 'atk_viewer_a', NULL, $$SELECT billing.record_call(1, 'x', now(), 1, 'completed')$$, '42501');
SELECT attack.attack('the app creates periods', 'atk_app', '1', $$SELECT billing.ensure_periods()$$, '42501');
SELECT attack.attack('the app maps a viewer', 'atk_app', '1', $$SELECT billing.grant_company_access('atk_viewer_a', 2)$$, '42501');
SELECT attack.attack('a viewer rebuilds the rollup', 'atk_viewer_a', NULL, $$SELECT billing.rebuild_usage_daily(1)$$, '42501');
SELECT attack.attack('the app writes the rollup', 'atk_app', '1', $$UPDATE billing.usage_daily SET calls = 0 RETURNING 1$$, '42501');

-- CSV cells a spreadsheet would split and run as a formula.
SELECT attack.attack('a ;= inside a cell starts no formula', 'atk_viewer_a', NULL, format($q$SELECT (billing.period_csv(%s) ~ '[;,]=')::text$q$, :alpha_june), 'value:false');

-- Role changes, settings and DDL.
SELECT attack.attack('the app smuggles SQL into its company setting', 'atk_app', '1 OR true', $$SELECT billing.usage_current(NULL, '2025-06-20')$$, '22P02');
SELECT attack.attack('the app sets a negative company', 'atk_app', '-2', $$SELECT billing.usage_current(NULL, '2025-06-20')$$, '22P02');
SELECT attack.attack('the app sets a company id beyond bigint', 'atk_app', '99999999999999999999', $$SELECT billing.current_company()$$, '22P02');
SELECT attack.attack('a viewer asks for an infinite as_of', 'atk_viewer_a', NULL, $$SELECT billing.usage_trends(NULL, 6, 'infinity')$$, '22008');
SELECT attack.attack('a viewer exports a NULL period', 'atk_viewer_a', NULL, $$SELECT count(*) FROM billing.period_csv_lines(NULL)$$, '22004');
SELECT attack.attack('a viewer switches row level security off on calls', 'atk_viewer_a', NULL, 'ALTER TABLE billing.calls DISABLE ROW LEVEL SECURITY', '42501');
SELECT attack.attack('the app lifts FORCE on calls', 'atk_app', '1', 'ALTER TABLE billing.calls NO FORCE ROW LEVEL SECURITY', '42501');
SELECT attack.attack('the app adds a trigger to calls', 'atk_app', '1', 'CREATE TRIGGER t BEFORE INSERT ON billing.calls FOR EACH ROW EXECUTE FUNCTION billing._refuse_change()', '42501');
SELECT attack.attack('an admin drops a company policy', 'atk_admin', NULL, 'DROP POLICY calls_company ON billing.calls', '42501');
SELECT attack.attack('an admin grants itself an internal body', 'atk_admin', NULL, 'GRANT EXECUTE ON FUNCTION billing._close_period_impl(bigint, timestamptz) TO billing_admin', 'error');
SELECT attack.attack('an admin replaces an API function', 'atk_admin', NULL, $$CREATE OR REPLACE FUNCTION billing.usage_current(company bigint, as_of timestamptz) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb'$$, '42501');
SELECT attack.attack('a viewer creates a function in the billing schema', 'atk_viewer_a', NULL, $$CREATE FUNCTION billing.x() RETURNS int LANGUAGE sql AS 'SELECT 1'$$, '42501');
SELECT attack.attack('a viewer''s cursor over calls sees its company only', 'atk_viewer_a', NULL,
    $$SELECT count(*) FROM (SELECT company_id FROM billing.calls) c WHERE c.company_id <> 1$$, 'value:0');

-- API tokens: nobody but an administrator sees or changes them; nothing but the secret opens one.
SELECT token_id AS atk_token_id, token AS atk_token FROM billing.create_api_token(1, 'attacks', 'anna') \gset
SELECT encode(secret_hash, 'hex') AS atk_token_hash FROM billing.api_tokens WHERE id = :atk_token_id \gset
SELECT attack.attack('a viewer verifies a token', 'atk_viewer_a', NULL, format('SELECT billing.authenticate_token(%L)', :'atk_token'), '42501');
SELECT attack.attack('a role without a billing role verifies a token', 'atk_outsider', NULL, format('SELECT billing.authenticate_token(%L)', :'atk_token'), '42501');
SELECT attack.attack('the app reads the token hashes', 'atk_app', '1', 'SELECT count(*) FROM billing.api_tokens', '42501');
SELECT attack.attack('a viewer reads the token hashes', 'atk_viewer_a', NULL, 'SELECT count(*) FROM billing.api_tokens', '42501');
SELECT attack.attack('the app creates a token for its company', 'atk_app', '1', $$SELECT billing.create_api_token(1, 'mine')$$, '42501');
SELECT attack.attack('the app revokes a token', 'atk_app', '1', format('SELECT billing.revoke_api_token(%s)', :atk_token_id), '42501');
SELECT attack.attack('the app lifts a revocation', 'atk_app', '1', 'UPDATE billing.api_tokens SET revoked_at = NULL RETURNING 1', '42501');
SELECT attack.attack('the app writes an audit row for a token', 'atk_app', '1',
    $$INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, function_name, api_token_id) VALUES (now(), 1, 'x', 'x', 'usage_current', 1)$$, '42501');
SELECT attack.attack('the stored hash is no secret', 'atk_app', '1', format('SELECT billing.authenticate_token(%L)', :atk_token_id || '|' || :'atk_token_hash'), '28000');
SELECT attack.attack('SQL in a token', 'atk_app', '1', format('SELECT billing.authenticate_token(%L)', :atk_token_id || $q$|' OR '1'='1' OR 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$q$), '28000');
SELECT attack.attack('a token''s id with another token''s secret length of zeros', 'atk_app', '1', format('SELECT billing.authenticate_token(%L)', :atk_token_id || '|' || repeat('0', 48)), '28000');
SELECT attack.attack('the right token opens its company only', 'atk_app', '1', format('SELECT company_id::text FROM billing.authenticate_token(%L)', :'atk_token'), 'value:1');

SELECT n, held, name, expected, got FROM attack.results WHERE NOT held ORDER BY n;
SELECT count(*) FILTER (WHERE held) AS held, count(*) FILTER (WHERE NOT held) AS broken FROM attack.results \gset
\echo runtime attacks: :held held, :broken broken
