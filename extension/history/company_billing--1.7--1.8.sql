-- company_billing 1.7 -> 1.8: usage alerts, budgets, the spend cap and the webhook outbox
-- (extension/src/82_alerts.sql), diagnose()'s webhook_deliveries check, and is_valid_timezone()
-- in C.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.8'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

------------------------------------------------------------------------------------------
-- Alerts, budgets and the spend cap (docs/alerts.md; C: src/pg/alert_check.cpp, rules:
-- src/core/alerts.cpp): thresholds checked at the commit of the usage that crosses them,
-- recorded once per company, threshold and period, with an outbox of events and webhook
-- deliveries for the gateway.
------------------------------------------------------------------------------------------

-- A company's alert configuration. Without a row: 80% and 100% of the included minutes and
-- package appointments, no budget, no cap, no webhook.
CREATE TABLE billing.alert_settings (
    company_id bigint PRIMARY KEY REFERENCES billing.companies (id) ON DELETE CASCADE,
    included_thresholds numeric(7,2)[] NOT NULL DEFAULT '{80,100}'
        CHECK (pg_catalog.cardinality(included_thresholds) <= 10 AND COALESCE(0 < ALL (included_thresholds), false)),
    monthly_budget numeric(14,2) CHECK (monthly_budget > 0),
    budget_thresholds numeric(7,2)[] NOT NULL DEFAULT '{50,80,100}'
        CHECK (pg_catalog.cardinality(budget_thresholds) BETWEEN 1 AND 10 AND COALESCE(0 < ALL (budget_thresholds), false)),
    alert_on_projection boolean NOT NULL DEFAULT true,
    cap_amount numeric(14,2) CHECK (cap_amount >= 0),
    cap_minutes numeric(14,2) CHECK (cap_minutes >= 0),
    webhook_url text CHECK (webhook_url ~ '^https?://[^[:space:]]+$' AND pg_catalog.length(webhook_url) <= 2048),
    -- The key of the webhook signatures (HMAC-SHA256), 244 random bits.
    webhook_secret text NOT NULL DEFAULT 'whsec_' || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '')
                                                  || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', '')
        CHECK (pg_catalog.length(webhook_secret) >= 16)
);
COMMENT ON TABLE billing.alert_settings IS
    'Per company: alert thresholds (percent), monthly budget, spend cap and webhook; defaults without a row';

-- One row per company, period, kind and threshold: its state now.
CREATE TABLE billing.alerts (
    id bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES billing.companies (id) ON DELETE CASCADE,
    period_start date NOT NULL,
    period_end date NOT NULL,
    kind text NOT NULL CHECK (kind IN ('included_minutes', 'included_appointments', 'budget', 'projected_budget')),
    threshold numeric(7,2) NOT NULL,
    state text NOT NULL CHECK (state IN ('firing', 'resolved')),
    value numeric(14,2) NOT NULL,   -- the figure in percent of its reference, when it last changed state
    fired_at timestamptz NOT NULL,
    resolved_at timestamptz,
    times_fired integer NOT NULL DEFAULT 1,
    UNIQUE (company_id, period_start, kind, threshold)
);
COMMENT ON TABLE billing.alerts IS 'Usage alerts: one row per company, period, kind and threshold';

-- The outbox: one event per change of state, written in the transaction of the change.
CREATE TABLE billing.alert_events (
    id bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES billing.companies (id) ON DELETE CASCADE,
    alert_id bigint NOT NULL REFERENCES billing.alerts (id) ON DELETE CASCADE,
    event text NOT NULL CHECK (event IN ('alert.fired', 'alert.resolved')),
    created_at timestamptz NOT NULL,
    body jsonb NOT NULL
);
CREATE INDEX alert_events_company_idx ON billing.alert_events (company_id, id);

-- Webhook deliveries of the events, retried by the gateway (billing.webhook_attempted).
CREATE TABLE billing.webhook_deliveries (
    id bigserial PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES billing.alert_events (id) ON DELETE CASCADE,
    company_id bigint NOT NULL REFERENCES billing.companies (id) ON DELETE CASCADE,
    url text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_status integer,
    last_error text,
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due_idx ON billing.webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- The event's JSON body, as webhooks receive it.
CREATE FUNCTION billing._alert_event_body(event text, alert billing.alerts) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'type', event, 'company_id', alert.company_id,
        'alert', pg_catalog.jsonb_build_object(
            'id', alert.id, 'kind', alert.kind, 'threshold', alert.threshold, 'value', alert.value,
            'state', alert.state, 'times_fired', alert.times_fired,
            'period', pg_catalog.jsonb_build_object('start', alert.period_start, 'end', alert.period_end)),
        'occurred_at', COALESCE(alert.resolved_at, alert.fired_at))
$$;

-- The check at commit: the rollup's rows of the transaction's usage, and a changed setting.
CREATE FUNCTION billing._check_alerts() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_check_alerts';
CREATE CONSTRAINT TRIGGER usage_daily_alerts AFTER INSERT OR UPDATE ON billing.usage_daily
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing._check_alerts();
CREATE CONSTRAINT TRIGGER alert_settings_alerts AFTER INSERT OR UPDATE ON billing.alert_settings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing._check_alerts();
ALTER TABLE billing.usage_daily ENABLE ALWAYS TRIGGER usage_daily_alerts;

-- What the check keeps in shared memory follows the settings, plans, periods and time zones,
-- and a rebuilt rollup: a committed change of them makes it stale.
CREATE FUNCTION billing._alert_settings_changed() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_alert_settings_changed';
CREATE TRIGGER alert_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing.alert_settings
    FOR EACH STATEMENT EXECUTE FUNCTION billing._alert_settings_changed();
CREATE TRIGGER pricing_plans_alerts_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing.pricing_plans
    FOR EACH STATEMENT EXECUTE FUNCTION billing._alert_settings_changed();
CREATE TRIGGER billing_periods_alerts_changed AFTER INSERT OR UPDATE OR DELETE ON billing.billing_periods
    FOR EACH STATEMENT EXECUTE FUNCTION billing._alert_settings_changed();
CREATE TRIGGER companies_alerts_changed AFTER UPDATE OR DELETE ON billing.companies
    FOR EACH STATEMENT EXECUTE FUNCTION billing._alert_settings_changed();
CREATE TRIGGER usage_daily_alerts_changed AFTER DELETE OR TRUNCATE ON billing.usage_daily
    FOR EACH STATEMENT EXECUTE FUNCTION billing._alert_settings_changed();
ALTER TABLE billing.usage_daily ENABLE ALWAYS TRIGGER usage_daily_alerts_changed;

-- The exact check on demand: for a projection that changed with the days (a daily job), or
-- after settings were changed outside a transaction that touched them.
CREATE FUNCTION billing.evaluate_alerts(company bigint, as_of timestamptz DEFAULT pg_catalog.now()) RETURNS void
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_evaluate_alerts';
COMMENT ON FUNCTION billing.evaluate_alerts(bigint, timestamptz) IS
    'Checks the company''s alert thresholds exactly and records every change of state';

-- The spend cap, for call routing: whether a call of `minutes` more keeps the period's total
-- within the company's cap, and what it adds now.
CREATE FUNCTION billing.can_consume(company bigint, minutes numeric, as_of timestamptz DEFAULT pg_catalog.now(),
                                    OUT allowed boolean, OUT reason text, OUT marginal_cost numeric,
                                    OUT total_after numeric, OUT minutes_left numeric, OUT amount_left numeric,
                                    OUT currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_can_consume';
COMMENT ON FUNCTION billing.can_consume(bigint, numeric, timestamptz) IS
    'Whether a call of that many minutes stays within the company''s spend cap, and its marginal cost';

-- The dashboard's budget card: the period's cost so far and projected against the monthly
-- budget, the day the budget runs out at the period's average daily usage, and the cap.
CREATE FUNCTION billing.budget_status(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_budget_status';
COMMENT ON FUNCTION billing.budget_status(bigint, timestamptz) IS
    'The budget card: cost so far and projected against the monthly budget, its run-out day, the spend cap';

-- A company's alerts, newest change first (the dashboard's list): the body of the audited API
-- function below (src/pg/api_call.cpp resolves the company first).
CREATE FUNCTION billing._company_alerts_impl(company bigint, max_rows integer)
RETURNS TABLE (id bigint, period_start date, period_end date, kind text, threshold numeric, state text,
               value numeric, fired_at timestamptz, resolved_at timestamptz, times_fired integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > 1000 THEN
        RAISE EXCEPTION 'max_rows must lie between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT a.id, a.period_start, a.period_end, a.kind, a.threshold, a.state, a.value, a.fired_at, a.resolved_at,
           a.times_fired
      FROM billing.alerts a
     WHERE a.company_id = company
     ORDER BY GREATEST(a.fired_at, COALESCE(a.resolved_at, a.fired_at)) DESC, a.id DESC
     LIMIT max_rows;
END
$$;

CREATE FUNCTION billing.company_alerts(company bigint DEFAULT NULL, max_rows integer DEFAULT 20)
RETURNS TABLE (id bigint, period_start date, period_end date, kind text, threshold numeric, state text,
               value numeric, fired_at timestamptz, resolved_at timestamptz, times_fired integer)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.company_alerts(bigint, integer) IS
    'The company''s usage alerts, newest change first';

-- The gateway's side of the outbox: due deliveries, locked for this transaction (SKIP LOCKED:
-- several gateways share the work), with what a signature needs.
CREATE FUNCTION billing.due_webhooks(max_rows integer DEFAULT 50, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (delivery_id bigint, event_id bigint, company_id bigint, url text, secret text, body text,
               attempts integer)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.id, d.event_id, d.company_id, d.url, s.webhook_secret, e.body::text, d.attempts
      FROM billing.webhook_deliveries d
      JOIN billing.alert_events e ON e.id = d.event_id
      JOIN billing.alert_settings s ON s.company_id = d.company_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= as_of
     ORDER BY d.next_attempt_at, d.id
     LIMIT max_rows
       FOR UPDATE OF d SKIP LOCKED
$$;

-- The outcome of one attempt. A failure is retried after 30 s * 2^(attempt - 1), at most an
-- hour, with up to a quarter of jitter; after 24 hours and at least 10 attempts the delivery is
-- dead (diagnose() reports it).
CREATE FUNCTION billing.webhook_attempted(delivery bigint, delivered boolean, http_status integer DEFAULT NULL,
                                          error text DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    row billing.webhook_deliveries;
    created timestamptz;
    wait interval;
BEGIN
    SELECT * INTO row FROM billing.webhook_deliveries d WHERE d.id = delivery FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'webhook delivery % does not exist', delivery USING ERRCODE = '22023';
    END IF;
    IF row.status <> 'pending' THEN
        RETURN row.status;
    END IF;
    IF delivered THEN
        UPDATE billing.webhook_deliveries d SET status = 'delivered', attempts = d.attempts + 1, last_status = http_status,
               last_error = NULL, delivered_at = as_of WHERE d.id = delivery;
        RETURN 'delivered';
    END IF;
    SELECT e.created_at INTO created FROM billing.alert_events e WHERE e.id = row.event_id;
    wait := LEAST(interval '30 seconds' * power(2, LEAST(row.attempts, 20)), interval '1 hour');
    wait := wait + wait * (random() * 0.25);
    IF as_of - created >= interval '24 hours' AND row.attempts + 1 >= 10 THEN
        UPDATE billing.webhook_deliveries d SET status = 'dead', attempts = d.attempts + 1, last_status = http_status,
               last_error = left(error, 500) WHERE d.id = delivery;
        RETURN 'dead';
    END IF;
    UPDATE billing.webhook_deliveries d SET attempts = d.attempts + 1, last_status = http_status,
           last_error = left(error, 500), next_attempt_at = as_of + wait WHERE d.id = delivery;
    RETURN 'pending';
END
$$;

ALTER TABLE billing.alert_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.alert_settings FORCE ROW LEVEL SECURITY;
ALTER TABLE billing.alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.alerts FORCE ROW LEVEL SECURITY;
ALTER TABLE billing.alert_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.alert_events FORCE ROW LEVEL SECURITY;
ALTER TABLE billing.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY alert_settings_admin ON billing.alert_settings TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY alerts_admin ON billing.alerts TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY alert_events_admin ON billing.alert_events TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY webhook_deliveries_admin ON billing.webhook_deliveries TO billing_admin USING (true) WITH CHECK (true);
-- A viewer reads its company's settings, but not its webhook (column privileges below).
CREATE POLICY alert_settings_company ON billing.alert_settings FOR SELECT TO billing_viewer
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
CREATE POLICY alerts_company ON billing.alerts FOR SELECT TO billing_viewer, billing_app
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
-- The application acts for every company (it sets the company of each transaction): it delivers
-- every company's webhooks, so it reads the events, settings and deliveries of all of them.
CREATE POLICY alert_events_app ON billing.alert_events FOR SELECT TO billing_app USING (true);
CREATE POLICY alert_settings_app ON billing.alert_settings FOR SELECT TO billing_app USING (true);
CREATE POLICY webhook_deliveries_app ON billing.webhook_deliveries TO billing_app USING (true) WITH CHECK (true);
GRANT SELECT ON billing.alerts TO billing_viewer, billing_app;
GRANT SELECT ON billing.alert_events, billing.alert_settings TO billing_app;
GRANT SELECT (company_id, included_thresholds, monthly_budget, budget_thresholds, alert_on_projection, cap_amount,
              cap_minutes) ON billing.alert_settings TO billing_viewer;
GRANT SELECT, UPDATE ON billing.webhook_deliveries TO billing_app;
REVOKE ALL ON FUNCTION billing.evaluate_alerts(bigint, timestamptz), billing.can_consume(bigint, numeric, timestamptz),
    billing.budget_status(bigint, timestamptz),
    billing.company_alerts(bigint, integer), billing.due_webhooks(integer, timestamptz),
    billing.webhook_attempted(bigint, boolean, integer, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.company_alerts(bigint, integer), billing.budget_status(bigint, timestamptz)
    TO billing_viewer, billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.can_consume(bigint, numeric, timestamptz),
    billing.due_webhooks(integer, timestamptz), billing.webhook_attempted(bigint, boolean, integer, text, timestamptz)
    TO billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.evaluate_alerts(bigint, timestamptz) TO billing_admin;

-- Configuration and history: dumped with the extension's tables (pg_dump).
SELECT pg_catalog.pg_extension_config_dump('billing.alert_settings', '');
SELECT pg_catalog.pg_extension_config_dump('billing.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('billing.alerts_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.alert_events', '');
SELECT pg_catalog.pg_extension_config_dump('billing.alert_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.webhook_deliveries', '');
SELECT pg_catalog.pg_extension_config_dump('billing.webhook_deliveries_id_seq', '');

-- What a fresh install's security script grants and revokes for every table and function.
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.alert_settings, billing.alerts, billing.alert_events,
    billing.webhook_deliveries TO billing_admin;
GRANT USAGE ON SEQUENCE billing.alerts_id_seq, billing.alert_events_id_seq, billing.webhook_deliveries_id_seq
    TO billing_admin;
REVOKE ALL ON FUNCTION billing._alert_event_body(text, billing.alerts), billing._check_alerts(),
    billing._alert_settings_changed(), billing._company_alerts_impl(bigint, integer) FROM PUBLIC;

-- is_valid_timezone() in C (extension/src/10_tables.sql): the same answers without reading the
-- zone directory for every name without a "/".
CREATE OR REPLACE FUNCTION billing.is_valid_timezone(name text) RETURNS boolean
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_is_valid_timezone';

-- diagnose(): the webhook_deliveries check (extension/src/70_dashboard.sql).
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
