-- The bad input catalog: every SQL function with NULLs, negative and huge numbers, out-of-range
-- dates, invalid time zones, malformed JSON and unknown ids. Each gives a defined SQLSTATE (or,
-- for STRICT pure functions, NULL), and no call writes anything.
INSERT INTO billing.companies (id, name, timezone) VALUES (601, 'Catalog GmbH', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (601, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (601, '2025-06-01', '2025-06-30');

CREATE TEMP TABLE row_counts_before AS
SELECT 'companies' AS t, count(*) FROM billing.companies UNION ALL SELECT 'pricing_plans', count(*) FROM billing.pricing_plans
UNION ALL SELECT 'billing_periods', count(*) FROM billing.billing_periods UNION ALL SELECT 'calls', count(*) FROM billing.calls
UNION ALL SELECT 'appointments', count(*) FROM billing.appointments UNION ALL SELECT 'invoices', count(*) FROM billing.invoices
UNION ALL SELECT 'invoice_lines', count(*) FROM billing.invoice_lines UNION ALL SELECT 'payment_methods', count(*) FROM billing.payment_methods
UNION ALL SELECT 'viewer_companies', count(*) FROM billing.viewer_companies;

SELECT statement, regress.error_of(statement) AS result
  FROM (VALUES
    -- pricing
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 1e400, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', -1e-20, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":1e999,"per_appointment_rate":2}', 1, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}'::jsonb - 'pricing_model', 1, 1)$$),
    ($$SELECT billing.price('{"pricing_model":null}', 1, 1)$$),
    ($$SELECT billing.price('"per_minute"', 1, 1)$$),
    ($$SELECT billing.price('{}', 1, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2', 1, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":"0x10","per_appointment_rate":2}', 1, 1)$$),
    ($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":"","per_appointment_rate":2}', 1, 1)$$),
    ($$SELECT billing.price_seconds('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', -60, 0)$$),
    ($$SELECT billing.price_seconds('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 'NaN', 0)$$),
    ($$SELECT billing.csv_record(VARIADIC ARRAY[ARRAY['a','b'],ARRAY['c','d']])$$),
    -- ingestion
    ($$SELECT billing.record_call(601, 'x', '294276-12-31 23:59:59+00', 1, 'completed')$$),
    ($$SELECT billing.record_call(601, 'x', '2025-06-02', 2147483647, 'completed')$$),
    ($$SELECT billing.record_call(-1, 'x', '2025-06-02', 1, 'completed')$$),
    ($$SELECT billing.record_call(9223372036854775807, 'x', '2025-06-02', 1, 'completed')$$),
    ($$SELECT billing.record_call(601, E'x\n', '2025-06-02', -2147483648, 'completed')$$),
    ($$SELECT billing.record_appointment(601, 'a', '2025-06-02', 'BOOKED')$$),
    ($$SELECT billing.record_appointment(601, repeat('a', 300), '2025-06-02')$$),
    -- reads
    ($$SELECT billing.usage_current(601, '-infinity')$$),
    ($$SELECT billing.usage_current(601, '4713-01-01 BC')$$),
    ($$SELECT billing.usage_projection(601, '294276-12-31')$$),
    ($$SELECT billing.usage_current(0)$$),
    ($$SELECT billing.usage_current(-9223372036854775808)$$),
    ($$SELECT * FROM billing.usage_trends(601, -1)$$),
    ($$SELECT * FROM billing.usage_trends(601, 2147483647)$$),
    ($$SELECT * FROM billing.usage_trends(601, 6, '1000-01-01')$$),
    ($$SELECT * FROM billing.billing_history(-5)$$),
    ($$SELECT billing.period_detail(-1)$$),
    ($$SELECT billing.period_csv(-1, 'call')$$),
    ($$SELECT billing.period_csv((SELECT id FROM billing.billing_periods WHERE company_id = 601), '')$$),
    ($$SELECT * FROM billing.upcoming_charges(601, 'infinity')$$),
    ($$SELECT * FROM billing.company_payment_methods(601, NULL)$$),
    ($$SELECT * FROM billing.diagnose(601, '-infinity')$$),
    ($$SELECT * FROM billing.period_for(601, '5874897-12-31')$$),
    ($$SELECT * FROM billing.period_for(601, '4713-01-01 BC')$$),
    ($$SELECT * FROM billing.period_totals(601, 'infinity', '2025-01-01')$$),
    ($$SELECT billing.plan_for_period(NULL, NULL, NULL)$$),
    ($$SELECT billing.usage_analytics(601, '2025-06-30', '2025-06-01')$$),
    ($$SELECT billing.usage_analytics(601, '4713-01-01 BC', '2025-06-01')$$),
    ($$SELECT billing.usage_analytics(601, '2025-06-01', '5874897-12-31')$$),
    ($$SELECT billing.usage_analytics(601, NULL, NULL, '-infinity')$$),
    ($$SELECT billing.usage_analytics(-1)$$),
    ($$SELECT billing.call_length_bucket(-2147483648)$$),
    ($$SELECT billing.call_length_range(-1)$$),
    ($$SELECT billing.median_call_length('{}')$$),
    ($$SELECT billing.add_at(NULL, 2147483647, 0, 1)$$),
    ($$SELECT billing.add_at(NULL, 24, -1, 1)$$),
    ($$SELECT billing.add_arrays('{1}'::bigint[], '{-9223372036854775808}')$$),
    -- periods, invoices
    ($$SELECT billing.ensure_periods('-infinity')$$),
    ($$SELECT billing.close_period(-1)$$),
    ($$SELECT billing.close_period((SELECT id FROM billing.billing_periods WHERE company_id = 601), 'infinity')$$),
    ($$SELECT billing.close_period((SELECT id FROM billing.billing_periods WHERE company_id = 601), '2025-06-30 12:00+00')$$),
    ($$SELECT billing.mark_invoice(-1, 'paid')$$),
    ($$SELECT billing.mark_invoice(1, '')$$),
    ($$SELECT billing.mark_invoice(1, NULL)$$),
    -- company data with bad values written directly
    ($$INSERT INTO billing.companies (id, name, timezone) VALUES (602, 'x', 'Europe/Atlantis')$$),
    ($$INSERT INTO billing.companies (id, name, timezone) VALUES (602, 'x', NULL)$$),
    ($$INSERT INTO billing.companies (id, name, timezone) VALUES (602, 'x', 'EST5EDT')$$),
    ($$INSERT INTO billing.companies (id, name, timezone) VALUES (602, 'x', '<+03>-3')$$),
    ($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from) VALUES (601, 'combined', 0.1, 2, 'infinity')$$),
    ($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from) VALUES (601, 'combined', 0.1, 2, '2026-01-01')$$),
    ($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year) VALUES (601, 'pm', 'visa', '1234', 1, 32767)$$),
    -- access and limits
    ($$SELECT billing.grant_company_access(NULL, 601)$$),
    ($$SELECT billing.grant_company_access('postgres', 601)$$),
    ($$SELECT billing.revoke_company_access('postgres', NULL)$$),
    ($$SELECT billing.throttle('k', -1)$$),
    ($$SELECT billing.throttle('k', 2000000)$$),
    ($$SELECT billing.throttle(repeat('k', 100000), 5, '2030-01-01')$$),
    ($$SELECT billing.audit_flush_wait('-1 second')$$)
  ) AS catalog(statement);

-- STRICT pure functions return NULL for NULL arguments.
SELECT billing.price(NULL::jsonb, 1, 1) IS NULL AS price, billing.price_seconds('{}', NULL, 1) IS NULL AS price_seconds,
       billing.csv_record(VARIADIC NULL::text[]) IS NULL AS csv_record, billing.plan_config(NULL) IS NULL AS plan_config,
       billing.is_valid_timezone(NULL) IS NULL AS is_valid_timezone, billing.throttle(NULL, 5) IS NULL AS throttle;

-- Nothing was written by any of them.
SELECT b.t, b.count AS before, a.count AS after
  FROM row_counts_before b JOIN (
    SELECT 'companies' AS t, count(*) FROM billing.companies UNION ALL SELECT 'pricing_plans', count(*) FROM billing.pricing_plans
    UNION ALL SELECT 'billing_periods', count(*) FROM billing.billing_periods UNION ALL SELECT 'calls', count(*) FROM billing.calls
    UNION ALL SELECT 'appointments', count(*) FROM billing.appointments UNION ALL SELECT 'invoices', count(*) FROM billing.invoices
    UNION ALL SELECT 'invoice_lines', count(*) FROM billing.invoice_lines UNION ALL SELECT 'payment_methods', count(*) FROM billing.payment_methods
    UNION ALL SELECT 'viewer_companies', count(*) FROM billing.viewer_companies) a ON a.t = b.t
 WHERE a.count <> b.count;
