// Usage alerts and the spend cap (docs/alerts.md): which thresholds a period's usage has
// crossed, how much more usage leaves every threshold as it is, and whether a call of a given
// length stays under a hard cap. Pure: the engine reads the usage, this decides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/plan.h"
#include "core/pure.h"
#include "core/usage.h"

namespace billing {

// A company's alert configuration (billing.alert_settings, or its defaults).
struct AlertSettings {
  std::vector<Rational> included_thresholds{Rational(80), Rational(100)};  // percent
  std::optional<Rational> monthly_budget;                                // money; none: no budget alerts
  std::vector<Rational> budget_thresholds{Rational(50), Rational(80), Rational(100)};
  bool alert_on_projection = true;  // the projected period total exceeds the budget
};

// What one threshold watches.
enum class AlertKind { kIncludedMinutes, kIncludedAppointments, kBudget, kProjectedBudget };
std::string_view alert_kind_name(AlertKind kind);

struct ThresholdState {
  AlertKind kind;
  Rational threshold;  // percent (100 for kProjectedBudget)
  bool crossed;
  Rational value;      // the figure compared, in percent of its reference, 2 decimals
};

// Every threshold that applies to the period: included minutes (per_minute and package plans
// with included minutes), included appointments (package plans with included appointments),
// and, with a budget, the budget thresholds on the period's total cost so far and the projected
// total (usage_projection's linear projection) exceeding the budget. A threshold is crossed when
// the figure reaches it (>=), the projection when it exceeds the budget (>).
std::vector<ThresholdState> evaluate_thresholds(const PlanConfig& config, const PeriodFacts& period,
                                                const UsageFacts& usage, const AlertSettings& settings);

// How many more seconds and appointments (both at once) leave every threshold's state as it is
// now: no uncrossed threshold is crossed by any usage up to (seconds + extra_seconds,
// appointments + extra_appointments). INT64_MAX: unbounded. Every figure grows with usage and
// a projection only falls as the period's days pass, so the answer stays safe for the rest of
// the period (the engine uses it to skip exact checks far from every threshold).
struct Headroom {
  int64_t extra_seconds;
  int64_t extra_appointments;
};
Headroom alert_headroom(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage,
                        const AlertSettings& settings);

// A company's budget against its period so far and projected to the period's end.
struct BudgetStatus {
  Rational total_cost;       // so far
  Rational projected_total;  // usage_projection's linear projection
  std::optional<Rational> used_percent;       // of the budget, 2 decimals; none without a budget
  std::optional<Rational> projected_percent;
  // The day of the period (1 = its first) by whose end the cost reaches the budget at the
  // period's average daily usage so far: today or earlier when already reached; none when it
  // is not reached within the period, or without a budget.
  std::optional<int64_t> run_out_day;
};
BudgetStatus budget_status(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage,
                           const std::optional<Rational>& budget);

// A hard cap for call routing (billing.alert_settings cap_amount, cap_minutes).
struct SpendCap {
  std::optional<Rational> amount;   // the period's total cost may not exceed it
  std::optional<Rational> minutes;  // the period's minutes may not exceed them
};

struct ConsumeDecision {
  bool allowed;
  std::string reason;              // "within_cap", "no_cap", "amount_cap", "minutes_cap"
  Rational marginal_cost;          // what the call adds to the period's total now
  Rational total_after;            // the period's total with the call
  std::optional<Rational> minutes_left;  // under the minutes cap, before the call
  std::optional<Rational> amount_left;   // under the amount cap, before the call
};

// Whether a call of `minutes` (>= 0) more would keep the period within the cap.
ConsumeDecision consume_decision(const PlanConfig& config, const UsageFacts& usage, const SpendCap& cap,
                                 const Rational& minutes);

}  // namespace billing
