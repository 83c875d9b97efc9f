-- Realistic demo data: four companies, one per pricing model, with about 100 days of calls
-- and appointments up to now(). Deterministic for a given day (setseed).
\set ON_ERROR_STOP on
SELECT setseed(0.42);

INSERT INTO billing.companies (id, name, timezone, currency, billing_anchor_day) VALUES
    (1, 'Zahnarztpraxis Dr. Weber', 'Europe/Berlin',    'EUR', 1),
    (2, 'Kanzlei Hoffmann & Partner', 'Europe/Berlin',  'EUR', 1),
    (3, 'Salon Bella Vista',          'Europe/Vienna',  'EUR', 15),
    (4, 'Brooklyn Family Clinic',     'America/New_York', 'USD', 1);

-- The four plans of the original specification.
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes,
                                   overage_per_minute, per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49.00, 500, 0.15, 2.00, (now() - interval '100 days')::date);
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments,
                                   overage_per_minute, overage_per_appointment, valid_from)
VALUES (2, 'package', 99.00, 1000, 50, 0.12, 3.00, (now() - interval '100 days')::date);
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, per_appointment_rate, valid_from)
VALUES (3, 'per_appointment', 0, 5.00, (now() - interval '100 days')::date);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (4, 'combined', 0.10, 2.00, (now() - interval '100 days')::date);

-- Calls on business days between 08:00 and 18:00 company-local time; busier companies get
-- more calls. Most calls complete; durations of 30 seconds to about 8 minutes.
CREATE TEMP TABLE demo_calls AS
SELECT company_id, external_id, started_at, duration_sec,
       CASE WHEN r < 0.90 THEN 'completed' WHEN r < 0.95 THEN 'missed'
            WHEN r < 0.98 THEN 'busy' ELSE 'failed' END AS status
  FROM (SELECT c.id AS company_id,
               format('%s-%s-%s', c.id, to_char(d, 'YYYYMMDD'), n) AS external_id,
               ((d::date + time '08:00' + random() * interval '10 hours') AT TIME ZONE c.timezone) AS started_at,
               (30 + random() * random() * 480)::int AS duration_sec,
               random() AS r
          FROM billing.companies c
         CROSS JOIN generate_series((now() - interval '100 days')::date, now()::date, interval '1 day') AS d
         CROSS JOIN LATERAL generate_series(1, (CASE c.id WHEN 1 THEN 14 WHEN 2 THEN 22 WHEN 3 THEN 9 ELSE 17 END
                                                * (0.6 + random() * 0.8))::int) AS n
         WHERE extract(isodow FROM d) < 6) AS generated;

INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT company_id, external_id, started_at, duration_sec, status
  FROM demo_calls WHERE started_at <= now();

-- About a third of completed calls book an appointment; a few are cancelled later.
INSERT INTO billing.appointments (company_id, external_id, call_id, booked_at, status)
SELECT company_id, 'appt-' || external_id, id, started_at + make_interval(secs => duration_sec),
       CASE WHEN random() < 0.05 THEN 'cancelled' ELSE 'booked' END
  FROM billing.calls
 WHERE status = 'completed' AND random() < 0.35;

-- Ingestion through the API is idempotent: the second call stores nothing.
SELECT billing.record_call(1, 'live-demo-call', now() - interval '5 minutes', 184, 'completed') AS first_time,
       billing.record_call(1, 'live-demo-call', now() - interval '5 minutes', 184, 'completed') AS second_time;

SELECT c.name, count(DISTINCT k.id) AS calls, count(DISTINCT a.id) AS appointments
  FROM billing.companies c
  LEFT JOIN billing.calls k ON k.company_id = c.id
  LEFT JOIN billing.appointments a ON a.company_id = c.id AND a.call_id = k.id
 GROUP BY c.id, c.name ORDER BY c.id;

-- Month end, as a daily job would run it: create the periods, close every ended one (oldest
-- first), and record what the payment provider reported.
SELECT billing.ensure_periods() AS periods_created;
DO $$
DECLARE
    p record;
BEGIN
    -- Each period is closed at 06:00 local time on the day after it ends, once that has come (a
    -- period closes only on the real clock).
    FOR p IN SELECT bp.id, bp.end_date, c.timezone
               FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
              WHERE ((bp.end_date + 1)::timestamp + interval '6 hours') AT TIME ZONE c.timezone <= now()
              ORDER BY bp.start_date, bp.id
    LOOP
        PERFORM billing.close_period(p.id, ((p.end_date + 1)::timestamp + interval '6 hours') AT TIME ZONE p.timezone);
    END LOOP;
END
$$;
-- Older invoices are paid; each company's latest is pending, except company 3's, which failed.
SELECT i.number, (billing.mark_invoice(i.id,
           CASE WHEN i.issued_at < latest THEN 'paid' WHEN i.company_id = 3 THEN 'failed' ELSE 'pending' END,
           'https://billing.example.com/invoices/' || i.number || '.pdf', i.issued_at + interval '3 days')).status
  FROM (SELECT i.*, max(i.issued_at) OVER (PARTITION BY i.company_id) AS latest FROM billing.invoices i) AS i
 ORDER BY i.company_id, i.issued_at;

INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year, is_default) VALUES
    (1, 'pm_demo_1a', 'visa', '4242', 8, 2028, true), (1, 'pm_demo_1b', 'sepa_debit', '3000', 12, 2099, false),
    (2, 'pm_demo_2a', 'mastercard', '4444', 3, 2027, true), (3, 'pm_demo_3a', 'visa', '1881', 1, 2026, true),
    (4, 'pm_demo_4a', 'amex', '0005', 11, 2029, true);
