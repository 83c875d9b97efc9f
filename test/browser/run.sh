#!/usr/bin/env bash
# The dashboard page in a real browser (Debian's chromium driven by playwright-core from
# web/node_modules): a cluster of its own with the demo data plus two companies the demo lacks
# (one over its included minutes, one billing in JPY), invoices in every status, the gateway
# serving web/, and test/browser/dashboard_test.mjs. Screenshots go to build/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh
[ -x build/cmake/billing-gateway ] || { echo "build the gateway first (cmake)"; exit 1; }
[ -d web/node_modules/playwright-core ] || { echo "run npm ci in web/ first"; exit 1; }
CLUSTER_PORT=${BROWSER_CLUSTER_PORT:-54334} start_cluster browser \
  -c shared_preload_libraries=company_billing -c billing.database=browser_test
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
createdb browser_test
export PGDATABASE=browser_test
psql -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -f demo/demo_data.sql >/dev/null
psql >/dev/null <<'SQL'
-- Over its included minutes in the current period: 10 included, 30 minutes used.
INSERT INTO billing.companies (id, name, timezone, currency) VALUES (5, 'Overage Praxis', 'Europe/Berlin', 'EUR'),
                                                                   (6, 'Tokyo Clinic', 'Asia/Tokyo', 'JPY');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (5, 'per_minute', 29.00, 10, 0.25, 1.00, date_trunc('month', now() - interval '2 months')::date);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (6, 'combined', 15, 300, date_trunc('month', now() - interval '2 months')::date);
SELECT count(billing.record_call(c, 'browser-' || c || '-' || i, now() - i * interval '37 minutes', 300, 'completed'))
  FROM generate_series(1, 6) AS i, (VALUES (5), (6)) AS v(c);
SELECT billing.ensure_periods();
-- Every status a badge shows: company 1 keeps paid and pending ones, company 2's pending one is
-- voided, company 4's fails.
SELECT billing.mark_invoice(id, 'void') FROM billing.invoices WHERE company_id = 2 AND status = 'pending';
SELECT billing.mark_invoice(id, 'failed') FROM billing.invoices WHERE company_id = 4 AND status = 'pending';
-- The plans on offer for the plan comparison card.
INSERT INTO billing.plan_catalog (name, config, currency) VALUES
    ('Starter', '{"pricing_model":"per_minute","base_fee":29,"included_minutes":200,"overage_per_minute":0.20,"per_appointment_rate":2}', 'EUR'),
    ('Pro', '{"pricing_model":"per_minute","base_fee":99,"included_minutes":1500,"overage_per_minute":0.10,"per_appointment_rate":1.5}', 'EUR'),
    ('Pay as you go', '{"pricing_model":"combined","per_minute_rate":0.12,"per_appointment_rate":2.5}', 'EUR'),
    ('US Flex', '{"pricing_model":"combined","per_minute_rate":0.09,"per_appointment_rate":2}', 'USD');
CREATE ROLE browser_gateway LOGIN IN ROLE billing_app;
SQL
start_gateway() {  # start_gateway NAME FLAGS...: the URL on stdout
  local name=$1
  shift
  rm -f "build/browser_$name.port"
  build/cmake/billing-gateway --port 0 --port-file "build/browser_$name.port" --web-root web \
    --portal-url "https://billing.example.com/portal" "$@" >"build/browser_$name.log" 2>&1 &
  echo $! >>build/browser_gateways.pids
  for _ in $(seq 1 100); do [ -s "build/browser_$name.port" ] && break; sleep 0.1; done
  echo "http://127.0.0.1:$(cat "build/browser_$name.port")"
}
rm -f build/browser_gateways.pids
trap 'kill $(cat build/browser_gateways.pids 2>/dev/null) 2>/dev/null; stop_cluster' EXIT
database="host=$PGHOST port=$PGPORT dbname=browser_test user=browser_gateway"
export GATEWAY_URL LIMITED_URL UNREACHABLE_URL
GATEWAY_URL=$(start_gateway main --database "$database" --rate-limit 100000)
LIMITED_URL=$(start_gateway limited --database "$database" --rate-limit 3)
UNREACHABLE_URL=$(start_gateway unreachable --database "host=$PGHOST port=1 dbname=browser_test user=browser_gateway")
mkdir -p build/screenshots
node test/browser/dashboard_test.mjs
