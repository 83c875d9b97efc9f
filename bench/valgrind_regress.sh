#!/usr/bin/env bash
# Runs the pg_regress and isolation suites once against a server whose every process runs
# under valgrind memcheck, and lists the errors valgrind reports in frames of company_billing.
# Slow (minutes); not part of scripts/test.sh. Reports: build/valgrind-regress/reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages valgrind
build_and_install
start_cluster valgrind-regress -c shared_preload_libraries=company_billing -c billing.database=contrib_regression
reports="$CLUSTER_DIR/reports"
mkdir -p "$reports" && chmod 777 "$reports"
as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$CLUSTER_DIR/data" -m fast stop >/dev/null
# The postmaster and every backend it forks run under memcheck (no leak check: PostgreSQL frees
# memory by whole contexts at exit, by design).
as_cluster_owner valgrind --quiet --trace-children=yes --leak-check=no --track-origins=no \
  --error-limit=no --log-file="$reports/vg.%p" \
  "$(pg_bindir)/postgres" -D "$CLUSTER_DIR/data" -c listen_addresses='' \
  -c unix_socket_directories="$CLUSTER_DIR" -c port=54329 -c shared_preload_libraries=company_billing \
  -c billing.database=contrib_regression -c max_connections=20 >"$CLUSTER_DIR/server.log" 2>&1 &
for _ in $(seq 1 120); do pg_isready -q -h "$CLUSTER_DIR" -p 54329 && break; sleep 1; done
set +e
make installcheck >"$CLUSTER_DIR/installcheck.log" 2>&1
status=$?
set -e
grep -E '^test|tests' "$CLUSTER_DIR/installcheck.log" || true
as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$CLUSTER_DIR/data" -m fast stop >/dev/null || true
errors=$(cat "$reports"/vg.* 2>/dev/null | grep -c '^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Mismatched\|overlap\)' || true)
ours=$(cat "$reports"/vg.* 2>/dev/null | grep -c 'company_billing.so' || true)
echo "installcheck exit $status; valgrind error reports: $errors; stack lines in company_billing.so: $ours"
