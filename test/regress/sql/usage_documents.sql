-- usage_current() and usage_projection(): the acceptance figures of the original specification and
-- the company-local period rules.

-- Two companies with the same usage in June 2025: 245 calls (230 completed), 41,250 seconds
-- (687.5 minutes), 87 booked appointments (and 3 cancelled ones that do not count).
INSERT INTO billing.companies (id, name, timezone) VALUES
    (21, 'Combined Praxis', 'Europe/Berlin'), (22, 'Per Minute Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (21, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (22, 'per_minute', 49.00, 500, 0.15, 2.00, '2025-01-01');

SELECT count(*) FILTER (WHERE billing.record_call(company, 'june-' || i,
           timestamptz '2025-06-01 08:00 Europe/Berlin' + (i % 14) * interval '1 day' + i * interval '1 minute',
           CASE WHEN i = 245 THEN 258 ELSE 168 END,
           CASE WHEN i <= 230 THEN 'completed' WHEN i % 2 = 0 THEN 'missed' ELSE 'busy' END)) AS calls_recorded
  FROM generate_series(1, 245) AS i, (VALUES (21), (22)) AS c(company);
SELECT count(*) FILTER (WHERE billing.record_appointment(company, 'appt-' || i,
           timestamptz '2025-06-01 09:00 Europe/Berlin' + (i % 14) * interval '1 day',
           CASE WHEN i > 87 THEN 'cancelled' ELSE 'booked' END)) AS appointments_recorded
  FROM generate_series(1, 90) AS i, (VALUES (21), (22)) AS c(company);

-- Acceptance figure 1 (combined): calls.cost 68.75, appointments.cost 174.00, total 242.75,
-- days_remaining 15, avg_duration 2.8.
SELECT jsonb_pretty(billing.usage_current(21, '2025-06-15 12:00 Europe/Berlin'));

-- Acceptance figure 2 (per_minute projection): 1375.0 minutes, 174 appointments, base fee 49.00,
-- minutes cost 131.25, appointments cost 348.00, total 528.25, 45.83 and 5.8 a day; the card
-- shows 500 included, 187.5 overage minutes, 137.5 %.
SELECT jsonb_pretty(billing.usage_projection(22, '2025-06-15 12:00 Europe/Berlin'));

-- The same figures, compared as exact numbers.
WITH p AS (SELECT billing.usage_projection(22, '2025-06-15 12:00 Europe/Berlin') AS doc)
SELECT (doc #>> '{projected,minutes}')::numeric = 1375.0 AS minutes_ok,
       (doc #>> '{projected,appointments}')::numeric = 174 AS appointments_ok,
       doc #> '{projected,costs}' = '{"base_fee":49.00,"minutes_cost":131.25,"appointments_cost":348.00,"total_cost":528.25}' AS costs_ok,
       doc #> '{projected,avg_per_day}' = '{"minutes":45.83,"appointments":5.8}' AS avg_ok,
       (doc #>> '{current,included_minutes}')::numeric = 500
       AND (doc #>> '{current,overage_minutes}')::numeric = 187.5
       AND (doc #>> '{current,usage_percentage}')::numeric = 137.5 AS card_ok
  FROM p;

-- as_of is respected: at the start of June 3 only the calls of June 1 and 2 count.
SELECT billing.usage_current(21, '2025-06-03 00:00 Europe/Berlin') -> 'calls' AS calls_by_june_3;

-- NULL company means the transaction's billing.company_id.
BEGIN;
SET LOCAL billing.company_id = '21';
SELECT billing.usage_current(NULL, '2025-06-15 12:00 Europe/Berlin') ->> 'total_cost' AS total_cost;
COMMIT;

-- A call at 23:30 UTC on the last day of a period belongs, for a Berlin company, to the next
-- period (01:30 on 1 July, local time).
INSERT INTO billing.companies (id, name, timezone) VALUES (23, 'Late Caller', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (23, 'combined', 1.00, 0, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES
    (23, '2025-06-01', '2025-06-30'), (23, '2025-07-01', '2025-07-31');
SELECT billing.record_call(23, 'june-last', '2025-06-30 21:30+00', 60, 'completed');  -- 23:30 local
SELECT billing.record_call(23, 'utc-2330', '2025-06-30 23:30+00', 120, 'completed');  -- 01:30 local, July
SELECT d -> 'period' AS period, d -> 'calls' -> 'total' AS calls, d -> 'calls' -> 'total_minutes' AS minutes
  FROM (VALUES (billing.usage_current(23, '2025-06-30 21:59:59+00')),
               (billing.usage_current(23, '2025-07-01 00:00:00+00'))) AS t(d);

-- A period across a daylight-saving change (Berlin, 30 March 2025: 02:00 -> 03:00): the
-- period is 31 local days, its bounds are local midnights, and calls on either side count.
INSERT INTO billing.companies (id, name, timezone) VALUES (24, 'DST Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (24, 'combined', 1.00, 0, '2025-01-01');
SELECT billing.record_call(24, 'before-dst', '2025-03-30 01:30 Europe/Berlin', 60, 'completed');
SELECT billing.record_call(24, 'after-dst', '2025-03-30 03:30 Europe/Berlin', 60, 'completed');
SELECT billing.record_call(24, 'last-minute', '2025-03-31 23:59 Europe/Berlin', 60, 'completed');  -- 21:59 UTC
SELECT billing.record_call(24, 'april', '2025-04-01 00:30 Europe/Berlin', 60, 'completed');       -- 22:30 UTC on 31 March
SELECT billing.record_call(24, 'february', '2025-02-28 23:30 Europe/Berlin', 60, 'completed');
SELECT d -> 'period' AS period, d -> 'calls' -> 'total' AS calls, d ->> 'total_cost' AS cost
  FROM (VALUES (billing.usage_current(24, '2025-03-31 23:59:30 Europe/Berlin')),
               (billing.usage_current(24, '2025-04-30 12:00 Europe/Berlin'))) AS t(d);
-- The same in New York across the autumn change (2 November 2025, 02:00 -> 01:00).
INSERT INTO billing.companies (id, name, timezone) VALUES (25, 'NYC DST', 'America/New_York');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (25, 'combined', 1.00, 0, '2025-01-01');
SELECT billing.record_call(25, 'first-0130', '2025-11-02 05:30+00', 60, 'completed');   -- 01:30 EDT
SELECT billing.record_call(25, 'second-0130', '2025-11-02 06:30+00', 60, 'completed');  -- 01:30 EST
SELECT billing.record_call(25, 'oct-31-late', '2025-11-01 03:30+00', 60, 'completed');  -- 23:30 on 31 Oct
SELECT billing.usage_current(25, '2025-11-30 23:00 America/New_York') -> 'calls' -> 'total' AS november_calls;

-- Without a stored period, the period is derived from the anchor day (15th here) ...
INSERT INTO billing.companies (id, name, timezone, billing_anchor_day) VALUES (26, 'Anchor 15', 'UTC', 15);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (26, 'per_appointment', 5, '2025-01-01');
SELECT billing.usage_current(26, '2025-06-10 12:00+00') -> 'period' AS derived_period;
SELECT billing.usage_current(26, '2025-06-15 00:00+00') -> 'period' AS derived_period;
SELECT * FROM billing.period_for(26, '2024-02-20');  -- leap year: 15 Feb .. 14 Mar
-- ... and clipped so that it never overlaps a stored period.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (26, '2025-07-01', '2025-07-31');
SELECT * FROM billing.period_for(26, '2025-06-20');
SELECT * FROM billing.period_for(26, '2025-08-03');

-- A plan change: the period uses the plan in force by as_of.
INSERT INTO billing.companies (id, name) VALUES (27, 'Plan Changer');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from, valid_until)
VALUES (27, 'combined', 1.00, 0, '2025-01-01', '2025-05-31');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (27, 'per_appointment', 5, '2025-06-01');
SELECT billing.usage_current(27, '2025-05-20 12:00+00') ->> 'pricing_model' AS may,
       billing.usage_current(27, '2025-06-20 12:00+00') ->> 'pricing_model' AS june;

-- Other pricing models on the card: package shows its allowance, per_appointment includes all.
INSERT INTO billing.companies (id, name, currency) VALUES (28, 'Package AG', 'CHF');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments,
                                   overage_per_minute, overage_per_appointment, valid_from)
VALUES (28, 'package', 99.00, 1, 50, 0.12, 3.00, '2025-01-01');
SELECT billing.record_call(28, 'p1', '2025-06-02 10:00+00', 90, 'completed');
SELECT jsonb_pretty(billing.usage_current(28, '2025-06-10 00:00+00') - 'period');
SELECT jsonb_pretty(billing.usage_current(26, '2025-06-10 00:00+00') - 'period');

-- Errors: a SQLSTATE each.
SELECT regress.error_of($$SELECT billing.usage_current(999, '2025-06-15')$$);
SELECT regress.error_of($$SELECT billing.usage_current(-1, '2025-06-15')$$);
SELECT regress.error_of($$SELECT billing.usage_current(21, NULL)$$);
SELECT regress.error_of($$SELECT billing.usage_current(21, 'infinity')$$);
SELECT regress.error_of($$SELECT billing.usage_current(21, '2024-06-15')$$);  -- before the first plan
SELECT regress.error_of($$SELECT billing.usage_projection(NULL, '2025-06-15')$$);  -- no company set
BEGIN;
SET LOCAL billing.company_id = 'abc';
SELECT regress.error_of($$SELECT billing.usage_current(NULL, '2025-06-15')$$);
ROLLBACK;
SELECT regress.error_of($$SELECT * FROM billing.period_for(NULL, '2025-06-15')$$);
SELECT regress.error_of($$SELECT * FROM billing.period_for(21, 'infinity')$$);
SELECT regress.error_of($$SELECT billing._usage_document('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', '2025-06-01', '2025-06-30', '2025-07-01', 1, 1, 60, 0, false)$$);
SELECT regress.error_of($$SELECT billing._usage_document('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', '2025-06-01', '2025-06-30', '2025-06-10', 1, 2, 60, 0, false)$$);
SELECT regress.error_of($$SELECT billing._usage_document('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', '-infinity', '2025-06-30', '2025-06-10', 1, 1, 60, 0, false)$$);
