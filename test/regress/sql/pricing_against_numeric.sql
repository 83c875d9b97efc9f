-- The C++ evaluator equals PostgreSQL numeric evaluating the same formula (docs/design.md),
-- on 10,000 random plans and usages, and on 2,000 random second counts for the usage path.
SELECT setseed(0.20250615);

CREATE TEMP TABLE cases AS
SELECT i,
       (ARRAY['per_minute', 'per_appointment', 'package', 'combined'])[1 + i % 4] AS model,
       round((random() * 300)::numeric, (random() * 3)::int) AS base_fee,
       round((random() * 2000)::numeric, (random() * 2)::int) AS included,
       round((random() * 0.5)::numeric, (random() * 4)::int) AS minute_rate,
       round((random() * 10)::numeric, (random() * 4)::int) AS appointment_rate,
       round((random() * 100)::numeric, (random() * 1)::int) AS included_appointments,
       round((random() * 4000)::numeric, (random() * 4)::int) AS minutes,
       round((random() * 200)::numeric, (random() * 1)::int) AS appointments
  FROM generate_series(1, 10000) AS i;
-- Every fifth case is an exact tie at half a cent: (k + 0.5) minutes at an odd number of cents
-- a minute costs x.xx5, where rounding half away from zero and half to even differ.
UPDATE cases
   SET minutes = floor(random() * 3000) + 0.5,
       included = floor(random() * 1000),
       minute_rate = (1 + 2 * floor(random() * 20)) / 100
 WHERE i % 5 = 0;

CREATE TEMP TABLE evaluated AS
SELECT c.*,
       billing.price(CASE c.model
           WHEN 'per_minute' THEN jsonb_build_object('pricing_model', c.model, 'base_fee', c.base_fee,
                'included_minutes', c.included, 'overage_per_minute', c.minute_rate,
                'per_appointment_rate', c.appointment_rate)
           WHEN 'per_appointment' THEN jsonb_build_object('pricing_model', c.model, 'base_fee', c.base_fee,
                'per_appointment_rate', c.appointment_rate)
           WHEN 'package' THEN jsonb_build_object('pricing_model', c.model, 'base_fee', c.base_fee,
                'package_minutes', c.included, 'package_appointments', c.included_appointments,
                'overage_per_minute', c.minute_rate, 'overage_per_appointment', c.appointment_rate)
           ELSE jsonb_build_object('pricing_model', c.model, 'per_minute_rate', c.minute_rate,
                'per_appointment_rate', c.appointment_rate)
       END, c.minutes, c.appointments) AS cpp,
       CASE c.model
           WHEN 'per_minute' THEN round(c.base_fee, 2)
           WHEN 'per_appointment' THEN round(c.base_fee, 2)
           WHEN 'package' THEN round(c.base_fee, 2)
           ELSE 0.00 END AS sql_base_fee,
       CASE c.model
           WHEN 'per_minute' THEN round(greatest(c.minutes - c.included, 0) * c.minute_rate, 2)
           WHEN 'per_appointment' THEN 0.00
           WHEN 'package' THEN round(greatest(c.minutes - c.included, 0) * c.minute_rate, 2)
           ELSE round(c.minutes * c.minute_rate, 2) END AS sql_minutes_cost,
       CASE c.model
           WHEN 'package' THEN round(greatest(c.appointments - c.included_appointments, 0) * c.appointment_rate, 2)
           ELSE round(c.appointments * c.appointment_rate, 2) END AS sql_appointments_cost
  FROM cases c;

-- How many cases, per model, and how many disagree (must be 0). Text equality also checks
-- that both print the same digits (scale 2).
SELECT model, count(*) AS cases,
       count(*) FILTER (WHERE (cpp).base_fee::text <> sql_base_fee::text
                           OR (cpp).minutes_cost::text <> sql_minutes_cost::text
                           OR (cpp).appointments_cost::text <> sql_appointments_cost::text
                           OR (cpp).total_cost::text
                              <> (sql_base_fee + sql_minutes_cost + sql_appointments_cost)::text) AS mismatches
  FROM evaluated GROUP BY model ORDER BY model;

-- The cases include many exact ties at half a cent, where rounding direction matters.
SELECT count(*) > 1000 AS many_half_cent_ties
  FROM evaluated
 WHERE model <> 'per_appointment'
   AND (CASE model WHEN 'combined' THEN minutes ELSE greatest(minutes - included, 0) END
        * minute_rate * 1000) % 10 = 5;

-- The usage path: minutes are seconds / 60, exact; the SQL formula divides last so that
-- numeric's division is exact where the result terminates.
CREATE TEMP TABLE usage_cases AS
SELECT i,
       (random() * 400000)::bigint AS seconds,
       (random() * 300)::bigint AS appointments,
       round((random() * 2000)::numeric, 0) AS included,
       round((random() * 0.5)::numeric, (random() * 4)::int) AS minute_rate,
       round((random() * 5)::numeric, 2) AS appointment_rate
  FROM generate_series(1, 2000) AS i;

SELECT count(*) AS usage_cases,
       count(*) FILTER (WHERE (doc -> 'calls' ->> 'cost')::numeric
                              <> round(greatest(seconds - 60 * included, 0) * minute_rate / 60, 2)
                           OR (doc ->> 'total_cost')::numeric
                              <> 10.00 + round(greatest(seconds - 60 * included, 0) * minute_rate / 60, 2)
                                 + round(appointments * appointment_rate, 2)) AS mismatches
  FROM (SELECT u.*, billing._usage_document(
                jsonb_build_object('pricing_model', 'per_minute', 'base_fee', 10, 'included_minutes', u.included,
                                   'overage_per_minute', u.minute_rate, 'per_appointment_rate', u.appointment_rate),
                '2025-06-01', '2025-06-30', '2025-06-15', 10, 5, u.seconds, u.appointments, false) AS doc
          FROM usage_cases u) AS t;
