#!/usr/bin/env bash
# Google Benchmark of the pure core (bench/core_bench.cpp): the usage documents and plan parsing,
# each against the baseline of copying a document of the same size, measured in the same run.
#   bash bench/core.sh [extra --benchmark_* flags]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages
cmake -S . -B build/cmake-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cmake-bench -j2 --target core_bench >/dev/null
build/cmake-bench/core_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@"
