// The dashboard's usage documents: the current-period card and the month-end projection
// (docs/design.md), computed from a period's raw totals and its plan.
#pragma once

#include <cstdint>
#include <string>

#include "core/decimal.h"
#include "core/plan.h"
#include "core/pricing.h"
#include "core/pure.h"

namespace billing {

struct PeriodFacts {
  std::string start;        // company-local dates, ISO 8601
  std::string end;          // inclusive
  int64_t days_elapsed;     // local(as_of) - start + 1, >= 1
  int64_t days_remaining;   // end - local(as_of), >= 0
};

struct UsageFacts {
  int64_t calls_total = 0;
  int64_t calls_completed = 0;
  BigInt total_seconds = 0;  // minutes are seconds / 60, exact
  int64_t appointments = 0;  // cancelled ones already left out
};

// The linear projection to the period's end: usage + (usage / days_elapsed) * days_remaining,
// exact, and its charge under the plan.
struct Projection {
  Rational minutes;
  Rational appointments;
  Rational minutes_per_day;
  Rational appointments_per_day;
  Charge charge;
};
Projection project(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage);

// {period{...}, pricing_model, currency, calls{...}, appointments{...}, base_fee, total_cost,
//  included_minutes, overage_minutes, usage_percentage}
std::string usage_current_json(const PlanConfig& config, const PeriodFacts& period,
                               const UsageFacts& usage);

// {current{<the card above>}, projected{minutes, appointments, costs{...}, days_remaining,
//  avg_per_day{...}}}: linear projection to the period's end.
std::string usage_projection_json(const PlanConfig& config, const PeriodFacts& period,
                                  const UsageFacts& usage);

}  // namespace billing
