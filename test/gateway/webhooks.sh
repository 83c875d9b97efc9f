#!/usr/bin/env bash
# The gateway's webhook sender against a receiver on loopback that fails, times out and
# succeeds (test/gateway/test_webhooks.py), on a cluster of its own. The argument chooses the
# gateway build, as for test/gateway/http_api.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh
binary=${1:-build/cmake/billing-gateway}
[ -x "$binary" ] || { echo "no gateway binary at $binary (build it with cmake first)"; exit 1; }
CLUSTER_PORT=${WEBHOOK_CLUSTER_PORT:-54337} start_cluster webhooks \
  -c shared_preload_libraries=company_billing -c billing.database=webhook_test
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
createdb webhook_test
psql -d webhook_test -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -d webhook_test -c "CREATE ROLE webhook_test_login LOGIN IN ROLE billing_app" >/dev/null
/usr/bin/python3 test/gateway/test_webhooks.py "$binary" "$CLUSTER_DIR"
