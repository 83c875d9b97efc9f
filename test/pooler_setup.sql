-- The database of the pooler and client tests: the demo data, an application role and a viewer
-- role mapped to company 1 (cluster-wide roles, created once).
\set ON_ERROR_STOP on
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pooler_app') THEN
        CREATE ROLE pooler_app LOGIN IN ROLE billing_app;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pooler_viewer') THEN
        CREATE ROLE pooler_viewer LOGIN IN ROLE billing_viewer;
    END IF;
END
$$;
\i demo/demo_data.sql
SELECT billing.grant_company_access('pooler_viewer', 1);
