-- Version 1.1: usage comes from the per-day rollup, kept exact through late, out-of-order and
-- corrected data. After every change the rollup equals a recomputation from the raw rows
-- (verify_usage_daily() returns nothing) and the figures equal those of the raw formula.
SELECT extversion FROM pg_extension WHERE extname = 'company_billing';
INSERT INTO billing.companies (id, name, timezone) VALUES (701, 'Rollup Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (701, 'combined', 0.10, 2.00, '2025-01-01');

-- The raw formula the rollup must agree with: totals of a local period up to as_of.
CREATE FUNCTION pg_temp.raw_totals(company bigint, first_day date, last_day date, as_of timestamptz)
RETURNS text LANGUAGE sql AS $$
    SELECT format('%s calls, %s completed, %s s, %s appointments',
        (SELECT count(*) FROM billing.calls k, billing.companies c WHERE c.id = $1 AND k.company_id = $1
            AND (k.started_at AT TIME ZONE c.timezone)::date BETWEEN $2 AND $3 AND k.started_at <= $4),
        (SELECT count(*) FROM billing.calls k, billing.companies c WHERE c.id = $1 AND k.company_id = $1 AND k.status = 'completed'
            AND (k.started_at AT TIME ZONE c.timezone)::date BETWEEN $2 AND $3 AND k.started_at <= $4),
        (SELECT coalesce(sum(duration_sec), 0) FROM billing.calls k, billing.companies c WHERE c.id = $1 AND k.company_id = $1
            AND (k.started_at AT TIME ZONE c.timezone)::date BETWEEN $2 AND $3 AND k.started_at <= $4),
        (SELECT count(*) FROM billing.appointments a, billing.companies c WHERE c.id = $1 AND a.company_id = $1 AND a.status <> 'cancelled'
            AND (a.booked_at AT TIME ZONE c.timezone)::date BETWEEN $2 AND $3 AND a.booked_at <= $4))
$$;
CREATE FUNCTION pg_temp.rollup_totals(company bigint, first_day date, last_day date, as_of timestamptz)
RETURNS text LANGUAGE sql AS $$
    SELECT format('%s calls, %s completed, %s s, %s appointments', t.calls, t.completed_calls, t.seconds, t.appointments)
      FROM billing.period_totals($1, $2, $3, $4) t
$$;
CREATE FUNCTION pg_temp.check(label text) RETURNS TABLE (step text, exact boolean, totals text) LANGUAGE sql AS $$
    SELECT label,
           NOT EXISTS (SELECT 1 FROM billing.verify_usage_daily(701))
           AND NOT EXISTS (SELECT 1 FROM billing.verify_usage_profile(701))
           AND pg_temp.raw_totals(701, '2025-06-01', '2025-06-30', a) = pg_temp.rollup_totals(701, '2025-06-01', '2025-06-30', a)
           AND pg_temp.raw_totals(701, '2025-06-01', '2025-06-30', 'infinity') = pg_temp.rollup_totals(701, '2025-06-01', '2025-06-30', 'infinity'),
           pg_temp.rollup_totals(701, '2025-06-01', '2025-06-30', 'infinity')
      FROM (VALUES (timestamptz '2025-06-15 12:00 Europe/Berlin')) AS v(a)
$$;

-- A bulk insert (one statement, many days) and single ingestions.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 701, 'bulk-' || i, timestamptz '2025-06-01 08:00 Europe/Berlin' + i * interval '97 minutes', 30 + i % 200,
       CASE WHEN i % 7 = 0 THEN 'missed' ELSE 'completed' END
  FROM generate_series(1, 400) AS i;
SELECT billing.record_call(701, 'single-1', '2025-06-15 09:00 Europe/Berlin', 60, 'completed');
SELECT billing.record_appointment(701, 'appt-1', '2025-06-15 09:05 Europe/Berlin');
SELECT * FROM pg_temp.check('inserted');
-- Late and out of order: a call for 2 June arrives now; one for the evening of the as_of day.
SELECT billing.record_call(701, 'late-1', '2025-06-02 10:00 Europe/Berlin', 90, 'completed');
SELECT billing.record_call(701, 'evening', '2025-06-15 21:00 Europe/Berlin', 600, 'completed');
SELECT * FROM pg_temp.check('late and after as_of');
-- Corrections: duration, status, moving a call to another day, cancelling, deleting.
UPDATE billing.calls SET duration_sec = duration_sec + 17 WHERE company_id = 701 AND external_id LIKE 'bulk-1%';
UPDATE billing.calls SET status = 'failed' WHERE company_id = 701 AND external_id = 'single-1';
UPDATE billing.calls SET started_at = started_at + interval '3 days' WHERE company_id = 701 AND external_id = 'late-1';
UPDATE billing.appointments SET status = 'cancelled' WHERE company_id = 701 AND external_id = 'appt-1';
DELETE FROM billing.calls WHERE company_id = 701 AND external_id IN ('bulk-5', 'bulk-6', 'evening');
SELECT * FROM pg_temp.check('corrected');
-- A call at 23:30 UTC on 30 June is 1 July in Berlin: not in June.
SELECT billing.record_call(701, 'utc-2330', '2025-06-30 23:30+00', 120, 'completed');
SELECT * FROM pg_temp.check('next local day');
-- A time zone change moves the company's days: the rollup follows.
UPDATE billing.companies SET timezone = 'America/New_York' WHERE id = 701;
SELECT * FROM pg_temp.check('time zone changed');
UPDATE billing.companies SET timezone = 'Europe/Berlin' WHERE id = 701;
-- Rebuilding gives the same figures; the dashboard agrees.
SELECT billing.rebuild_usage_daily(701) > 0 AS rebuilt;
SELECT * FROM pg_temp.check('rebuilt');
SELECT billing.usage_current(701, '2025-06-15 12:00 Europe/Berlin') -> 'calls' AS card_calls;
-- The rollup is small: at most 8 slots a day, whatever the number of calls.
SELECT count(*) <= 8 * 31 AS bounded, max(slot) < 8 AS slots FROM billing.usage_daily WHERE company_id = 701;
-- The set-based report agrees with the per-company API, and a materialized view over it
-- refreshes concurrently.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (701, '2025-06-01', '2025-06-30');
SELECT period_id IS NOT NULL AS stored, calls, minutes, appointments, pricing_model, total_cost
  FROM billing.period_usage WHERE company_id = 701;
SELECT (billing.usage_current(701, '2025-06-30 23:00 Europe/Berlin') ->> 'total_cost')::numeric AS api_total_cost;
CREATE MATERIALIZED VIEW regress_period_report AS SELECT * FROM billing.period_usage;
CREATE UNIQUE INDEX ON regress_period_report (period_id);
SELECT billing.record_call(701, 'after-report', '2025-06-20 10:00 Europe/Berlin', 600, 'completed');
REFRESH MATERIALIZED VIEW CONCURRENTLY regress_period_report;
SELECT r.calls = v.calls AND r.total_cost = v.total_cost AS refreshed
  FROM regress_period_report r JOIN billing.period_usage v USING (period_id) WHERE r.company_id = 701;
DROP MATERIALIZED VIEW regress_period_report;
-- Periods without a plan are in the report, with NULL charges.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (701, '2024-06-01', '2024-06-30');
SELECT start_date, calls, pricing_model, total_cost FROM billing.period_usage WHERE company_id = 701 ORDER BY start_date;
