-- Periods, closing, invoices: calendar lengths, idempotent close, immutability, late calls
-- billed once as adjustments on the next invoice.

-- Company 31: per_minute until January 2026, then package.
INSERT INTO billing.companies (id, name, timezone) VALUES (31, 'Closing Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from, valid_until)
VALUES (31, 'per_minute', 49.00, 10, 0.15, 2.00, '2025-11-15', '2026-01-31');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments,
                                   overage_per_minute, overage_per_appointment, valid_from)
VALUES (31, 'package', 99.00, 20, 2, 0.12, 3.00, '2026-02-01');

-- ensure_periods() creates every missing period from the first plan's period on; idempotent.
SELECT billing.ensure_periods('2026-03-10 12:00 Europe/Berlin') > 0 AS created_some;
SELECT billing.ensure_periods('2026-03-10 12:00 Europe/Berlin') AS created_again;
SELECT start_date, end_date, end_date - start_date + 1 AS days, status
  FROM billing.billing_periods WHERE company_id = 31 ORDER BY start_date;

-- Calendar lengths with anchor day 15 across February 2028 (a leap year) ...
INSERT INTO billing.companies (id, name, timezone, billing_anchor_day) VALUES (32, 'Anchor 15', 'UTC', 15);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (32, 'per_appointment', 5, '2027-12-20');
-- ... and with anchor day 1 (February 2028 has 29 days, February 2027 has 28).
INSERT INTO billing.companies (id, name, timezone) VALUES (33, 'Anchor 1', 'America/New_York');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (33, 'per_appointment', 5, '2027-01-10');
SELECT billing.ensure_periods('2028-03-20 12:00+00') >= 18 AS created;
SELECT company_id, start_date, end_date, end_date - start_date + 1 AS days
  FROM billing.billing_periods
 WHERE company_id IN (32, 33) AND start_date BETWEEN '2027-01-01' AND '2028-03-31'
   AND (company_id = 32 OR extract(month FROM start_date) IN (1, 2, 3, 12))
 ORDER BY company_id, start_date;
-- Inactive companies get no periods.
INSERT INTO billing.companies (id, name, active) VALUES (35, 'Dormant', false);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (35, 'per_appointment', 5, '2025-01-01');
SELECT billing.ensure_periods('2025-06-01') AS created_for_dormant,
       (SELECT count(*) FROM billing.billing_periods WHERE company_id = 35) AS dormant_periods;

-- December usage of company 31: 30 calls of 60 s (30 minutes: 20 over the 10 included),
-- 3 appointments; one call on 31 December at 23:30 local time still belongs to December.
SELECT count(*) FILTER (WHERE billing.record_call(31, 'dec-' || i, '2025-12-01 10:00 Europe/Berlin'::timestamptz + i * interval '1 day', 60, 'completed'))
  FROM generate_series(0, 28) AS i;
SELECT billing.record_call(31, 'dec-last', '2025-12-31 23:30 Europe/Berlin', 60, 'completed');
SELECT count(*) FILTER (WHERE billing.record_appointment(31, 'dec-appt-' || i, '2025-12-05 10:00 Europe/Berlin'::timestamptz + i * interval '1 day'))
  FROM generate_series(1, 3) AS i;

\set december '(SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = ''2025-12-01'')'
\set january '(SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = ''2026-01-01'')'
\set february '(SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = ''2026-02-01'')'

-- A period cannot be closed before it has ended (in the company's time zone).
SELECT regress.error_of($$SELECT billing.close_period($$ || :december || $$, '2025-12-31 23:59 Europe/Berlin')$$);

-- Closing writes the invoice and its lines and marks the period closed.
SELECT number, issued_at AT TIME ZONE 'Europe/Berlin' AS issued_local, due_date, currency, total, status
  FROM billing.close_period(:december, '2026-01-01 09:00 Europe/Berlin');
SELECT l.line_number, l.kind, l.description, l.quantity, l.unit_price, l.amount
  FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id
 WHERE i.billing_period_id = :december ORDER BY l.line_number;
SELECT status, closed_at AT TIME ZONE 'Europe/Berlin' AS closed_local FROM billing.billing_periods WHERE id = :december;

-- Closing again returns the same invoice and writes nothing.
SELECT (billing.close_period(:december, '2026-02-15')).number,
       (SELECT count(*) FROM billing.invoices WHERE company_id = 31) AS invoices,
       (SELECT count(*) FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id WHERE i.company_id = 31) AS lines;

-- A call for December that arrives after the close is stored, never rejected ...
SELECT billing.record_call(31, 'dec-late', '2025-12-20 15:00 Europe/Berlin', 600, 'completed') AS stored;
SELECT billing.record_appointment(31, 'dec-late-appt', '2025-12-20 15:05 Europe/Berlin') AS stored;
-- ... the closed invoice does not change ...
SELECT total FROM billing.invoices WHERE billing_period_id = :december;
-- ... and the next invoice bills it as an adjustment (10 minutes at 0.15, one appointment at 2.00).
SELECT number, total FROM billing.close_period(:january, '2026-02-01 08:00 Europe/Berlin');
SELECT l.line_number, l.kind, l.description, l.quantity, l.amount
  FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id
 WHERE i.billing_period_id = :january ORDER BY l.line_number;
-- Billed once: the February invoice has no adjustment for it. A call removed from December
-- (a correction) comes back as a negative adjustment.
DELETE FROM billing.calls WHERE company_id = 31 AND external_id = 'dec-3';
SELECT billing.record_call(31, 'feb-1', '2026-02-03 10:00 Europe/Berlin', 1500, 'completed');
SELECT number, total FROM billing.close_period(:february, '2026-03-01 08:00 Europe/Berlin');
SELECT l.line_number, l.kind, l.description, l.quantity, l.amount
  FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id
 WHERE i.billing_period_id = :february ORDER BY l.line_number;
-- Every invoice total is the sum of its lines.
SELECT i.number, i.total = sum(l.amount) AS total_is_sum_of_lines
  FROM billing.invoices i JOIN billing.invoice_lines l ON l.invoice_id = i.id
 WHERE i.company_id = 31 GROUP BY i.id, i.number, i.total ORDER BY i.number;

-- Issued invoices and their lines are immutable; closed periods too.
SELECT regress.error_of($$UPDATE billing.invoices SET total = 0 WHERE company_id = 31$$);
SELECT regress.error_of($$DELETE FROM billing.invoices WHERE company_id = 31$$);
SELECT regress.error_of($$UPDATE billing.invoice_lines SET amount = 0$$);
SELECT regress.error_of($$DELETE FROM billing.invoice_lines$$);
SELECT regress.error_of($$TRUNCATE billing.invoice_lines$$);
SELECT regress.error_of($$TRUNCATE billing.invoices CASCADE$$);
SELECT regress.error_of($$UPDATE billing.billing_periods SET end_date = '2025-12-30' WHERE id = $$ || :december);
SELECT regress.error_of($$DELETE FROM billing.billing_periods WHERE id = $$ || :december);

-- Payment status and PDF URL: the only things that change, along allowed transitions.
SELECT number, status, pdf_url, status_changed_at AT TIME ZONE 'UTC' AS changed_utc
  FROM billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = :december), 'paid',
                            'https://billing.example.com/invoices/INV-31-20251201.pdf', '2026-01-05 10:00+00');
SELECT number, status FROM billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = :january), 'failed', NULL, '2026-02-05');
SELECT number, status FROM billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = :january), 'paid', NULL, '2026-02-07');
SELECT regress.error_of($$SELECT billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = $$ || :december || $$), 'pending')$$);
SELECT regress.error_of($$SELECT billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = $$ || :february || $$), 'refunded')$$);
SELECT regress.error_of($$SELECT billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = $$ || :february || $$), 'paid', 'javascript:alert(1)')$$);
SELECT regress.error_of($$SELECT billing.mark_invoice(999999, 'paid')$$);
SELECT regress.error_of($$SELECT billing.mark_invoice(NULL, 'paid')$$);
SELECT number, status FROM billing.mark_invoice((SELECT id FROM billing.invoices WHERE billing_period_id = :february), 'void', NULL, '2026-03-02');

-- Bad input for closing.
SELECT regress.error_of($$SELECT billing.close_period(NULL)$$);
SELECT regress.error_of($$SELECT billing.close_period(999999)$$);
SELECT regress.error_of($$SELECT billing.close_period($$ || :december || $$, NULL)$$);
SELECT regress.error_of($$SELECT billing.ensure_periods(NULL)$$);
SELECT regress.error_of($$SELECT billing.ensure_periods('infinity')$$);
-- A period without any valid plan cannot be billed.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (31, '2025-10-01', '2025-10-31');
SELECT regress.error_of($$SELECT billing.close_period((SELECT id FROM billing.billing_periods WHERE company_id = 31 AND start_date = '2025-10-01'), '2026-03-01')$$);
SELECT count(*) AS invoices_after_errors FROM billing.invoices WHERE company_id = 31;
