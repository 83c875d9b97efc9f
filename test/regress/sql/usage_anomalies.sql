-- usage_anomalies(): days far from the same weekday's median of the previous eight weeks. Fixed
-- data: ten weeks of a regular rhythm (weekdays 55 to 65 minutes, Saturdays 10, Sundays none),
-- then a spike, a day without calls and a drop.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone) VALUES (9401, 'Rhythm Praxis', 'UTC'), (9402, 'Young Praxis', 'UTC');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (9401, 'combined', 0.10, 2.00, '2025-01-01'), (9402, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 9401, 'r-' || d::date || '-' || n, d + interval '8 hours' + n * interval '1 minute', 60, 'completed'
  FROM generate_series(date '2025-03-03', date '2025-05-18', interval '1 day') AS d,
       LATERAL generate_series(1, CASE
           WHEN d::date = date '2025-05-14' THEN 300                      -- Wednesday: a spike
           WHEN d::date = date '2025-05-13' THEN 0                        -- Tuesday: no calls at all
           WHEN d::date = date '2025-05-15' THEN 20                       -- Thursday: a drop
           WHEN EXTRACT(isodow FROM d) = 7 THEN 0
           WHEN EXTRACT(isodow FROM d) = 6 THEN 10
           ELSE 55 + EXTRACT(doy FROM d)::int % 11 END) AS n;
SELECT billing.record_call(9402, 'y-' || i, timestamptz '2025-05-05 09:00+00' + i * interval '1 day', 600, 'completed')
  FROM generate_series(0, 12) AS i;

SELECT * FROM billing.usage_anomalies(9401, 28, '2025-05-19 12:00+00');
-- Only complete days before as_of's day are judged: on May 14 the day without calls (May 13) is
-- found, the spike of that day not yet.
SELECT count(*) AS anomalies_before_the_spike FROM billing.usage_anomalies(9401, 28, '2025-05-14 12:00+00');
-- Fewer than four earlier occurrences of a weekday: not judged.
SELECT count(*) AS judged_young_company FROM billing.usage_anomalies(9402, 28, '2025-05-19 12:00+00');
-- A company without usage: nothing.
INSERT INTO billing.companies (id, name, timezone) VALUES (9403, 'Silent Praxis', 'UTC');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (9403, 'combined', 0.10, 2.00, '2025-01-01');
SELECT count(*) AS silent FROM billing.usage_anomalies(9403, 28, '2025-05-19 12:00+00');
-- Bad input and scope.
SELECT * FROM billing.usage_anomalies(9401, 0, '2025-05-19 12:00+00');
SELECT * FROM billing.usage_anomalies(9401, 367, '2025-05-19 12:00+00');
SELECT * FROM billing.usage_anomalies(9401, NULL, '2025-05-19 12:00+00');
SELECT * FROM billing.usage_anomalies(9401, 28, 'infinity');
SELECT * FROM billing.usage_anomalies(999999, 28, '2025-05-19 12:00+00');
