#!/usr/bin/env bash
# pg_dump / pg_restore of a populated database into a fresh one: every table's rows, every
# dashboard figure, the row level security policies and the grants must come back identical.
# Runs against the cluster in PGHOST/PGPORT (as a superuser).
set -euo pipefail
cd "$(dirname "$0")/.."
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
dropdb --if-exists dump_source 2>/dev/null; dropdb --if-exists dump_target 2>/dev/null
createdb dump_source
# The audit writer serves the regression database: reads here are unaudited on purpose.
psql -X -q -d postgres -c "ALTER DATABASE dump_source SET billing.audit = off"
psql -d dump_source -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -d dump_source -f demo/demo_data.sql >/dev/null
psql -d dump_source <<'SQL'
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_dump_viewer') THEN
  CREATE ROLE regress_dump_viewer LOGIN IN ROLE billing_viewer; END IF; END $$;
SELECT billing.grant_company_access('regress_dump_viewer', 2) IS NULL AS granted;
INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, function_name)
VALUES (now(), 2, 'someone', 'someone', 'usage_current');
SQL
# API tokens: one in use, one revoked; after the restore the first still authenticates.
token=$(psql -d dump_source -At -c "SELECT token FROM billing.create_api_token(1, 'dump', 'anna@example.com')")
psql -d dump_source -c "SELECT billing.revoke_api_token((billing.create_api_token(2, 'revoked')).token_id)" >/dev/null
pg_dump -Fc -d dump_source -f build/dump_source.dump
createdb dump_target
psql -X -q -d postgres -c "ALTER DATABASE dump_target SET billing.audit = off"
pg_restore --exit-on-error -d dump_target build/dump_source.dump

# Everything that must be identical, as one text per database.
snapshot() {
  psql -d "$1" -At <<'SQL'
SELECT 'table ' || c.relname || ' ' || (xpath('/row/c/text()',
         query_to_xml(format('SELECT count(*) || '':'' || md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) AS c FROM billing.%I t', c.relname), false, true, '')))[1]::text
  FROM pg_class c WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind = 'r'
   AND c.relname NOT IN ('usage_daily', 'usage_profile')  -- derived: rebuilt by triggers on restore, slots differ
 ORDER BY c.relname;
SELECT 'rollup exact ' || NOT EXISTS (SELECT 1 FROM billing.verify_usage_daily());
SELECT 'profile exact ' || NOT EXISTS (SELECT 1 FROM billing.verify_usage_profile());
SELECT 'sequence ' || sequencename || ' ' || coalesce(last_value, 0) FROM pg_sequences WHERE schemaname = 'billing' ORDER BY 1;
-- As of the last recorded call: the same instant in both databases.
SELECT 'figures ' || c.id || ' ' || billing.usage_projection(c.id, (SELECT max(started_at) FROM billing.calls))::text
  FROM billing.companies c ORDER BY c.id;
SELECT 'trends ' || c.id || ' ' || t::text
  FROM billing.companies c, billing.usage_trends(c.id, 6, (SELECT max(started_at) FROM billing.calls)) t ORDER BY c.id, t.period_start;
SELECT 'history ' || h::text FROM billing.companies c, billing.billing_history(c.id) h ORDER BY 1;
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || permissive || ' ' || roles::text || ' ' || cmd || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '')
  FROM pg_policies WHERE schemaname = 'billing' ORDER BY tablename, policyname;
SELECT 'rls ' || relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity || ' ' || coalesce(relacl::text, '')
  FROM pg_class WHERE relnamespace = 'billing'::regnamespace AND relkind IN ('r', 'S') ORDER BY relname;
SELECT 'function ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '') || ' ' || p.prosecdef || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
  FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace ORDER BY 1;
SELECT 'schema ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'billing';
SQL
}
snapshot dump_source >build/dump_source.snapshot
snapshot dump_target >build/dump_target.snapshot
if ! diff -u build/dump_source.snapshot build/dump_target.snapshot; then
  echo "dump/restore changed something"; exit 1
fi
company=$(psql -d dump_target -At -c "SELECT company_id || ' ' || user_name FROM billing.authenticate_token('$token')")
[ "$company" = "1 anna@example.com" ] || { echo "a token created before the dump does not authenticate after the restore: $company"; exit 1; }
# The restored sequences continue after the restored rows.
psql -d dump_target -c "SELECT billing.record_call(1, 'after-restore', now() - interval '1 minute', 60, 'completed')" >/dev/null
echo "identical after restore: $(wc -l <build/dump_source.snapshot) lines of tables, figures, policies and grants"
