#!/usr/bin/env bash
# Runs the pg_regress and isolation suites once against a server whose company_billing library
# is built with AddressSanitizer and UndefinedBehaviorSanitizer (the ASan runtime preloaded into
# the postmaster). Reports go to build/asan-regress/asan.*; afterwards the normal build is
# reinstalled. Not part of scripts/test.sh (slow, and it replaces the installed library).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages
make -s clean
make -s -j2 PG_CXXFLAGS="-std=c++17 -fvisibility=hidden -Wno-maybe-uninitialized -Wno-register -fsanitize=address,undefined -fno-omit-frame-pointer" \
  SHLIB_LINK="-lstdc++ -fsanitize=address,undefined" >/dev/null
make -s install >/dev/null
mkdir -p build/asan-regress && chmod 777 build/asan-regress && rm -f build/asan-regress/asan.*
export ASAN_OPTIONS="detect_leaks=0:log_path=$PWD/build/asan-regress/asan:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$PWD/build/asan-regress/ubsan"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
start_cluster asan-regress -c shared_preload_libraries=company_billing -c billing.database=contrib_regression
unset LD_PRELOAD
set +e
make installcheck >build/asan-regress/installcheck.log 2>&1
status=$?
set -e
grep -E '^test|tests' build/asan-regress/installcheck.log
stop_cluster
reports=$(ls build/asan-regress/ 2>/dev/null | grep -cE '^(asan|ubsan)\.' || true)
echo "installcheck exit $status; sanitizer reports: $reports"
ls build/asan-regress/ | grep -E '^(asan|ubsan)\.' | head
make -s clean && make -s -j2 >/dev/null && make -s install >/dev/null
