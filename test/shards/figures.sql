-- Every read of the API for the companies :'ids' (comma-separated) at :'as_of', one line per
-- company and function, as text: run on the router and on a single node, the outputs must be
-- identical. With :full = 1 also what carries row ids (history, payment methods, alerts, period
-- pages and CSV, the period for a day, the report view); a single node loaded through the same
-- API calls has other ids, so it is compared with :full = 0.
SET TimeZone = 'UTC';
\pset tuples_only on
\pset format unaligned
CREATE TEMP TABLE figure_companies AS
SELECT pg_catalog.unnest(pg_catalog.string_to_array(:'ids', ','))::bigint AS id;
SELECT c.id, f.name, f.value
  FROM figure_companies c
 CROSS JOIN LATERAL (VALUES
    ('usage_current', billing.usage_current(c.id, :'as_of')::text),
    ('usage_projection', billing.usage_projection(c.id, :'as_of')::text),
    ('usage_forecast', billing.usage_forecast(c.id, :'as_of')::text),
    ('usage_analytics', billing.usage_analytics(c.id, NULL, NULL, :'as_of')::text),
    ('budget_status', billing.budget_status(c.id, :'as_of')::text),
    ('can_consume', (SELECT pg_catalog.row_to_json(r)::text FROM billing.can_consume(c.id, 10, :'as_of') AS r)),
    ('upcoming_charges', (SELECT pg_catalog.row_to_json(r)::text FROM billing.upcoming_charges(c.id, :'as_of') AS r)),
    ('usage_trends', (SELECT pg_catalog.json_agg(r)::text FROM billing.usage_trends(c.id, 6, :'as_of') AS r)),
    ('usage_anomalies', (SELECT pg_catalog.json_agg(r)::text FROM billing.usage_anomalies(c.id, 28, :'as_of') AS r)),
    ('compare_plans', (SELECT pg_catalog.json_agg(r)::text FROM billing.compare_plans(c.id, 6, :'as_of') AS r)),
    ('period_totals', (SELECT pg_catalog.row_to_json(r)::text
                         FROM billing.period_totals(c.id, (:'as_of'::timestamptz - interval '60 days')::date,
                                                    :'as_of'::date, :'as_of') AS r)),
    ('verify_usage_daily', (SELECT pg_catalog.count(*)::text FROM billing.verify_usage_daily(c.id))),
    ('resolve_company', billing.resolve_company(c.id)::text)) AS f(name, value)
 ORDER BY c.id, f.name;
\if :full
SELECT c.id, f.name, f.value
  FROM figure_companies c
 CROSS JOIN LATERAL (VALUES
    ('billing_history', (SELECT pg_catalog.json_agg(r)::text FROM billing.billing_history(c.id) AS r)),
    ('company_payment_methods', (SELECT pg_catalog.json_agg(r)::text FROM billing.company_payment_methods(c.id, :'as_of') AS r)),
    ('company_alerts', (SELECT pg_catalog.json_agg(r)::text FROM billing.company_alerts(c.id, 100) AS r)),
    ('diagnose', (SELECT pg_catalog.json_agg(r)::text FROM billing.diagnose(c.id, :'as_of') AS r
                   WHERE r."check" NOT IN ('library_preloaded', 'audit_writer', 'rate_limiter'))),
    ('period_for', (SELECT pg_catalog.row_to_json(r)::text FROM billing.period_for(c.id, :'as_of'::date) AS r))) AS f(name, value)
 ORDER BY c.id, f.name;
SELECT p.company_id, p.period_id, f.name, f.value
  FROM (SELECT u.* FROM billing.period_usage u WHERE u.company_id IN (SELECT id FROM figure_companies) OFFSET 0) AS p
 CROSS JOIN LATERAL (VALUES
    ('period_usage', pg_catalog.row_to_json(p)::text),
    ('period_detail', billing.period_detail(p.period_id)::text),
    ('period_csv', pg_catalog.md5(billing.period_csv(p.period_id))),
    ('period_csv_day', billing.period_csv(p.period_id, 'day')),
    ('period_csv_lines', (SELECT pg_catalog.md5(pg_catalog.string_agg(l, '')) FROM billing.period_csv_lines(p.period_id) AS l)))
    AS f(name, value)
 ORDER BY p.company_id, p.period_id, f.name;
\endif
