-- company_billing, the current version's install script, built by the Makefile from
-- extension/src/*.sql (one area a file, in file name order). Released scripts are frozen in
-- extension/history/; a change to any object here also ships as an upgrade script.
--
-- Conventions (docs/design.md, "Security model"):
--   * the script runs with search_path = pg_catalog, pg_temp (set below): nothing a role put in
--     public, in its own schema or in pg_temp can stand in for a built-in while it runs, and
--     every expression stored here (CHECKs, defaults, indexes, policies, views) binds to
--     pg_catalog or billing objects only (test/attacks/install.sh plants look-alikes to show it);
--   * every object is schema-qualified, every SQL and PL/pgSQL function pins search_path to
--     pg_catalog, pg_temp; the C functions of the hot paths qualify every name in their queries;
--   * nothing is created with OR REPLACE or IF NOT EXISTS; no function is SECURITY DEFINER but
--     the two that create and drop the monthly partitions (_ensure_periods_impl,
--     _archive_calls_impl: their comments say why);
--   * functions whose names start with "_" are internal: no group role may execute them.

\echo Use "CREATE EXTENSION company_billing" to load this file. \quit

-- Restored by PostgreSQL when the script ends.
SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
