#!/usr/bin/env bash
# The HTTP gateway against a cluster of its own (so that it can be stopped and started during
# requests): the demo data, tokens, a real gateway process and a real HTTP client
# (test/gateway/test_gateway.py). The argument chooses the build: build/cmake/billing-gateway
# (default) or build/asan/billing-gateway (AddressSanitizer + UndefinedBehaviorSanitizer).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh
binary=${1:-build/cmake/billing-gateway}
[ -x "$binary" ] || { echo "no gateway binary at $binary (build it with cmake first)"; exit 1; }
CLUSTER_PORT=${GATEWAY_CLUSTER_PORT:-54332} start_cluster "gateway_$(basename "$(dirname "$binary")")" \
  -c shared_preload_libraries=company_billing -c billing.database=gateway_test
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
createdb gateway_test
psql -d gateway_test -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -d gateway_test -f demo/demo_data.sql >/dev/null
psql -d gateway_test -c "CREATE ROLE gateway_test_login LOGIN IN ROLE billing_app" >/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
/usr/bin/python3 test/gateway/test_gateway.py "$binary" "$CLUSTER_DIR"
