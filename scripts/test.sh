#!/usr/bin/env bash
# Runs every test suite and ends with the line "N passed, N failed"; exits non-zero when
# anything failed. Installs its own Debian packages. The suites are the tables below: one
# runner (and one result parser) per kind: GoogleTest binaries, pg_regress / isolation runs,
# and scripts that pass when they exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

passed=0
failed=0
count() {  # count PASSED FAILED SUITE
  passed=$((passed + $1))
  failed=$((failed + $2))
  printf '    %s: %d passed, %d failed\n' "$3" "$1" "$2"
}

# GoogleTest: each test is one result; a binary that fails to report counts as one failure.
run_gtest() {  # run_gtest NAME BINARY LOG
  local name=$1 binary=$2 output=$3 status
  log "$name"
  set +e
  "$binary" --gtest_brief=1 >"$output" 2>&1
  status=$?
  set -e
  grep -E '^\[  FAILED  \] [A-Za-z]' "$output" || true
  local ok bad
  ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$output")
  bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$output")
  if [ -z "$ok" ] && [ -z "$bad" ] || { [ "$status" -ne 0 ] && [ -z "$bad" ]; }; then
    tail -n 40 "$output"
    bad=$((${bad:-0} + 1))
  fi
  count "${ok:-0}" "${bad:-0}" "$name"
}

# pg_regress and pg_isolation_regress: each test is one result ("test x ... ok", "ok N - x").
parse_pg_regress() {  # parse_pg_regress NAME LOG DIFFS...
  local name=$1 output=$2
  shift 2
  grep -E '^(test|ok|not ok) ' "$output" || true
  local ok bad
  ok=$(grep -cE '^(test .*\.\.\. ok|ok [0-9]+ )' "$output" || true)
  bad=$(grep -cE '^(test .*\.\.\. FAILED|not ok [0-9]+ )' "$output" || true)
  if [ "$bad" -gt 0 ]; then
    for diffs in "$@"; do [ -f "$diffs" ] && head -n 200 "$diffs"; done
  fi
  if [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
    cat "$output"
    bad=1
  fi
  count "$ok" "$bad" "$name"
}

# A script: one result, passed when it exits 0.
run_check() {  # run_check NAME SCRIPT [ARGS]
  local name=$1
  shift
  log "$name"
  if bash "$@" >"build/$(basename "$1" .sh).log" 2>&1; then
    tail -n 3 "build/$(basename "$1" .sh).log" | sed 's/^/    /'
    count 1 0 "$name"
  else
    tail -n 40 "build/$(basename "$1" .sh).log"
    count 0 1 "$name"
  fi
}

ensure_packages
install_web_packages

# 1. The pure core, without a server.
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j2 >/dev/null
run_gtest "unit tests of src/core (GoogleTest)" build/cmake/core_tests build/core_tests.log
cmake -S . -B build/asan -DBILLING_SANITIZE=ON >/dev/null
cmake --build build/asan -j2 >/dev/null
run_gtest "unit tests of src/core under AddressSanitizer and UndefinedBehaviorSanitizer" build/asan/core_tests \
  build/core_tests_asan.log

log "fuzz smoke runs (libFuzzer, 20,000 inputs each, on a copy of fuzz/corpus)"
CXX=clang++ cmake -S . -B build/fuzz -DBILLING_FUZZ=ON >/dev/null
cmake --build build/fuzz -j2 --target plan_config_fuzzer decimal_fuzzer csv_fuzzer >/dev/null
for target in plan_config decimal csv; do
  rm -rf "build/fuzz/smoke_$target" && mkdir -p "build/fuzz/smoke_$target"
  if "build/fuzz/${target}_fuzzer" -runs=20000 -max_len=512 -seed=1 "build/fuzz/smoke_$target" "fuzz/corpus/$target" \
       >"build/fuzz/smoke_$target.log" 2>&1; then
    count 1 0 "fuzz $target"
  else
    tail -n 30 "build/fuzz/smoke_$target.log"
    count 0 1 "fuzz $target"
  fi
done

log "src/core/ stays pure C++ (no PostgreSQL headers)"
# 1. No core file names a server header.
if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](postgres|fmgr|funcapi|miscadmin|utils/|access/|catalog/|executor/|nodes/)' src/core; then
  count 0 1 "purity: includes"
else
  count 1 0 "purity: includes"
fi
# 2. A core header refuses to compile after postgres.h outside the glue (core/pure.h).
guard_output=$(printf '#include "postgres.h"\n#include "core/plan.h"\n' |
  g++ -std=c++17 -Isrc -I"$(pg_config --includedir-server)" -fsyntax-only -x c++ - 2>&1 || true)
if [[ "$guard_output" == *"src/core/ must not depend on postgres.h"* ]]; then
  count 1 0 "purity: guard"
else
  count 0 1 "purity: guard"
fi

# 2. The extension in a server.
build_and_install

log "pg_regress suite (test/regress/) and isolation specs (test/isolation/)"
# With the library preloaded (shared memory: audit queue, rate limiter) and the audit writer
# pointed at pg_regress's database.
start_cluster regress -c shared_preload_libraries=company_billing -c billing.database=contrib_regression
set +e
make -s installcheck >build/installcheck.log 2>&1
set -e
parse_pg_regress "pg_regress and isolation" build/installcheck.log regression.diffs output_iso/regression.diffs

log "rate limiter under concurrency (pgbench: 4 clients x 50 attempts, limit 100)"
psql -X -q -d contrib_regression -c "CREATE TABLE regress_admitted (n int)"
"$(pg_bindir)/pgbench" -n -c 4 -j 2 -t 50 -f test/limiter_concurrency.sql contrib_regression >build/pgbench_limiter.log 2>&1 || cat build/pgbench_limiter.log
admitted=$(psql -X -At -d contrib_regression -c "SELECT count(*) FROM regress_admitted")
echo "    admitted $admitted of 200 attempts"
if [ "$admitted" = "100" ]; then count 1 0 "limiter concurrency"; else count 0 1 "limiter concurrency"; fi

# Scripts against the regression cluster (or, where they say so, a cluster of their own), in
# this order: the attack suite kills backends (the server restarts), crash safety too.
SCRIPT_SUITES=(
  "pg_dump / pg_restore round trip|test/dump_restore.sh"
  "upgrades from every released version|test/upgrade.sh"
  "alerts under 8 concurrent writers: exactly once, corrections, against the raw calls (pgbench)|test/alerts_concurrency.sh"
  "period CSV byte for byte through psql and psycopg2 (README recipes)|test/csv_bytes.sh"
  "HTTP gateway from outside: endpoints, tokens, statuses, limits, restarts, malformed requests (a cluster of its own)|test/gateway/http_api.sh build/cmake/billing-gateway"
  "HTTP gateway under AddressSanitizer and UndefinedBehaviorSanitizer|test/gateway/http_api.sh build/asan/billing-gateway"
  "webhooks: signed (verified with Python's hmac), retried on 500 and timeouts, delivered once by two gateways, dead letters (a cluster of its own)|test/gateway/webhooks.sh build/cmake/billing-gateway"
  "dashboard page in Debian's chromium (playwright-core; screenshots in build/screenshots)|test/browser/run.sh"
  "pgbouncer in transaction mode: company per transaction, another client's session SET, the gateway (a cluster of its own)|test/pgbouncer.sh"
  "client examples in Python, Node, PHP and Java through pgbouncer, money exact (a cluster of its own)|test/clients.sh"
  "shard router: 3 shards and PL/Proxy, 2,000 companies loaded through it, every read byte-identical to one node, a shard stopped, a company moved, the gateway and pgbouncer on it (clusters of its own)|test/shards.sh"
  "sqlsmith as a viewer role (2,000 queries)|test/sqlsmith.sh 2000"
  "attacks from outside: install-time look-alikes, views, internals, limits, audit (test/attacks/run.sh)|test/attacks/run.sh"
  "crash safety (SIGKILL during ingestion and close_period)|test/crash_safety.sh"
  "benchmark smoke run: rollup figures exact (bench/run.sh --smoke)|bench/run.sh --smoke"
  "month end under pg_cron (a cluster of its own)|test/month_end_cron.sh"
)
for suite in "${SCRIPT_SUITES[@]}"; do
  # shellcheck disable=SC2086  # the script and its arguments, split on purpose
  run_check "${suite%%|*}" ${suite#*|}
done

log "without shared_preload_libraries (test/nopreload)"
stop_cluster
start_cluster nopreload
set +e
"$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" --inputdir=test/nopreload \
  --outputdir=build/nopreload --bindir="$(pg_bindir)" --load-extension=btree_gist \
  --dbname=nopreload_regression nopreload >build/nopreload.log 2>&1
set -e
parse_pg_regress "pg_regress without preload" build/nopreload.log build/nopreload/regression.diffs

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
