// Google Benchmark of the pure core's hot work: the usage documents of usage_current() and
// usage_projection() and the plan parsing of every read. Built by CMake when Google Benchmark is
// installed (libbenchmark-dev); run with `bash bench/core.sh`.
#include <benchmark/benchmark.h>

#include "core/plan.h"
#include "core/usage.h"

namespace {

using billing::PlanConfig;

PlanConfig per_minute_plan() {
  PlanConfig config;
  config.plan = billing::make_plan("per_minute", {{"base_fee", "49.00"}, {"included_minutes", "500"},
                                                  {"overage_per_minute", "0.1500"}, {"per_appointment_rate", "2.00"}});
  config.currency = "EUR";
  return config;
}

// The benchmark's company with 1,000,000 calls, 24 days into a 30-day period.
const billing::PeriodFacts kPeriod{"2026-11-01", "2026-11-30", 24, 6};

billing::UsageFacts big_usage() {
  billing::UsageFacts usage;
  usage.calls_total = 1000000;
  usage.calls_completed = 930000;
  usage.total_seconds = 230000000;
  usage.appointments = 333333;
  return usage;
}

// Baseline: copying a document of the same size, the least any producer of it costs.
void BM_CopyDocument(benchmark::State& state) {
  const std::string document = billing::usage_current_json(per_minute_plan(), kPeriod, big_usage());
  for (auto _ : state) {
    std::string copy = document;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_CopyDocument);

void BM_UsageCurrentDocument(benchmark::State& state) {
  const PlanConfig config = per_minute_plan();
  const billing::UsageFacts usage = big_usage();
  for (auto _ : state) benchmark::DoNotOptimize(billing::usage_current_json(config, kPeriod, usage));
}
BENCHMARK(BM_UsageCurrentDocument);

void BM_UsageProjectionDocument(benchmark::State& state) {
  const PlanConfig config = per_minute_plan();
  const billing::UsageFacts usage = big_usage();
  for (auto _ : state) benchmark::DoNotOptimize(billing::usage_projection_json(config, kPeriod, usage));
}
BENCHMARK(BM_UsageProjectionDocument);

void BM_MakePlan(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(per_minute_plan());
}
BENCHMARK(BM_MakePlan);

}  // namespace

BENCHMARK_MAIN();
