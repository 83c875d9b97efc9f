-- Moving a company: export_company() gives every row of one company, remove_company() removes
-- them, import_company() stores them again exactly: the same figures, invoices, alerts, viewer
-- mappings and tokens, and the same document when exported again.
CREATE FUNCTION pg_temp.figures_at(company bigint, as_of timestamptz) RETURNS text LANGUAGE sql AS $$
    SELECT pg_catalog.md5(pg_catalog.concat_ws('|',
        billing.usage_current(company, as_of), billing.usage_projection(company, as_of),
        billing.usage_forecast(company, as_of), billing.budget_status(company, as_of),
        (SELECT pg_catalog.json_agg(t) FROM billing.usage_trends(company, 12, as_of) t),
        (SELECT pg_catalog.json_agg(h) FROM billing.billing_history(company) h),
        (SELECT pg_catalog.json_agg(a) FROM billing.company_alerts(company, 100) a),
        (SELECT pg_catalog.json_agg(p ORDER BY p.period_id) FROM billing.period_usage p WHERE p.company_id = company),
        (SELECT pg_catalog.string_agg(billing.period_csv(p.id), '' ORDER BY p.id) FROM billing.billing_periods p
          WHERE p.company_id = company)))
$$;
-- The figures at the company's last call.
CREATE FUNCTION pg_temp.figures(company bigint) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.figures_at(company, (SELECT pg_catalog.max(c.started_at) FROM billing.calls c WHERE c.company_id = company))
$$;
-- A viewer mapping and an API token move with the company.
CREATE ROLE transfer_viewer IN ROLE billing_viewer;
SELECT billing.grant_company_access('transfer_viewer', 9201);
CREATE TEMP TABLE token AS SELECT * FROM billing.create_api_token(9201, 'transfer test');
CREATE TEMP TABLE before AS
SELECT c.id, pg_temp.figures(c.id) AS figures, billing.export_company(c.id) AS document
  FROM billing.companies c WHERE c.id IN (1504, 9201);
SELECT id, pg_catalog.jsonb_array_length(document->'calls') > 0 AS has_calls,
       pg_catalog.jsonb_array_length(document->'invoices') > 0 AS has_invoices,
       pg_catalog.jsonb_array_length(document->'alerts') > 0 AS has_alerts
  FROM before ORDER BY id;
-- Removed: nothing of the company is left in any table.
SELECT billing.remove_company(9201) > 0 AS removed;
SELECT t AS table_with_rows_left FROM pg_catalog.unnest(billing.company_tables() || ARRAY['usage_daily', 'usage_profile']) t
 WHERE (pg_catalog.xpath('/row/n/text()', pg_catalog.query_to_xml(pg_catalog.format(
          'SELECT pg_catalog.count(*) AS n FROM billing.%I WHERE %s = 9201', t,
          CASE t WHEN 'companies' THEN 'id' ELSE 'company_id' END), false, true, '')))[1]::text <> '0';
SELECT billing.usage_current(9201, '2025-06-20 12:00+00');
-- Stored again: the same figures and the same document.
SELECT billing.import_company(document) > 0 AS imported FROM before WHERE id = 9201;
SELECT b.id, pg_temp.figures(b.id) = b.figures AS same_figures, billing.export_company(b.id) = b.document AS same_document
  FROM before b WHERE b.id = 9201;
SELECT * FROM billing.verify_usage_daily(9201);
SELECT a.company_id FROM token t, billing.authenticate_token(t.token) a;
SET ROLE transfer_viewer;
SELECT billing.current_company();
RESET ROLE;
-- The same for company 1504, through a text round trip (as between two databases).
SELECT billing.remove_company(1504) > 0 AS removed;
SELECT billing.import_company(document::text::jsonb) > 0 AS imported FROM before WHERE id = 1504;
SELECT b.id, pg_temp.figures(b.id) = b.figures AS same_figures, billing.export_company(b.id) = b.document AS same_document
  FROM before b WHERE b.id = 1504;
-- Refused: a company that exists, a document of something else, rows of another company, ids
-- that exist already (nothing stored), NULL.
SELECT billing.import_company(document) FROM before WHERE id = 9201;
SELECT billing.import_company('{"format": 2, "company": 5}');
SELECT billing.import_company('[1, 2]');
SELECT billing.import_company(pg_catalog.jsonb_set(document, '{company}', '77')) FROM before WHERE id = 9201;
\set VERBOSITY terse
SELECT billing.import_company(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(document::text, '"company_id": 9201', '"company_id": 77'),
                                                 '"id": 9201,', '"id": 77,'), '"company": 9201', '"company": 77')::jsonb) FROM before WHERE id = 9201;
\set VERBOSITY default
SELECT pg_catalog.count(*) AS company_77 FROM billing.companies WHERE id = 77;
SELECT billing.export_company(NULL);
SELECT billing.export_company(424242);
-- Who may: administrators export; only superusers import and remove; viewers and the
-- application do neither.
CREATE ROLE transfer_admin IN ROLE billing_admin;
CREATE ROLE transfer_app IN ROLE billing_app;
SET ROLE transfer_admin;
SELECT pg_catalog.jsonb_typeof(billing.export_company(9201));
SELECT billing.remove_company(9201);
SELECT billing.import_company('{}');
RESET ROLE;
SET ROLE transfer_app;
BEGIN;
SET LOCAL billing.company_id = '9201';
SELECT billing.export_company(9201);
ROLLBACK;
RESET ROLE;
SELECT billing.remove_company(9201) > 0 AS removed;
-- A viewer role missing where the document goes: nothing is stored.
DROP ROLE transfer_admin, transfer_app, transfer_viewer;
SELECT billing.import_company(document) > 0 AS imported FROM before WHERE id = 9201;
SELECT pg_catalog.count(*) AS company_9201 FROM billing.companies WHERE id = 9201;
CREATE ROLE transfer_viewer IN ROLE billing_viewer;
SELECT billing.import_company(document) > 0 AS imported FROM before WHERE id = 9201;
SELECT pg_temp.figures(9201) = figures AS same_figures FROM before WHERE id = 9201;
DROP ROLE transfer_viewer;
