#!/usr/bin/env bash
# Builds and installs the extension, starts a throwaway PostgreSQL cluster inside the checkout
# (build/demo), loads realistic demo data for four companies (one per pricing model) and prints
# their dashboard figures, then starts the HTTP gateway with one API token per company and
# calls its endpoints. Installs its own Debian packages.
#   KEEP=1 bash scripts/demo.sh    leaves the cluster and the gateway running
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
psql -X -q -f demo/plan_catalog.sql >/dev/null
log "dashboard"
psql -X -q -f demo/dashboard.sql
log "company scope and audit"
psql -X -q -f demo/security.sql 2>&1

log "building the HTTP gateway (src/gateway/) and the dashboard's npm packages (web/)"
build_gateway
install_web_packages
log "starting the gateway, one API token per company"
psql -X -q -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_gateway') THEN
                 CREATE ROLE demo_gateway LOGIN IN ROLE billing_app; END IF; END\$\$"
rm -f build/demo_gateway.port
build/cmake/billing-gateway --database "host=$PGHOST port=$PGPORT dbname=demo user=demo_gateway" \
  --port "${GATEWAY_PORT:-0}" --port-file build/demo_gateway.port --web-root web \
  --portal-url "https://billing.example.com/portal" >build/demo_gateway.log 2>&1 &
gateway_pid=$!
trap 'kill "$gateway_pid" 2>/dev/null; stop_cluster' EXIT
for _ in $(seq 1 100); do [ -s build/demo_gateway.port ] && break; sleep 0.1; done
gateway="http://127.0.0.1:$(cat build/demo_gateway.port)"
echo "gateway: $gateway"
echo "dashboard: $gateway/dashboard/  (sign in with a token below)"
declare -A tokens
for company in $(psql -X -At -c "SELECT id FROM billing.companies ORDER BY id"); do
  tokens[$company]=$(psql -X -At -c "SELECT token FROM billing.create_api_token($company, 'demo dashboard', 'demo-user-$company')")
  echo "token company $company: ${tokens[$company]}"
done
period=$(psql -X -At -c "SELECT min(id) FROM billing.billing_periods WHERE company_id = 1 AND status = 'closed'")
log "the endpoints (company 1's token)"
for path in usage/current usage/projection history "period/$period" "period/$period/download" \
            "usage/trends?months=6" upcoming-charges payment-methods; do
  echo "curl -H 'Authorization: Bearer ${tokens[1]}' '$gateway/api/billing/$path'"
done
for path in usage/current usage/projection; do
  log "GET /api/billing/$path"
  curl -sS -H "Authorization: Bearer ${tokens[1]}" "$gateway/api/billing/$path"
  echo
done
log "GET /api/billing/history (first invoice)"
curl -sS -o build/demo_history.json -H "Authorization: Bearer ${tokens[1]}" "$gateway/api/billing/history"
head -c 400 build/demo_history.json
echo
log "GET /api/billing/period/$period/download (first lines)"
curl -sS -o build/demo_period.csv -H "Authorization: Bearer ${tokens[1]}" "$gateway/api/billing/period/$period/download"
head -n 4 build/demo_period.csv
log "GET /api/billing/period/$period with company 2's token: another company's period is not found"
curl -sS -H "Authorization: Bearer ${tokens[2]}" "$gateway/api/billing/period/$period"
echo

log "a screenshot of company 1's dashboard"
node scripts/dashboard_screenshot.mjs "$gateway" "${tokens[1]}" build/demo_dashboard.png
echo "saved build/demo_dashboard.png"

if [ "${KEEP:-0}" = "1" ]; then
  trap - EXIT
  log "the cluster and the gateway keep running; connect with:"
  echo "    psql -h '$PGHOST' -p $PGPORT -U postgres demo"
  echo "    gateway: $gateway  (log: build/demo_gateway.log), dashboard: $gateway/dashboard/"
  echo "    stop: kill $gateway_pid; $(pg_bindir)/pg_ctl -D '$CLUSTER_DIR/data' stop   (as the cluster owner)"
fi
