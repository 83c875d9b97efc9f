-- Every figure of the demo companies, as of a fixed instant and as of now (the data is relative
-- to now()): the same lines on an upgraded and on a fresh database.
\pset format unaligned
\pset tuples_only on
SELECT c.id, billing.usage_current(c.id, now())::text, billing.usage_projection(c.id, now())::text
  FROM billing.companies c ORDER BY c.id;
SELECT c.id, t.* FROM billing.companies c, billing.usage_trends(c.id, 6, now()) t ORDER BY c.id, t.period_start;
SELECT c.id, h.number, h.period_start, h.total, h.status FROM billing.companies c, billing.billing_history(c.id) h
 ORDER BY c.id, h.number;
SELECT c.id, u.* FROM billing.companies c, billing.upcoming_charges(c.id, now()) u ORDER BY c.id;
SELECT p.company_id, p.start_date, billing.period_detail(p.id) - 'period' - 'invoice',
       pg_catalog.md5(billing.period_csv(p.id)), pg_catalog.md5(billing.period_csv(p.id, 'day'))
  FROM billing.billing_periods p ORDER BY p.company_id, p.start_date;
SELECT i.company_id, i.number, i.total, l.line_number, l.kind, l.quantity, l.amount
  FROM billing.invoices i JOIN billing.invoice_lines l ON l.invoice_id = i.id ORDER BY i.number, l.line_number;
SELECT 'rollup differences', count(*) FROM billing.verify_usage_daily();
-- The call profile an upgrade computes from the stored calls, read as a fresh install keeps it.
SELECT 'profile differences', count(*) FROM billing.verify_usage_profile();
SELECT c.id, billing.usage_analytics(c.id, NULL, NULL, now())::text,
       billing.usage_analytics(c.id, (now() AT TIME ZONE c.timezone)::date - 120, NULL, now())::text
  FROM billing.companies c ORDER BY c.id;
SELECT 'viewer', v.role::text, v.company_id FROM billing.viewer_companies v ORDER BY 2;
SELECT 'audit rows', count(*) FROM billing.audit_log;
SELECT * FROM billing.period_usage ORDER BY period_id;
