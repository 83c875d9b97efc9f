-- compare_plans(): the last closed periods and the projected current one, priced under the
-- company's own plans and each offered catalog plan of its currency, cheapest first. Checked
-- against an independent computation: price() of each period's totals counted from the raw calls.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone, currency) VALUES
    (9201, 'Compare Praxis', 'UTC', 'EUR'), (9202, 'No History GmbH', 'UTC', 'EUR');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from, valid_until)
VALUES (9201, 'per_minute', 49.00, 500, 0.15, 2.00, '2025-02-01', '2025-03-31'),
       (9202, 'per_minute', 49.00, 500, 0.15, 2.00, '2025-06-01', NULL);
-- A plan change in April: the own total prices each period under its own plan.
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments,
                                   overage_per_minute, overage_per_appointment, valid_from)
VALUES (9201, 'package', 99.00, 1000, 50, 0.12, 3.00, '2025-04-01');
SELECT setseed(0.7);
SELECT pg_catalog.count(billing.record_call(9201, 'cmp-' || i, timestamptz '2025-02-01 08:00+00' + (i * interval '97 minutes'),
                                 (60 + random() * 600)::int, CASE WHEN i % 9 = 0 THEN 'missed' ELSE 'completed' END))
  FROM generate_series(1, 1900) AS i;
SELECT pg_catalog.count(billing.record_appointment(9201, 'cmp-appt-' || i, timestamptz '2025-02-01 09:00+00' + (i * interval '211 minutes')))
  FROM generate_series(1, 860) AS i;
SELECT billing.ensure_periods('2025-06-15 12:00+00') > 0 AS periods_created;
SELECT pg_catalog.count(billing.close_period(id, '2025-06-15 12:00+00')) AS closed
  FROM billing.billing_periods WHERE company_id = 9201 AND end_date < '2025-06-01';
INSERT INTO billing.plan_catalog (name, config, currency, offered) VALUES
    ('Regress Starter', '{"pricing_model":"per_minute","base_fee":29,"included_minutes":200,"overage_per_minute":0.20,"per_appointment_rate":2}', 'EUR', true),
    ('Regress Pro', '{"pricing_model":"per_minute","base_fee":99,"included_minutes":1500,"overage_per_minute":0.10,"per_appointment_rate":1.5}', 'EUR', true),
    ('Regress Flex', '{"pricing_model":"combined","per_minute_rate":0.12,"per_appointment_rate":2.5}', 'EUR', true),
    ('Regress Retired', '{"pricing_model":"combined","per_minute_rate":0.01,"per_appointment_rate":0.01}', 'EUR', false),
    ('Regress Dollar', '{"pricing_model":"combined","per_minute_rate":0.01,"per_appointment_rate":0.01}', 'USD', true);

SELECT name, pricing_model, is_current, periods_priced, total, saving, currency
  FROM billing.compare_plans(9201, 3, '2025-06-15 12:00+00');

-- The independent computation: the three newest closed periods and June projected from its
-- first 15 days (15 elapsed of 30, as usage_projection counts them), usage from the raw rows.
WITH periods AS (
    SELECT p.start_date, p.end_date, 1.0 AS factor FROM billing.billing_periods p
     WHERE p.company_id = 9201 AND p.status = 'closed' ORDER BY p.start_date DESC LIMIT 3),
current_period AS (SELECT date '2025-06-01' AS start_date, date '2025-06-30' AS end_date, 30.0 / 15 AS factor),
usage AS (
    SELECT u.start_date, u.end_date,
           (SELECT coalesce(sum(c.duration_sec), 0) FROM billing.calls c WHERE c.company_id = 9201
               AND (c.started_at AT TIME ZONE 'UTC')::date BETWEEN u.start_date AND u.end_date
               AND c.started_at <= '2025-06-15 12:00+00') * u.factor AS seconds,
           (SELECT count(*) FROM billing.appointments a WHERE a.company_id = 9201 AND a.status = 'booked'
               AND (a.booked_at AT TIME ZONE 'UTC')::date BETWEEN u.start_date AND u.end_date
               AND a.booked_at <= '2025-06-15 12:00+00') * u.factor AS appointments
      FROM (SELECT * FROM periods UNION ALL SELECT * FROM current_period) AS u),
candidates AS (
    SELECT pc.name, pc.config || jsonb_build_object('currency', 'EUR') AS config FROM billing.plan_catalog pc
     WHERE pc.offered AND pc.currency = 'EUR'),
own AS (
    SELECT sum((billing.price_seconds(billing.plan_config(billing.plan_for_period(9201, u.start_date, u.end_date))
               || '{"currency":"EUR"}', u.seconds, u.appointments)).total_cost) AS total FROM usage u),
expected AS (
    SELECT 'current plan' AS name, own.total FROM own
    UNION ALL
    SELECT c.name, sum((billing.price_seconds(c.config, u.seconds, u.appointments)).total_cost) FROM candidates c, usage u GROUP BY c.name)
SELECT e.name, e.total = r.total AS total_agrees, (SELECT total FROM own) - e.total = r.saving AS saving_agrees
  FROM expected e JOIN billing.compare_plans(9201, 3, '2025-06-15 12:00+00') r USING (name) ORDER BY e.name;
-- The own total is what period_usage billed plus the projection's total.
SELECT (SELECT sum(total_cost) FROM (SELECT total_cost FROM billing.period_usage WHERE company_id = 9201 AND status = 'closed'
                                      ORDER BY start_date DESC LIMIT 3) AS billed)
       + (billing.usage_projection(9201, '2025-06-15 12:00+00') #>> '{projected,costs,total_cost}')::numeric
       = (SELECT total FROM billing.compare_plans(9201, 3, '2025-06-15 12:00+00') WHERE is_current) AS own_total_agrees;
-- Cheapest first; without closed periods only the current one is priced.
SELECT array_agg(total ORDER BY total) = array_agg(total) AS cheapest_first FROM billing.compare_plans(9201, 6, '2025-06-15 12:00+00');
SELECT name, periods_priced FROM billing.compare_plans(9202, 6, '2025-06-15 12:00+00') WHERE is_current;

-- Bad input and scope.
SELECT * FROM billing.compare_plans(9201, 0, '2025-06-15 12:00+00');
SELECT * FROM billing.compare_plans(9201, 25, '2025-06-15 12:00+00');
SELECT * FROM billing.compare_plans(9201, NULL, '2025-06-15 12:00+00');
SELECT * FROM billing.compare_plans(9201, 3, 'infinity');
INSERT INTO billing.plan_catalog (name, config, currency) VALUES ('Regress Broken', '{"pricing_model":"per_minute","base_fee":29}', 'EUR');
INSERT INTO billing.plan_catalog (name, config, currency) VALUES ('Regress Unknown', '{"pricing_model":"flat"}', 'EUR');
INSERT INTO billing.plan_catalog (name, config, currency) VALUES ('Regress XXX', '{"pricing_model":"combined","per_minute_rate":1,"per_appointment_rate":1}', 'XXX');
INSERT INTO billing.plan_catalog (name, config, currency) VALUES ('Regress Own Currency', '{"pricing_model":"combined","per_minute_rate":1,"per_appointment_rate":1,"currency":"USD"}', 'EUR');
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_compare_viewer') THEN
  CREATE ROLE regress_compare_viewer LOGIN IN ROLE billing_viewer; END IF; END $$;
SELECT billing.grant_company_access('regress_compare_viewer', 9202);
SET ROLE regress_compare_viewer;
SELECT name, periods_priced FROM billing.compare_plans(NULL, 6, '2025-06-15 12:00+00') WHERE is_current;
SELECT * FROM billing.compare_plans(9201, 6, '2025-06-15 12:00+00');
SELECT pg_catalog.count(*) > 0 AS reads_the_catalog FROM billing.plan_catalog;
INSERT INTO billing.plan_catalog (name, config, currency) VALUES ('Viewer plan', '{"pricing_model":"combined","per_minute_rate":0,"per_appointment_rate":0}', 'EUR');
RESET ROLE;
SELECT billing.revoke_company_access('regress_compare_viewer', 9202);
DROP ROLE regress_compare_viewer;
DELETE FROM billing.plan_catalog WHERE name LIKE 'Regress %';
