-- Run on the staging database: writes the API calls that load its companies elsewhere, to
-- :'out'.companies.sql (import_company of each company's own rows: the company, its plans,
-- payment methods and alert settings) and :'out'.usage.sql (its calls through record_calls,
-- 1,000 at a time, and its appointments through record_appointment).
SET TimeZone = 'UTC';
\pset tuples_only on
\pset format unaligned
\o :out.companies.sql
SELECT pg_catalog.format('SELECT billing.import_company(%L);',
           (SELECT pg_catalog.jsonb_object_agg(e.key, e.value) FROM pg_catalog.jsonb_each(billing.export_company(c.id)) AS e
             WHERE e.key IN ('format', 'company', 'companies', 'pricing_plans', 'payment_methods', 'alert_settings')))
  FROM billing.companies c ORDER BY c.id;
\o :out.usage.sql
SELECT pg_catalog.format('SELECT billing.record_calls(%s, %L::text[], %L::timestamptz[], %L::integer[], %L::text[]);',
           x.company_id, pg_catalog.array_agg(x.external_id ORDER BY x.id), pg_catalog.array_agg(x.started_at ORDER BY x.id),
           pg_catalog.array_agg(x.duration_sec ORDER BY x.id), pg_catalog.array_agg(x.status ORDER BY x.id))
  FROM (SELECT k.*, (pg_catalog.row_number() OVER (PARTITION BY k.company_id ORDER BY k.id) - 1) / 1000 AS chunk
          FROM billing.calls k) AS x
 GROUP BY x.company_id, x.chunk ORDER BY x.company_id, x.chunk;
SELECT pg_catalog.format('SELECT billing.record_appointment(%s, %L, %L::timestamptz, %L, %L);',
           a.company_id, a.external_id, a.booked_at, a.status, k.external_id)
  FROM billing.appointments a LEFT JOIN billing.calls k ON k.id = a.call_id ORDER BY a.id;
\o
