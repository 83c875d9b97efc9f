-- The dashboard's other cards: trends, history, period detail, CSV, upcoming charges,
-- payment methods, diagnose. Uses company 31 of 07_periods_invoices.

-- Six periods, oldest first, zero months included; the plan change (per_minute until January,
-- package from February) shows in the costs; October has no plan yet.
SELECT * FROM billing.usage_trends(31, 6, '2026-03-10 12:00 Europe/Berlin');
SELECT count(*) AS rows FROM billing.usage_trends(31, 12, '2026-03-10 12:00 Europe/Berlin');
BEGIN;
SET LOCAL billing.company_id = '31';
SELECT month, calls FROM billing.usage_trends(months => 2, as_of => '2026-03-10 12:00 Europe/Berlin');
COMMIT;
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(31, 0)$$);
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(31, 121)$$);
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(31, NULL)$$);
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(31, 6, NULL)$$);
SELECT regress.error_of($$SELECT * FROM billing.usage_trends(999, 6)$$);

-- Billing history, newest first.
SELECT number, period_start, period_end, total, currency, status, pdf_url FROM billing.billing_history(31);
SELECT count(*) AS no_invoices FROM billing.billing_history(32);
SELECT regress.error_of($$SELECT * FROM billing.billing_history(999)$$);
SELECT regress.error_of($$SELECT * FROM billing.billing_history(NULL)$$);

-- Period detail of a closed period: its invoice and lines, and a daily series of every day.
\set december '(SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = ''2025-12-01'')'
SELECT (d -> 'period') - 'id'::text - 'closed_at'::text AS period, d -> 'status' AS status, d -> 'usage' AS usage,
       jsonb_array_length(d -> 'charges') AS charge_lines, d #>> '{invoice,number}' AS invoice,
       jsonb_array_length(d -> 'daily') AS days, d -> 'daily' -> 0 AS first_day, d -> 'daily' -> 30 AS last_day,
       d -> 'daily' -> 1 AS second_day
  FROM billing.period_detail(:december) AS d;
-- Of an open period: the lines it would bill now, no invoice.
SELECT jsonb_pretty(d -> 'charges') AS charges, d -> 'invoice' AS invoice, jsonb_array_length(d -> 'daily') AS days
  FROM billing.period_detail((SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = '2026-03-01')) AS d;
SELECT regress.error_of($$SELECT billing.period_detail(NULL)$$);
SELECT regress.error_of($$SELECT billing.period_detail(999999)$$);

-- CSV export: RFC 4180 quoting and formula neutralization, company-local timestamps, CRLF.
INSERT INTO billing.companies (id, name, timezone) VALUES (34, 'CSV GmbH', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (34, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (34, '2025-06-01', '2025-06-30');
SELECT billing.record_call(34, external_id, '2025-06-01 22:30+00'::timestamptz + n * interval '1 hour', 90, 'completed')
  FROM unnest(ARRAY['plain', 'has,comma', 'has "quotes"', E'two\nlines', '=cmd|'' /C calc''!A0',
                    '+493012345', '-1+1', '@SUM(A1)']) WITH ORDINALITY AS t(external_id, n);
\set csv_period '(SELECT id FROM billing.billing_periods WHERE company_id = 34)'
SELECT replace(billing.period_csv(:csv_period), E'\r\n', E'<CRLF>\n') AS csv;
SELECT line FROM billing.period_csv_lines(:csv_period, 'day') AS line LIMIT 4;
SELECT count(*) AS day_records FROM billing.period_csv_lines(:csv_period, 'day');
SELECT billing.csv_record('a', NULL, 'b,c', '=1+1') AS record;
SELECT regress.error_of($$SELECT billing.period_csv($$ || :csv_period || $$, 'week')$$);
SELECT regress.error_of($$SELECT billing.period_csv(NULL)$$);
SELECT regress.error_of($$SELECT billing.period_csv(999999)$$);
SELECT regress.error_of($$SELECT billing.period_csv($$ || :csv_period || $$, NULL)$$);

-- Upcoming charges: renewal on the first day of the next period, the base fee then, the
-- projected usage charges and total of the current period.
SELECT * FROM billing.upcoming_charges(31, '2026-03-10 12:00 Europe/Berlin');
SELECT * FROM billing.upcoming_charges(34, '2025-06-10 12:00 Europe/Berlin');
SELECT regress.error_of($$SELECT * FROM billing.upcoming_charges(999)$$);
SELECT regress.error_of($$SELECT * FROM billing.upcoming_charges(31, NULL)$$);

-- Payment methods: display data only, one default, never a card number.
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default, created_at)
VALUES (31, 'pm_visa_main', 'visa', '4242', 12, 2027, true, '2025-01-01'),
       (31, 'pm_mc_backup', 'mastercard', '4444', 3, 2025, false, '2025-02-01');
SELECT * FROM billing.company_payment_methods(31, '2026-03-10');
SELECT billing.set_default_payment_method((SELECT id FROM billing.payment_methods WHERE provider_reference = 'pm_mc_backup'));
SELECT brand, is_default FROM billing.company_payment_methods(31, '2026-03-10');
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default)
                          VALUES (31, 'pm_other', 'visa', '1111', 1, 2030, true)$$);
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year)
                          VALUES (31, '4242424242424242', 'visa', '4242', 1, 2030)$$);
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year)
                          VALUES (31, 'pm_x', 'visa 4242 4242 4242 4242', '4242', 1, 2030)$$);
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year)
                          VALUES (31, 'pm_y', 'amex', '3782-822463-10005', 1, 2030)$$);
SELECT regress.error_of($$INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year)
                          VALUES (31, 'pm_z', 'visa', '42a2', 13, 2030)$$);
SELECT value, billing.looks_like_card_number(value)
  FROM unnest(ARRAY['4242424242424242', '4242 4242 4242 4242', '4242-4242-4242-4242', '378282246310005',
                    '6011 0009 9013 9424 123', 'pm_1234', '123456789012', 'INV-31-20251201']) AS t(value);
SELECT regress.error_of($$SELECT * FROM billing.company_payment_methods(999)$$);
SELECT regress.error_of($$SELECT billing.set_default_payment_method(999999)$$);

-- diagnose(): the troubleshooting guide, one row per check. (The suite runs with the library
-- preloaded; the runtime rows' details name pids and counts, so only their status is shown.
-- test/nopreload shows them without preloading.)
SELECT "check", CASE WHEN "check" IN ('audit_writer', 'rate_limiter') THEN NULL ELSE ok END AS ok,
       CASE WHEN "check" IN ('audit_writer', 'rate_limiter') THEN '(runtime)' ELSE detail END AS detail
  FROM billing.diagnose(31, '2026-03-10 12:00 Europe/Berlin');
INSERT INTO billing.companies (id, name, active) VALUES (36, 'Empty', false);
SELECT "check", CASE WHEN "check" IN ('audit_writer', 'rate_limiter') THEN NULL ELSE ok END AS ok,
       CASE WHEN "check" IN ('audit_writer', 'rate_limiter') THEN '(runtime)' ELSE detail END AS detail
  FROM billing.diagnose(36, '2026-03-10 12:00 Europe/Berlin');
SELECT regress.error_of($$SELECT * FROM billing.diagnose(999)$$);
SELECT regress.error_of($$SELECT * FROM billing.diagnose(31, NULL)$$);
