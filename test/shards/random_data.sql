-- A random data set for the shard test: :companies companies (ids from 1001) in every valid time
-- zone in turn, five currencies (JPY without decimals), every anchor day, the four pricing
-- models with random parameters, a plan change for every tenth, payment methods, budgets, and
-- calls and appointments over the last 100 days. Deterministic for a given day (setseed).
SELECT setseed(0.2026);
CREATE TEMP TABLE zones AS
SELECT pg_catalog.array_agg(z.name ORDER BY z.name) AS names
  FROM pg_catalog.pg_timezone_names z WHERE billing.is_valid_timezone(z.name) AND z.name !~ '^(posix|right)/';
INSERT INTO billing.companies (id, name, timezone, currency, billing_anchor_day)
SELECT 1000 + g, 'Random company ' || g, z.names[1 + (g * 37) % pg_catalog.cardinality(z.names)],
       (ARRAY['EUR', 'USD', 'GBP', 'JPY', 'CHF'])[1 + g % 5], 1 + (g * 11) % 28
  FROM pg_catalog.generate_series(1, :companies) AS g, zones AS z;
CREATE TEMP TABLE random_plans AS
SELECT c.id AS company_id, (ARRAY['per_minute', 'package', 'per_appointment', 'combined'])[1 + c.id % 4] AS model,
       pg_catalog.round((10 + pg_catalog.random() * 190)::numeric, 2) AS base_fee,
       (100 * (1 + pg_catalog.floor(pg_catalog.random() * 20)))::numeric AS minutes,
       (5 * (1 + pg_catalog.floor(pg_catalog.random() * 20)))::numeric AS appointments,
       pg_catalog.round((0.01 + pg_catalog.random() * 0.49)::numeric, 4) AS rate,
       pg_catalog.round((0.5 + pg_catalog.random() * 9.5)::numeric, 2) AS appointment_rate,
       (pg_catalog.now() - pg_catalog.make_interval(days => 100 + (c.id % 30)::integer))::date AS valid_from
  FROM billing.companies c WHERE c.id > 1000;
-- Every tenth company changed its plan 40 days ago.
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_minute_rate, per_appointment_rate, package_minutes, package_appointments,
                                   overage_per_appointment, valid_from, valid_until)
SELECT p.company_id, p.model,
       CASE WHEN p.model <> 'combined' THEN p.base_fee END,
       CASE WHEN p.model = 'per_minute' THEN p.minutes END,
       CASE WHEN p.model IN ('per_minute', 'package') THEN p.rate END,
       CASE WHEN p.model = 'combined' THEN p.rate END,
       CASE WHEN p.model IN ('per_minute', 'per_appointment', 'combined') THEN p.appointment_rate END,
       CASE WHEN p.model = 'package' THEN p.minutes END,
       CASE WHEN p.model = 'package' THEN p.appointments END,
       CASE WHEN p.model = 'package' THEN p.appointment_rate END,
       p.valid_from,
       CASE WHEN p.company_id % 10 = 0 THEN (pg_catalog.now() - interval '41 days')::date END
  FROM random_plans p;
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
SELECT p.company_id, 'combined', p.rate * 2, p.appointment_rate, (pg_catalog.now() - interval '40 days')::date
  FROM random_plans p WHERE p.company_id % 10 = 0;
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default)
SELECT c.id, 'pm_random_' || c.id, (ARRAY['visa', 'mastercard', 'amex'])[1 + c.id % 3],
       pg_catalog.lpad((c.id % 10000)::text, 4, '0'), 1 + c.id % 12, 2025 + c.id % 5, true
  FROM billing.companies c WHERE c.id > 1000 AND c.id % 3 <> 0;
INSERT INTO billing.alert_settings (company_id, monthly_budget, cap_amount)
SELECT c.id, 50 + c.id % 400, CASE WHEN c.id % 2 = 0 THEN 600 END
  FROM billing.companies c WHERE c.id > 1000 AND c.id % 7 = 0;
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT c.id, 'rnd-' || c.id || '-' || i,
       pg_catalog.now() - pg_catalog.make_interval(secs => pg_catalog.floor(pg_catalog.random() * 100 * 86400)),
       pg_catalog.floor(pg_catalog.random() * 900)::integer,
       (ARRAY['completed', 'completed', 'completed', 'completed', 'missed', 'failed', 'busy', 'no_answer'])[1 + pg_catalog.floor(pg_catalog.random() * 8)::integer]
  FROM billing.companies c, pg_catalog.generate_series(1, (c.id * 13) % 120) AS i
 WHERE c.id > 1000;
INSERT INTO billing.appointments (company_id, external_id, call_id, booked_at, status)
SELECT k.company_id, 'apt-' || k.external_id, k.id, k.started_at + interval '1 minute',
       (ARRAY['booked', 'booked', 'booked', 'cancelled'])[1 + pg_catalog.floor(pg_catalog.random() * 4)::integer]
  FROM billing.calls k WHERE k.company_id > 1000 AND k.status = 'completed' AND pg_catalog.random() < 0.2;
