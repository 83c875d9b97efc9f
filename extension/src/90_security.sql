------------------------------------------------------------------------------------------
-- Security (docs/design.md, "Security model"): row level security and privileges
------------------------------------------------------------------------------------------

-- Row level security on every table, forced (also for the table owner), failing closed.
DO $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY ARRAY['companies', 'pricing_plans', 'billing_periods', 'calls', 'appointments',
                                      'invoices', 'invoice_lines', 'payment_methods', 'viewer_companies', 'audit_log',
                                      'usage_daily', 'usage_profile', 'archived_usage_daily', 'api_tokens',
                                      'plan_catalog', 'call_keys', 'appointment_keys'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I ENABLE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I FORCE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON billing.%I TO billing_admin USING (true) WITH CHECK (true)',
                                  table_name || '_admin', table_name);
    END LOOP;
    -- Viewers and the application read one company: the scalar subquery evaluates the company
    -- once per statement.
    FOREACH table_name IN ARRAY ARRAY['pricing_plans', 'billing_periods', 'calls', 'appointments',
                                      'invoices', 'invoice_lines', 'payment_methods', 'usage_daily',
                                      'usage_profile', 'archived_usage_daily'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY %I ON billing.%I FOR SELECT TO billing_viewer, billing_app '
            'USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()))',
            table_name || '_company', table_name);
    END LOOP;
END
$$;
CREATE POLICY companies_company ON billing.companies FOR SELECT TO billing_viewer, billing_app
    USING (id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
-- The plans on offer are no company's data: viewers and the application read all of them.
CREATE POLICY plan_catalog_read ON billing.plan_catalog FOR SELECT TO billing_viewer, billing_app USING (true);
-- The application keeps payment methods in sync with the payment provider.
CREATE POLICY payment_methods_app_write ON billing.payment_methods FOR ALL TO billing_app
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()))
    WITH CHECK (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
-- A viewer may read its own mapping (the company it already sees), nothing else.
CREATE POLICY viewer_companies_own ON billing.viewer_companies FOR SELECT TO billing_viewer
    USING (role::pg_catalog.oid OPERATOR(pg_catalog.=)
           (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER));

-- Privileges. PUBLIC: the schema's names and the pure functions. Every function whose name
-- starts with "_" stays executable by nobody but its owner (superusers): API functions reach
-- their internal bodies from C, without SQL.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing FROM PUBLIC;
GRANT USAGE ON SCHEMA billing TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    billing.price(jsonb, numeric, numeric), billing.price(text, numeric, numeric),
    billing.price(billing.pricing_plans, numeric, numeric), billing.price_seconds(jsonb, numeric, numeric),
    billing.plan_config(billing.pricing_plans), billing.charge_lines(billing.pricing_plans, text, bigint, bigint),
    billing.csv_record(text[]), billing.is_valid_timezone(text), billing.looks_like_card_number(text),
    billing.local_day_start(date, text), billing.local_day_end(date, text), billing.currency_minor_unit(text),
    billing.add_at(bigint[], integer, integer, bigint), billing.sum_at(integer, integer, bigint),
    billing.add_arrays(bigint[], bigint[]), billing.add_arrays(integer[], integer[]), billing.sum_arrays(bigint[]),
    billing.call_length_bucket(integer),
    billing.call_length_range(integer), billing.call_length_buckets(), billing.median_call_length(bigint[])
    TO PUBLIC;

-- Reading: the dashboard API (audited; see the README) and the scope helpers (not audited: they
-- return what the caller's row level security already lets it select).
GRANT EXECUTE ON FUNCTION
    billing.usage_current(bigint, timestamptz), billing.usage_projection(bigint, timestamptz),
    billing.usage_trends(bigint, integer, timestamptz), billing.upcoming_charges(bigint, timestamptz),
    billing.compare_plans(bigint, integer, timestamptz), billing.usage_forecast(bigint, timestamptz),
    billing.usage_anomalies(bigint, integer, timestamptz), billing.usage_analytics(bigint, date, date, timestamptz),
    billing.billing_history(bigint), billing.period_detail(bigint),
    billing.period_csv(bigint, text), billing.period_csv_lines(bigint, text),
    billing.company_payment_methods(bigint, timestamptz), billing.diagnose(bigint, timestamptz),
    billing.current_company(), billing.resolve_company(bigint), billing.period_for(bigint, date),
    billing.plan_for_period(bigint, date, date), billing.period_totals(bigint, date, date, timestamptz),
    billing.runtime_status()
    TO billing_viewer, billing_app, billing_admin;
GRANT SELECT ON billing.companies, billing.pricing_plans, billing.billing_periods, billing.calls,
    billing.appointments, billing.invoices, billing.invoice_lines, billing.payment_methods,
    billing.usage_daily, billing.usage_profile, billing.archived_usage_daily, billing.period_usage, billing.plan_catalog
    TO billing_viewer, billing_app;
GRANT SELECT ON billing.viewer_companies TO billing_viewer;
GRANT SELECT ON billing.period_usage TO billing_admin;

-- The application: rate limits of its own and payment method sync.
GRANT EXECUTE ON FUNCTION billing.throttle(text, integer, timestamptz),
    billing.throttle_detail(text, integer, timestamptz), billing.authenticate_token(text, timestamptz),
    billing.set_default_payment_method(bigint) TO billing_app, billing_admin;
GRANT INSERT, UPDATE, DELETE ON billing.payment_methods TO billing_app;
GRANT USAGE ON SEQUENCE billing.payment_methods_id_seq TO billing_app;

-- Administration: plans, periods, ingestion, closing, access, the rollup.
GRANT EXECUTE ON FUNCTION
    billing.record_call(bigint, text, timestamptz, integer, text),
    billing.record_calls(bigint, text[], timestamptz[], integer[], text[]),
    billing.record_appointment(bigint, text, timestamptz, text, text),
    billing.ensure_periods(timestamptz), billing.close_period(bigint, timestamptz),
    billing.close_ended_periods(timestamptz),
    billing.mark_invoice(bigint, text, text, timestamptz),
    billing.grant_company_access(regrole, bigint), billing.revoke_company_access(regrole, bigint),
    billing.audit_flush_wait(interval),
    billing.rebuild_usage_daily(bigint), billing.verify_usage_daily(bigint), billing.raw_usage_daily(bigint),
    billing.verify_usage_profile(bigint), billing.raw_usage_profile(bigint),
    billing.archive_calls(date),
    billing.create_api_token(bigint, text, text, text[], timestamptz), billing.revoke_api_token(bigint, timestamptz),
    billing.company_tables(), billing.export_company(bigint)
    TO billing_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA billing TO billing_admin;
REVOKE INSERT, UPDATE, DELETE ON billing.period_usage FROM billing_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA billing TO billing_admin;

-- The default partitions (and every monthly one, as ensure_periods() creates it): the parent's
-- policies, no grants.
SELECT billing._secure_raw_partition('billing.calls_default', 'billing.calls');
SELECT billing._secure_raw_partition('billing.appointments_default', 'billing.appointments');
