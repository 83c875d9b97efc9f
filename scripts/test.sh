#!/usr/bin/env bash
# Runs every test suite: the core's GoogleTest unit tests, the purity check of src/core/,
# and the pg_regress suite against a throwaway cluster. Installs its own Debian packages.
# Ends with the line "N passed, N failed"; exits non-zero when anything failed.
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

ensure_packages

log "unit tests of src/core (GoogleTest)"
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j2 >/dev/null
set +e
build/cmake/core_tests --gtest_brief=1 >build/core_tests.log 2>&1
set -e
grep -E '^\[  FAILED  \] [A-Za-z]' build/core_tests.log || true
gtest_passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' build/core_tests.log)
gtest_failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' build/core_tests.log)
if [ -z "$gtest_passed" ] && [ -z "$gtest_failed" ]; then
  cat build/core_tests.log
  gtest_failed=1
fi
count "${gtest_passed:-0}" "${gtest_failed:-0}" "GoogleTest"

log "unit tests of src/core under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build/asan -DBILLING_SANITIZE=ON >/dev/null
cmake --build build/asan -j2 >/dev/null
set +e
build/asan/core_tests --gtest_brief=1 >build/core_tests_asan.log 2>&1
asan_status=$?
set -e
asan_passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' build/core_tests_asan.log)
if [ "$asan_status" -ne 0 ] || [ -z "$asan_passed" ]; then
  tail -n 40 build/core_tests_asan.log
  count "${asan_passed:-0}" 1 "GoogleTest (ASan+UBSan)"
else
  count "$asan_passed" 0 "GoogleTest (ASan+UBSan)"
fi

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

build_and_install

log "pg_regress suite (test/regress/: schedule, sql/, expected/)"
# The suite runs with the library preloaded (shared memory: audit queue, rate limiter) and the
# audit writer pointed at pg_regress's database.
start_cluster regress -c shared_preload_libraries=company_billing -c billing.database=contrib_regression
set +e
make -s installcheck >build/installcheck.log 2>&1
set -e
grep -E '^(test|ok|not ok) ' build/installcheck.log || true
regress_passed=$(grep -cE '^(test .*\.\.\. ok|ok [0-9]+ )' build/installcheck.log || true)
regress_failed=$(grep -cE '^(test .*\.\.\. FAILED|not ok [0-9]+ )' build/installcheck.log || true)
if [ "$regress_failed" -gt 0 ] && [ -f regression.diffs ]; then
  head -n 200 regression.diffs
fi
if [ "$regress_passed" -eq 0 ] && [ "$regress_failed" -eq 0 ]; then
  cat build/installcheck.log
  regress_failed=1
fi
count "$regress_passed" "$regress_failed" "pg_regress"

log "rate limiter under concurrency (pgbench: 4 clients x 50 attempts, limit 100)"
psql -X -q -d contrib_regression -c "CREATE TABLE regress_admitted (n int)"
"$(pg_bindir)/pgbench" -n -c 4 -j 2 -t 50 -f test/limiter_concurrency.sql contrib_regression >build/pgbench_limiter.log 2>&1 || cat build/pgbench_limiter.log
admitted=$(psql -X -At -d contrib_regression -c "SELECT count(*) FROM regress_admitted")
echo "    admitted $admitted of 200 attempts"
if [ "$admitted" = "100" ]; then count 1 0 "limiter concurrency"; else count 0 1 "limiter concurrency"; fi

# run_check NAME SCRIPT [ARGS]: one more test, passed when the script exits 0.
run_check() {
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
run_check "pg_dump / pg_restore round trip" test/dump_restore.sh
run_check "upgrades from every released version" test/upgrade.sh
run_check "period CSV byte for byte through psql and psycopg2 (README recipes)" test/csv_bytes.sh
run_check "sqlsmith as a viewer role (2,000 queries)" test/sqlsmith.sh 2000
# Last on this cluster: it kills backends, which restarts the server.
run_check "attacks from outside: install-time look-alikes, views, internals, limits, audit (test/attacks/run.sh)" test/attacks/run.sh
run_check "crash safety (SIGKILL during ingestion and close_period)" test/crash_safety.sh

run_check "benchmark smoke run: rollup figures exact (bench/run.sh --smoke)" bench/run.sh --smoke
run_check "month end under pg_cron (a cluster of its own)" test/month_end_cron.sh

log "without shared_preload_libraries (test/nopreload)"
stop_cluster
start_cluster nopreload
set +e
"$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" --inputdir=test/nopreload \
  --outputdir=build/nopreload --bindir="$(pg_bindir)" --load-extension=btree_gist \
  --dbname=nopreload_regression nopreload >build/nopreload.log 2>&1
set -e
grep -E '^(test|ok|not ok) ' build/nopreload.log || cat build/nopreload.log
nopreload_passed=$(grep -cE '^(test .*\.\.\. ok|ok [0-9]+ )' build/nopreload.log || true)
nopreload_failed=$(grep -cE '^(test .*\.\.\. FAILED|not ok [0-9]+ )' build/nopreload.log || true)
[ "$nopreload_failed" -gt 0 ] && [ -f build/nopreload/regression.diffs ] && cat build/nopreload/regression.diffs
if [ "$nopreload_passed" -eq 0 ] && [ "$nopreload_failed" -eq 0 ]; then nopreload_failed=1; fi
count "$nopreload_passed" "$nopreload_failed" "pg_regress without preload"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
