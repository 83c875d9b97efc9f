-- Without shared_preload_libraries: everything but the limiter and the audit writer works,
-- and diagnose() says that those two are off.
CREATE EXTENSION company_billing;
INSERT INTO billing.companies (id, name) VALUES (1, 'Plain');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (1, 'combined', 0.10, 2.00, '2025-01-01');
SELECT billing.record_call(1, 'c1', '2025-06-02 10:00+00', 600, 'completed');
SELECT billing.usage_current(1, '2025-06-20') ->> 'total_cost' AS total_cost;
SELECT * FROM billing.runtime_status();
SELECT "check", ok, detail FROM billing.diagnose(1, '2025-06-20')
 WHERE "check" IN ('library_preloaded', 'audit_writer', 'rate_limiter');
SELECT billing.audit_flush_wait('1 second') AS flushed;
\set VERBOSITY terse
SELECT billing.throttle('k', 5);
-- Alerts without shared memory: every check is exact, and still once per threshold.
\set VERBOSITY default
INSERT INTO billing.companies (id, name) VALUES (2, 'Alerts without preload');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (2, 'per_minute', 49.00, 10, 0.15, 2.00, '2025-01-01');
SELECT billing.record_call(2, 'p1', '2025-06-02 10:00+00', 480);
SELECT billing.record_call(2, 'p2', '2025-06-02 11:00+00', 60);
SELECT billing.record_call(2, 'p3', '2025-06-02 12:00+00', 60);
SELECT kind, threshold, state, times_fired FROM billing.alerts WHERE company_id = 2 ORDER BY threshold;
