#!/usr/bin/env bash
# Builds and installs the extension, starts a throwaway PostgreSQL cluster inside the checkout
# (build/demo), loads realistic demo data for four companies (one per pricing model) and prints
# their dashboard figures. Installs its own Debian packages.
#   KEEP=1 bash scripts/demo.sh    leaves the cluster running and prints how to connect
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

ensure_packages
build_and_install
log "starting a throwaway cluster"
start_cluster demo -c shared_preload_libraries=company_billing -c billing.database=demo
createdb demo
export PGDATABASE=demo
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>&1 | grep -v 'installing required extension' || true
log "loading demo data"
psql -X -q -f demo/demo_data.sql
log "dashboard"
psql -X -q -f demo/dashboard.sql
log "company scope and audit"
psql -X -q -f demo/security.sql 2>&1

if [ "${KEEP:-0}" = "1" ]; then
  trap - EXIT
  log "the cluster keeps running; connect with:"
  echo "    psql -h '$PGHOST' -p $PGPORT -U postgres demo"
  echo "    stop: $(pg_bindir)/pg_ctl -D '$CLUSTER_DIR/data' stop   (as the cluster owner)"
fi
