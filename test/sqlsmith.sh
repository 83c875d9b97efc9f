#!/usr/bin/env bash
# sqlsmith, connected as an unprivileged viewer role, generates random queries against a
# database with the extension and demo data. Fails on a lost connection, a server restart or a
# backend terminated by a signal. Usage: test/sqlsmith.sh [queries, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
queries=${1:-2000}
dropdb --if-exists smith
createdb smith
psql -X -q -d smith -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -d smith -f demo/demo_data.sql >/dev/null
psql -X -q -d smith <<'SQL'
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_smith') THEN
  CREATE ROLE regress_smith LOGIN IN ROLE billing_viewer; END IF; END $$;
SELECT billing.grant_company_access('regress_smith', 1);
ALTER ROLE regress_smith SET billing.viewer_rate_limit = 0;   -- sqlsmith is not a dashboard
ALTER ROLE regress_smith SET statement_timeout = '2s';
SQL
server_log="$CLUSTER_DIR/server.log"
before=$(wc -l <"$server_log")
started=$(psql -X -At -c "SELECT pg_postmaster_start_time()")
set +e
timeout 900 sqlsmith --target="host=$PGHOST port=$PGPORT dbname=smith user=regress_smith" \
  --max-queries="$queries" --seed=20251123 --exclude-catalog >build/sqlsmith.log 2>&1
smith_status=$?
set -e
tail -n 5 build/sqlsmith.log
crashes=$(tail -n +"$((before + 1))" "$server_log" | grep -cE 'terminated by signal|server process .* was terminated|all server processes terminated' || true)
restarted=$(psql -X -At -c "SELECT pg_postmaster_start_time() <> '$started'::timestamptz")
echo "sqlsmith exit $smith_status after $queries queries; crashes in the server log: $crashes; server restarted: $restarted"
[ "$smith_status" -eq 0 ] && [ "$crashes" -eq 0 ] && [ "$restarted" = "f" ]
