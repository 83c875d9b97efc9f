-- Month end run unattended: closing only what has ended, the batch close, reports that keep
-- invoiced and current figures apart, retention without re-billing, the rollup check of
-- diagnose(), and the upcoming charges split by kind.
SET client_min_messages = warning;
INSERT INTO billing.companies (id, name, timezone) VALUES
    (1501, 'Month End Minutes', 'Europe/Berlin'), (1502, 'Month End Ended Plan', 'America/Havana'),
    (1503, 'Month End No Plan', 'UTC'), (1504, 'Month End Conflict', 'UTC'),
    (1505, 'Month End Appointments', 'Asia/Kolkata');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from, valid_until) VALUES
    (1501, 'per_minute', 49.00, 100, 0.15, 2.00, '2025-01-01', NULL),
    (1502, 'per_minute', 19.00, 10, 0.20, 1.00, '2025-01-01', '2025-02-28'),
    (1504, 'per_minute', 9.00, 0, 0.10, 0.00, '2025-01-01', NULL);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (1505, 'per_appointment', 4.50, '2025-01-01');
SELECT count(*) FILTER (WHERE billing.record_call(c, 'm-' || c || '-' || i, timestamptz '2025-01-03 09:00+00' + i * interval '61 hours',
                                                 90 + i, 'completed')) AS calls
  FROM generate_series(1, 60) i, (VALUES (1501), (1502), (1503), (1504), (1505)) AS v(c);
SELECT count(*) FILTER (WHERE billing.record_appointment(c, 'a-' || c || '-' || i, timestamptz '2025-01-04 10:00+00' + i * interval '97 hours'))
       AS appointments
  FROM generate_series(1, 30) i, (VALUES (1501), (1505)) AS v(c);

-- 1. An as_of in the future closes nothing: the request is refused (22023), whatever period.
SELECT billing.ensure_periods('2025-01-15 12:00+00') > 0 AS periods_created;
SELECT regress.error_of(format($$SELECT billing.close_period(%s, now() + interval '1 month')$$,
                               (SELECT id FROM billing.billing_periods WHERE company_id = 1501 ORDER BY start_date LIMIT 1)));
SELECT regress.error_of($$SELECT * FROM billing.close_ended_periods(now() + interval '1 second')$$);
SELECT count(*) AS closed_periods FROM billing.billing_periods WHERE company_id BETWEEN 1501 AND 1505 AND status = 'closed';

-- 2. ensure_periods() stops where a company's plans end and creates nothing for a company
--    without a plan; a period stored by hand without a plan is reported, not billed.
SELECT billing.ensure_periods('2025-06-15 12:00+00') > 0 AS periods_created;
SELECT company_id, count(*) AS periods, min(start_date), max(end_date)
  FROM billing.billing_periods WHERE company_id BETWEEN 1501 AND 1505 GROUP BY 1 ORDER BY 1;
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1503, '2025-02-01', '2025-02-28');
-- An invoice number that collides (a restored invoice of another system) makes one close fail.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1503, '2025-05-01', '2025-05-31');
INSERT INTO billing.invoices (company_id, billing_period_id, number, issued_at, due_date, currency, total)
SELECT 1503, id, 'INV-1504-20250301', '2025-05-01', '2025-05-15', 'EUR', 0
  FROM billing.billing_periods WHERE company_id = 1503 AND start_date = '2025-05-01';

-- 3. The batch: every ended open period of every company, each on its own; one row each.
SELECT company_id, start_date, end_date, status, invoice_number, invoice_total, error_sqlstate,
       left(error_message, 60) AS error_message
  FROM billing.close_ended_periods('2025-06-15 12:00+00')
 WHERE company_id BETWEEN 1501 AND 1505 ORDER BY end_date, company_id;
-- Run again (as a daily job does): what closed stays closed, only the unresolved come back.
SELECT company_id, start_date, status FROM billing.close_ended_periods('2025-06-16 12:00+00')
 WHERE company_id BETWEEN 1501 AND 1505 ORDER BY start_date, company_id;
-- Before it has ended, a period is not closed: June is still open on 16 June.
SELECT status FROM billing.billing_periods WHERE company_id = 1501 AND start_date = '2025-06-01';
-- Only administrators may run it.
SET ROLE billing_viewer;
SELECT regress.error_of($$SELECT * FROM billing.close_ended_periods('2025-06-16 12:00+00')$$);
RESET ROLE;

-- 4. Reports: after a late call into closed February, the usage now and what was invoiced differ;
--    the invoice stays as issued.
SELECT billing.record_call(1501, 'late-feb', '2025-02-20 10:00+00', 6000, 'completed');
SELECT start_date, status, minutes, total_cost, invoice_number, invoice_status, invoice_total, invoiced_minutes,
       invoiced_amount, total_cost - invoiced_amount AS next_adjustment
  FROM billing.period_usage WHERE company_id = 1501 AND start_date IN ('2025-01-01', '2025-02-01', '2025-06-01')
 ORDER BY start_date;
-- The adjustment lands on the next invoice (July's), and then invoiced equals usage again.
SELECT invoice_number, invoice_total FROM billing.close_ended_periods('2025-07-02 12:00+00') WHERE company_id = 1501;
SELECT start_date, total_cost = invoiced_amount AS billed_in_full, invoice_total
  FROM billing.period_usage WHERE company_id = 1501 AND start_date IN ('2025-02-01', '2025-06-01') ORDER BY start_date;

-- 5. Retention: archive_calls() removes the raw rows of closed periods ended before a date and
--    every figure stays as it was (compared as text, before and after).
CREATE TEMP TABLE figures_before AS
SELECT 'trends' AS what, (SELECT jsonb_agg(t)::text FROM billing.usage_trends(1501, 8, '2025-07-10 12:00+00') t) AS figures
UNION ALL SELECT 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(1501) h)
UNION ALL SELECT 'period_usage', (SELECT jsonb_agg(u ORDER BY u.period_id)::text FROM billing.period_usage u WHERE u.company_id IN (1501, 1505))
UNION ALL SELECT 'details', (SELECT jsonb_agg(billing.period_detail(p.id) ORDER BY p.id)::text FROM billing.billing_periods p WHERE p.company_id = 1501)
UNION ALL SELECT 'day_csv', (SELECT string_agg(billing.period_csv(p.id, 'day'), '' ORDER BY p.id) FROM billing.billing_periods p WHERE p.company_id = 1501)
UNION ALL SELECT 'current', billing.usage_projection(1501, '2025-07-10 12:00+00')::text;
SELECT * FROM billing.archive_calls('2025-05-01') WHERE company_id BETWEEN 1501 AND 1505 ORDER BY company_id;
SELECT count(*) AS february_calls_left FROM billing.calls
 WHERE company_id = 1501 AND started_at < '2025-04-30';
SELECT count(*) AS open_period_calls_kept FROM billing.calls WHERE company_id = 1502;
SELECT b.what, b.figures = a.figures AS unchanged
  FROM figures_before b JOIN (
      SELECT 'trends' AS what, (SELECT jsonb_agg(t)::text FROM billing.usage_trends(1501, 8, '2025-07-10 12:00+00') t) AS figures
      UNION ALL SELECT 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(1501) h)
      UNION ALL SELECT 'period_usage', (SELECT jsonb_agg(u ORDER BY u.period_id)::text FROM billing.period_usage u WHERE u.company_id IN (1501, 1505))
      UNION ALL SELECT 'details', (SELECT jsonb_agg(billing.period_detail(p.id) ORDER BY p.id)::text FROM billing.billing_periods p WHERE p.company_id = 1501)
      UNION ALL SELECT 'day_csv', (SELECT string_agg(billing.period_csv(p.id, 'day'), '' ORDER BY p.id) FROM billing.billing_periods p WHERE p.company_id = 1501)
      UNION ALL SELECT 'current', billing.usage_projection(1501, '2025-07-10 12:00+00')::text) a USING (what)
 ORDER BY 1;
-- The rollup still verifies (the archived days are accounted for) and survives a rebuild.
SELECT count(*) AS rollup_mismatches FROM billing.verify_usage_daily() WHERE company_id BETWEEN 1501 AND 1505;
SELECT billing.rebuild_usage_daily(1501) > 0 AS rebuilt;
SELECT count(*) AS rollup_mismatches FROM billing.verify_usage_daily() WHERE company_id BETWEEN 1501 AND 1505;
-- The next invoice carries no adjustment for the archived rows.
SELECT l.kind, count(*) FROM billing.close_ended_periods('2025-08-02 12:00+00') c
  JOIN billing.invoice_lines l ON l.invoice_id = c.invoice_id WHERE c.company_id = 1501 GROUP BY 1 ORDER BY 1;
-- Archived totals are written by archive_calls() only; it refuses a missing or infinite date.
SELECT regress.error_of($$SET ROLE billing_admin; UPDATE billing.archived_usage_daily SET calls = 0 WHERE company_id = 1501$$);
RESET ROLE;
SELECT regress.error_of($$SELECT * FROM billing.archive_calls(NULL)$$), regress.error_of($$SELECT * FROM billing.archive_calls('infinity')$$);

-- 6. diagnose() sees a rollup that disagrees with the raw rows (a restore with
--    --disable-triggers) and names the repair.
BEGIN;
ALTER TABLE billing.calls DISABLE TRIGGER calls_roll_up_insert;
SELECT billing.record_call(1505, 'untracked', '2025-07-05 10:00+00', 60, 'completed');
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_insert;
SELECT "check", ok, detail FROM billing.diagnose(1505, '2025-07-10 12:00+00') WHERE "check" = 'rollup_matches_raw';
SELECT billing.rebuild_usage_daily(1505) > 0 AS rebuilt;
SELECT "check", ok FROM billing.diagnose(1505, '2025-07-10 12:00+00') WHERE "check" = 'rollup_matches_raw';
ROLLBACK;

-- 7. Upcoming charges: minutes and appointments apart. A per-appointment company's charges are
--    appointments, not overage minutes.
SELECT count(*) FILTER (WHERE billing.record_appointment(1505, 'july-' || i, timestamptz '2025-07-01 09:00+00' + i * interval '1 day'))
       AS july_appointments,
       count(*) FILTER (WHERE billing.record_call(1501, 'july-' || i, timestamptz '2025-07-01 09:00+00' + i * interval '1 day', 1800, 'completed'))
       AS july_calls
  FROM generate_series(1, 9) AS i;
SELECT 1501 AS company, * FROM billing.upcoming_charges(1501, '2025-07-10 12:00+00')
UNION ALL SELECT 1505, * FROM billing.upcoming_charges(1505, '2025-07-10 12:00+00');
RESET client_min_messages;
