-- Usage alerts: thresholds recorded at the commit that crosses them, once per company,
-- threshold and period; resolution after a correction; the outbox and webhook deliveries; the
-- spend cap. Days of June 2025 (a past period: checked with its whole usage).
INSERT INTO billing.companies (id, name, timezone) VALUES (90, 'Alert Praxis', 'Europe/Berlin'),
    (91, 'Other Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (90, 'per_minute', 49.00, 100, 0.15, 2.00, '2025-01-01'), (91, 'per_minute', 49.00, 100, 0.15, 2.00, '2025-01-01');
CREATE FUNCTION pg_temp.alerts(company bigint)
RETURNS TABLE (june boolean, kind text, threshold numeric, state text, value numeric, times_fired integer)
LANGUAGE sql AS $$
    SELECT period_start = '2025-06-01', kind, threshold, state, value, times_fired FROM billing.alerts
     WHERE company_id = company ORDER BY 1 DESC, kind, threshold
$$;
-- 79 minutes: nothing. 80: the 80% threshold, once.
SELECT billing.record_calls(90, ARRAY['a1', 'a2'], ARRAY['2025-06-02 10:00+02', '2025-06-02 11:00+02']::timestamptz[],
                            ARRAY[3000, 1740]);
SELECT * FROM pg_temp.alerts(90);
SELECT billing.record_call(90, 'a3', '2025-06-03 10:00+02', 60);
SELECT * FROM pg_temp.alerts(90);
SELECT billing.record_call(90, 'a4', '2025-06-03 11:00+02', 60);
SELECT * FROM pg_temp.alerts(90);
-- Past 100% in one transaction of several statements: one check at commit.
BEGIN;
SELECT billing.record_call(90, 'a5', '2025-06-04 10:00+02', 600);
SELECT billing.record_call(90, 'a6', '2025-06-04 11:00+02', 600);
SELECT pg_catalog.count(*) AS before_commit FROM billing.alerts WHERE company_id = 90;
COMMIT;
SELECT * FROM pg_temp.alerts(90);
-- A rolled back crossing leaves nothing.
BEGIN;
SELECT billing.record_call(91, 'b1', '2025-06-02 10:00+02', 6000);
ROLLBACK;
SELECT pg_catalog.count(*) AS other_company_alerts FROM billing.alerts WHERE company_id = 91;
-- A correction back under 100%: resolved; crossing again fires again.
DELETE FROM billing.calls WHERE company_id = 90 AND external_id IN ('a5', 'a6');
SELECT * FROM pg_temp.alerts(90);
SELECT billing.record_call(90, 'a7', '2025-06-05 10:00+02', 1300);
SELECT * FROM pg_temp.alerts(90);
-- A check inside a savepoint that is rolled back (the check at the end of each statement, with
-- SET CONSTRAINTS ... IMMEDIATE) takes its alert with it, and what it learnt too: the next
-- crossing is recorded. (The current period: calls at now().)
INSERT INTO billing.companies (id, name, timezone) VALUES (92, 'Savepoint Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (92, 'per_minute', 49.00, 100, 0.15, 2.00, '2020-01-01');
SELECT billing.record_call(92, 's1', now(), 4740);  -- 79 minutes
BEGIN;
SET CONSTRAINTS billing.usage_daily_alerts IMMEDIATE;
SAVEPOINT before_call;
SELECT billing.record_call(92, 's2', now(), 60);
SELECT pg_catalog.count(*) AS alerts_in_savepoint FROM billing.alerts WHERE company_id = 92;
ROLLBACK TO SAVEPOINT before_call;
COMMIT;
SELECT pg_catalog.count(*) AS alerts_after_rollback FROM billing.alerts WHERE company_id = 92;
SELECT billing.record_call(92, 's3', now(), 60);
SELECT kind, threshold, state, times_fired FROM billing.alerts WHERE company_id = 92;
-- Package appointments: booked appointments count, cancelled ones do not; cancelling one
-- resolves the alert it had crossed. The period is the company's (anchor day 15, New York
-- time): an appointment at 23:30 on the 14th local time (03:30 UTC on the 15th) belongs to the
-- period ending that day.
INSERT INTO billing.companies (id, name, timezone, billing_anchor_day) VALUES (93, 'Package Praxis', 'America/New_York', 15);
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments,
                                   overage_per_minute, overage_per_appointment, valid_from)
VALUES (93, 'package', 199.00, 1000, 10, 0.20, 3.00, '2025-01-01');
SELECT billing.record_appointment(93, 'p' || i, '2025-06-20 10:00-04'::timestamptz + i * interval '1 hour') FROM generate_series(1, 7) AS i;
SELECT billing.record_appointment(93, 'late', '2025-07-14 23:30-04');
SELECT period_start, period_end, kind, threshold, state, value FROM billing.alerts WHERE company_id = 93 ORDER BY 1, 3, 4;
SELECT billing.record_appointment(93, 'next-period', '2025-07-15 00:30-04');
SELECT period_start, kind, threshold, state, value FROM billing.alerts WHERE company_id = 93 ORDER BY 1, 2, 3;
UPDATE billing.appointments SET status = 'cancelled' WHERE company_id = 93 AND external_id = 'p1';
SELECT period_start, kind, threshold, state, value, times_fired FROM billing.alerts WHERE company_id = 93 ORDER BY 1, 2, 3;
-- The card of that period says the same: 7 of 10 appointments.
SELECT billing.usage_current(93, '2025-07-14 23:59-04') -> 'appointments' ->> 'total' AS appointments,
       billing.usage_current(93, '2025-07-14 23:59-04') -> 'period' AS period;

-- The outbox: one event per change of state, in order.
SELECT e.event, e.body -> 'alert' ->> 'kind' AS kind, e.body -> 'alert' ->> 'threshold' AS threshold,
       e.body -> 'alert' -> 'period' AS period
  FROM billing.alert_events e WHERE e.company_id = 90 ORDER BY e.id;
-- Budget alerts and the projection; a settings change is checked at its own commit (the
-- current period's base fee alone is 81.67% of this budget).
INSERT INTO billing.alert_settings (company_id, monthly_budget, webhook_url)
VALUES (90, 60.00, 'http://127.0.0.1:9/hook');
SELECT * FROM pg_temp.alerts(90);
-- Deliveries exist for events after the webhook was configured.
SELECT billing.record_call(90, 'a8', '2025-06-06 10:00+02', 6000);
SELECT * FROM pg_temp.alerts(90) WHERE kind IN ('budget', 'projected_budget');
SELECT d.status, d.attempts, d.url, e.event, e.body -> 'alert' ->> 'threshold' AS threshold
  FROM billing.webhook_deliveries d JOIN billing.alert_events e ON e.id = d.event_id WHERE d.company_id = 90 ORDER BY d.id;
-- Retries back off; after 24 hours and 10 attempts a delivery is dead, and diagnose() says so.
SELECT pg_catalog.count(*) AS due FROM billing.due_webhooks(50, pg_catalog.now());
DO $$
DECLARE
    delivery bigint := (SELECT pg_catalog.min(id) FROM billing.webhook_deliveries WHERE company_id = 90);
    created timestamptz := (SELECT e.created_at FROM billing.webhook_deliveries d JOIN billing.alert_events e ON e.id = d.event_id WHERE d.id = delivery);
    outcome text;
    previous timestamptz := created;
    next_at timestamptz;
BEGIN
    FOR attempt IN 1..9 LOOP
        outcome := billing.webhook_attempted(delivery, false, 500, 'HTTP 500', created + attempt * interval '1 minute');
        SELECT next_attempt_at INTO next_at FROM billing.webhook_deliveries WHERE id = delivery;
        RAISE NOTICE 'attempt %: % (waits at least % s)', attempt, outcome,
            LEAST(30 * 2 ^ (attempt - 1), 3600);
        IF next_at - (created + attempt * interval '1 minute') < LEAST(30 * 2 ^ (attempt - 1), 3600) * interval '1 second'
           OR next_at - (created + attempt * interval '1 minute') > 1.25 * LEAST(30 * 2 ^ (attempt - 1), 3600) * interval '1 second' THEN
            RAISE EXCEPTION 'backoff out of range at attempt %', attempt;
        END IF;
    END LOOP;
    RAISE NOTICE 'attempt 10 before 24 hours: %', billing.webhook_attempted(delivery, false, NULL, 'timeout', created + interval '23 hours');
    RAISE NOTICE 'attempt 11 after 24 hours: %', billing.webhook_attempted(delivery, false, NULL, 'timeout', created + interval '25 hours');
    RAISE NOTICE 'a dead delivery stays dead: %', billing.webhook_attempted(delivery, true, 200, NULL, created + interval '26 hours');
END
$$;
SELECT "check", ok, detail FROM billing.diagnose(90) WHERE "check" = 'webhook_deliveries';
SELECT billing.webhook_attempted((SELECT pg_catalog.max(id) FROM billing.webhook_deliveries WHERE company_id = 90), true, 200);
SELECT status, attempts, last_status FROM billing.webhook_deliveries WHERE company_id = 90 ORDER BY id;
-- Bad settings are refused by the table.
SELECT regress.error_of($$INSERT INTO billing.alert_settings (company_id, included_thresholds) VALUES (91, '{80,0}')$$);
SELECT regress.error_of($$INSERT INTO billing.alert_settings (company_id, included_thresholds) VALUES (91, '{80,NULL}')$$);
SELECT regress.error_of($$INSERT INTO billing.alert_settings (company_id, monthly_budget) VALUES (91, -5)$$);
SELECT regress.error_of($$INSERT INTO billing.alert_settings (company_id, webhook_url) VALUES (91, 'javascript:alert(1)')$$);
-- The spend cap: a call that would pass the cap is refused, with its marginal cost.
INSERT INTO billing.alert_settings (company_id, cap_amount) VALUES (91, 52.00);
SELECT billing.record_call(91, 'b2', '2025-06-10 10:00+02', 6000);  -- exactly the included minutes
SELECT * FROM billing.can_consume(91, 20, '2025-06-15 12:00+02');
SELECT * FROM billing.can_consume(91, 21, '2025-06-15 12:00+02');
SELECT * FROM billing.can_consume(90, 5, '2025-06-15 12:00+02');
SELECT regress.error_of($$SELECT * FROM billing.can_consume(91, -1, '2025-06-15 12:00+02')$$);
SELECT regress.error_of($$SELECT * FROM billing.can_consume(91, NULL, '2025-06-15 12:00+02')$$);
-- The budget card: June 2025 of company 90 (budget 60.00), seen on June 15.
SELECT billing.budget_status(90, '2025-06-15 12:00+02');
-- Its run-out day against an independent computation: the first day k of June whose usage at
-- the average of the first 15 days, priced with numeric, reaches the budget (or NULL).
UPDATE billing.alert_settings SET monthly_budget = 55.00 WHERE company_id = 91;
-- (An UPDATE of the settings is checked at its commit with the new row: raising a budget
-- resolves what it no longer reaches, below.)
SELECT (billing.budget_status(91, '2025-06-15 12:00+02') ->> 'budget_run_out')::date AS run_out,
       (SELECT '2025-05-31'::date + k FROM generate_series(16, 30) AS k
         WHERE (billing.price(p, 6000 / 60.0 * k / 15, 0)).total_cost >= 55.00 ORDER BY k LIMIT 1) AS independent
  FROM billing.pricing_plans p WHERE p.company_id = 91;
-- Seen on each day from June 10 (its only call) to 30, against the same independent computation.
SELECT pg_catalog.count(*) AS days_checked,
       pg_catalog.count(*) FILTER (WHERE (b ->> 'budget_run_out')::date IS DISTINCT FROM independent) AS differ
  FROM (SELECT billing.budget_status(91, ('2025-05-31'::date + d + time '12:00') AT TIME ZONE 'Europe/Berlin') AS b,
               (SELECT '2025-05-31'::date + k FROM generate_series(d, 30) AS k
                 WHERE (billing.price(p, 100.0 * k / d, 0)).total_cost >= 55.00 ORDER BY k LIMIT 1) AS independent
          FROM generate_series(10, 30) AS d, billing.pricing_plans p WHERE p.company_id = 91) AS x;
SELECT regress.error_of($$SELECT billing.budget_status(91, NULL)$$);
SELECT regress.error_of($$SELECT billing.budget_status(91, 'infinity')$$);
UPDATE billing.alert_settings SET monthly_budget = 1000000 WHERE company_id = 91;
SELECT * FROM pg_temp.alerts(91) WHERE kind IN ('budget', 'projected_budget');
UPDATE billing.alert_settings SET monthly_budget = 55.00 WHERE company_id = 91;
SELECT * FROM pg_temp.alerts(91) WHERE kind IN ('budget', 'projected_budget');
-- On demand, and for a projection: evaluate_alerts() records what the trigger would.
SELECT billing.evaluate_alerts(91, '2025-06-15 12:00+02');
SELECT * FROM pg_temp.alerts(91);
SELECT regress.error_of($$SELECT billing.evaluate_alerts(99999)$$);
-- A viewer sees its company's alerts only, and none of the outbox or settings.
CREATE ROLE alerts_viewer LOGIN IN ROLE billing_viewer;
SELECT billing.grant_company_access('alerts_viewer', 91);
SET ROLE alerts_viewer;
SELECT kind, threshold, state FROM billing.company_alerts() ORDER BY kind, threshold;
SELECT billing.budget_status(NULL, '2025-06-15 12:00+02') ->> 'monthly_budget' AS own_budget;
SELECT monthly_budget, cap_amount FROM billing.alert_settings;
SELECT webhook_secret FROM billing.alert_settings;
SELECT webhook_url FROM billing.alert_settings;
UPDATE billing.alert_settings SET monthly_budget = 1000000;
INSERT INTO billing.alert_settings (company_id, webhook_url) VALUES (91, 'http://attacker.example/');
UPDATE billing.alerts SET state = 'resolved';
DELETE FROM billing.alert_events;
SELECT * FROM billing.webhook_attempted(1, true);
SELECT billing.budget_status(90, '2025-06-15 12:00+02');
SELECT pg_catalog.count(*) AS visible_alerts FROM billing.alerts;
SELECT kind FROM billing.company_alerts(90);
SELECT * FROM billing.alert_settings;
SELECT * FROM billing.webhook_deliveries;
SELECT * FROM billing.due_webhooks();
SELECT billing.evaluate_alerts(91);
SELECT * FROM billing.can_consume(91, 1);
RESET ROLE;
-- The viewer's reads are audited, the refused one too.
SELECT billing.audit_flush_wait();
SELECT company_id, function_name, pg_catalog.sum(reads) AS reads FROM billing.audit_log
 WHERE current_user_name = 'alerts_viewer' GROUP BY 1, 2 ORDER BY 1, 2;
DROP OWNED BY alerts_viewer;
DROP ROLE alerts_viewer;
-- An ended period whose plan changed within it is checked under the plan in force by its last
-- day (the plan close_period() bills it under), whichever of its days a late call is dated:
-- May 2025, a base fee of 100 until May 20, then a plan without one (budget 100: 100% under
-- the first plan, 10% under the second).
INSERT INTO billing.companies (id, name, timezone) VALUES (94, 'Plan Change Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from, valid_until)
VALUES (94, 'per_minute', 100.00, 1000, 0.10, 1.00, '2025-01-01', '2025-05-20');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (94, 'combined', 0.10, 1.00, '2025-05-21');
INSERT INTO billing.alert_settings (company_id, monthly_budget, alert_on_projection) VALUES (94, 100, false);
SELECT billing.record_call(94, 'late-before-change', '2025-05-10 10:00+02', 6000);
SELECT billing.record_call(94, 'late-after-change', '2025-05-25 10:00+02', 60);
SELECT * FROM pg_temp.alerts(94);
SELECT billing.budget_status(94, '2025-05-31 12:00+02') ->> 'used_percent' AS may_used_percent;
