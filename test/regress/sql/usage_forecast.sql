-- usage_forecast(): weekday factors from 56 days of history, the level from the elapsed days,
-- an 80% interval, the cost priced like price(), the day the included minutes run out, and the
-- linear projection without 14 days of history. Fixed data: no randomness.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone) VALUES (9301, 'Forecast Praxis', 'UTC'), (9302, 'New Praxis', 'UTC');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (9301, 'per_minute', 49.00, 300, 0.15, 2.00, '2025-01-01'), (9302, 'per_minute', 49.00, 300, 0.15, 2.00, '2025-06-01');
-- Weekdays: Monday 12 calls of 2 minutes, each later weekday two fewer, Saturday 2, Sunday none;
-- every fourth week 20% busier (so that the days spread around their weekday's mean).
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 9301, 'f-' || d || '-' || n, d + interval '9 hours' + n * interval '10 minutes', 120, 'completed'
  FROM generate_series(date '2025-04-06', date '2025-06-10', interval '1 day') AS d,
       LATERAL generate_series(1, (CASE EXTRACT(isodow FROM d)::int WHEN 7 THEN 0 WHEN 6 THEN 2
                                        ELSE 14 - 2 * EXTRACT(isodow FROM d)::int END
                                   * CASE WHEN EXTRACT(week FROM d)::int % 4 = 0 THEN 1.2 ELSE 1 END)::int) AS n;
INSERT INTO billing.appointments (company_id, external_id, booked_at)
SELECT 9301, 'fa-' || c.external_id, c.started_at FROM billing.calls c WHERE c.company_id = 9301 AND c.external_id LIKE '%-1';
SELECT billing.record_call(9302, 'new-1', '2025-06-02 10:00+00', 600, 'completed');
SELECT billing.ensure_periods('2025-06-10 23:59:59+00') > 0 AS periods;

-- As of the end of June 10 (10 of 30 days elapsed).
SELECT jsonb_pretty(billing.usage_forecast(9301, '2025-06-10 23:59:59+00'));
SELECT f->>'method' AS method,
       (f#>>'{minutes,low}')::numeric <= (f#>>'{minutes,forecast}')::numeric
       AND (f#>>'{minutes,forecast}')::numeric <= (f#>>'{minutes,high}')::numeric AS interval_holds_forecast,
       (f#>>'{minutes,so_far}')::numeric <= (f#>>'{minutes,low}')::numeric AS low_not_below_usage,
       f#>'{minutes,linear}' = p#>'{projected,minutes}' AS linear_is_the_projection,
       f#>'{total_cost,linear}' = p#>'{projected,costs,total_cost}' AS linear_cost_is_the_projection
  FROM billing.usage_forecast(9301, '2025-06-10 23:59:59+00') AS f,
       billing.usage_projection(9301, '2025-06-10 23:59:59+00') AS p;
-- The cost is the plan's price of the forecast quantities (exact ones; shown rounded).
SELECT (f#>>'{total_cost,forecast}')::numeric
       BETWEEN (billing.price_seconds(billing.plan_config(billing.plan_for_period(9301, '2025-06-01', '2025-06-30')) || '{"currency":"EUR"}',
                                      ((f#>>'{minutes,forecast}')::numeric - 0.005) * 60, (f#>>'{appointments,forecast}')::numeric - 0.005)).total_cost
           AND (billing.price_seconds(billing.plan_config(billing.plan_for_period(9301, '2025-06-01', '2025-06-30')) || '{"currency":"EUR"}',
                                      ((f#>>'{minutes,forecast}')::numeric + 0.005) * 60, (f#>>'{appointments,forecast}')::numeric + 0.005)).total_cost
       AS cost_is_the_price_of_the_forecast
  FROM billing.usage_forecast(9301, '2025-06-10 23:59:59+00') AS f;
-- Without 14 days of history: the linear projection, no interval.
SELECT f->>'method' AS method, f->'minutes' AS minutes, f->>'history_days' AS history_days
  FROM billing.usage_forecast(9302, '2025-06-10 23:59:59+00') AS f;
-- The run-out day moves with the usage: a day with 400 minutes runs the included 300 out that day.
SELECT billing.record_call(9301, 'big-day-' || i, '2025-06-09 12:00+00', 3600, 'completed') FROM generate_series(1, 7) AS i;
SELECT billing.usage_forecast(9301, '2025-06-10 23:59:59+00')->>'included_minutes_run_out' AS run_out_after_big_day;
-- Bad input and scope.
SELECT billing.usage_forecast(9301, 'infinity');
SELECT billing.usage_forecast(9301, NULL);
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_forecast_viewer') THEN
  CREATE ROLE regress_forecast_viewer LOGIN IN ROLE billing_viewer; END IF; END $$;
SELECT billing.grant_company_access('regress_forecast_viewer', 9302);
SET ROLE regress_forecast_viewer;
SELECT billing.usage_forecast(NULL, '2025-06-10 23:59:59+00')->>'method' AS own_company;
SELECT billing.usage_forecast(9301, '2025-06-10 23:59:59+00');
RESET ROLE;
SELECT billing.revoke_company_access('regress_forecast_viewer', 9302);
DROP ROLE regress_forecast_viewer;
