#include "core/alerts.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <stdexcept>

#include "core/errors.h"

namespace billing {
namespace {

const PeriodFacts kJune15{"2025-06-01", "2025-06-30", 15, 15};

PlanConfig per_minute() {  // 500 included minutes
  return parse_plan_config(
      R"({"pricing_model":"per_minute","base_fee":49,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2})");
}

UsageFacts usage(int64_t seconds, int64_t appointments = 0) {
  UsageFacts facts;
  facts.calls_total = facts.calls_completed = seconds > 0 ? 1 : 0;
  facts.total_seconds = seconds;
  facts.appointments = appointments;
  return facts;
}

const ThresholdState& find(const std::vector<ThresholdState>& states, AlertKind kind, int64_t threshold) {
  for (const ThresholdState& state : states)
    if (state.kind == kind && state.threshold == Rational(threshold)) return state;
  throw std::runtime_error("no such threshold");
}

TEST(Alerts, IncludedMinutesCrossAtTheirPercentage) {
  const AlertSettings defaults;
  // 400 minutes = 80% exactly: reached.
  auto states = evaluate_thresholds(per_minute(), kJune15, usage(400 * 60 - 1), defaults);
  ASSERT_EQ(states.size(), 2u);  // no budget: only the included minutes
  EXPECT_FALSE(find(states, AlertKind::kIncludedMinutes, 80).crossed);
  states = evaluate_thresholds(per_minute(), kJune15, usage(400 * 60), defaults);
  EXPECT_TRUE(find(states, AlertKind::kIncludedMinutes, 80).crossed);
  EXPECT_FALSE(find(states, AlertKind::kIncludedMinutes, 100).crossed);
  EXPECT_EQ(find(states, AlertKind::kIncludedMinutes, 80).value, Rational(80));
}

TEST(Alerts, CombinedPlanWithoutBudgetWatchesNothing) {
  const auto combined = parse_plan_config(R"({"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2})");
  EXPECT_TRUE(evaluate_thresholds(combined, kJune15, usage(1000000, 50), AlertSettings{}).empty());
  const Headroom room = alert_headroom(combined, kJune15, usage(60), AlertSettings{});
  EXPECT_EQ(room.extra_seconds, std::numeric_limits<int64_t>::max());
}

TEST(Alerts, PackageWatchesItsAppointments) {
  const auto package = parse_plan_config(
      R"({"pricing_model":"package","base_fee":199,"package_minutes":1000,"package_appointments":50,"overage_per_minute":0.2,"overage_per_appointment":3})");
  const auto states = evaluate_thresholds(package, kJune15, usage(60, 40), AlertSettings{});
  EXPECT_TRUE(find(states, AlertKind::kIncludedAppointments, 80).crossed);
  EXPECT_FALSE(find(states, AlertKind::kIncludedAppointments, 100).crossed);
  EXPECT_FALSE(find(states, AlertKind::kIncludedMinutes, 80).crossed);
}

TEST(Alerts, BudgetAndProjection) {
  AlertSettings settings;
  settings.monthly_budget = Rational(100);
  // 49 base fee + 600 min over 500 included: 100 * 0.15 = 15 -> 64.00 = 64% of 100.
  const auto states = evaluate_thresholds(per_minute(), kJune15, usage(600 * 60), settings);
  EXPECT_TRUE(find(states, AlertKind::kBudget, 50).crossed);
  EXPECT_FALSE(find(states, AlertKind::kBudget, 80).crossed);
  EXPECT_EQ(find(states, AlertKind::kBudget, 50).value, Rational(64));
  // Projected: 1200 minutes -> 49 + 700 * 0.15 = 154 > 100.
  EXPECT_TRUE(find(states, AlertKind::kProjectedBudget, 100).crossed);
  EXPECT_EQ(find(states, AlertKind::kProjectedBudget, 100).value, Rational(154));
}

TEST(Alerts, RejectsBadSettings) {
  AlertSettings settings;
  settings.included_thresholds = {Rational(0)};
  EXPECT_THROW(evaluate_thresholds(per_minute(), kJune15, usage(0), settings), BillingError);
  settings = AlertSettings{};
  settings.monthly_budget = Rational(-1);
  EXPECT_THROW(evaluate_thresholds(per_minute(), kJune15, usage(0), settings), BillingError);
}

// The headroom's promise, on random usage: nothing up to the headroom changes a state, and
// (where bounded) one more second or appointment beyond both can.
TEST(Alerts, HeadroomNeverHidesACrossing) {
  std::mt19937_64 random(17);
  AlertSettings settings;
  settings.monthly_budget = Rational(120);
  const auto plans = {per_minute(), parse_plan_config(
      R"({"pricing_model":"package","base_fee":20,"package_minutes":300,"package_appointments":20,"overage_per_minute":0.2,"overage_per_appointment":3})")};
  for (const PlanConfig& plan : plans) {
    for (int round = 0; round < 200; ++round) {
      const UsageFacts now = usage(static_cast<int64_t>(random() % 60000), static_cast<int64_t>(random() % 40));
      const PeriodFacts period{"2025-06-01", "2025-06-30", static_cast<int64_t>(1 + random() % 30), 0};
      const PeriodFacts facts{period.start, period.end, period.days_elapsed, 30 - period.days_elapsed};
      const Headroom room = alert_headroom(plan, facts, now, settings);
      const auto before = evaluate_thresholds(plan, facts, now, settings);
      for (int probe = 0; probe < 20; ++probe) {
        const int64_t seconds = room.extra_seconds == std::numeric_limits<int64_t>::max()
                                    ? static_cast<int64_t>(random() % 1000000)
                                    : (room.extra_seconds == 0 ? 0 : static_cast<int64_t>(random() % (room.extra_seconds + 1)));
        const int64_t appointments = room.extra_appointments == std::numeric_limits<int64_t>::max()
                                         ? static_cast<int64_t>(random() % 1000)
                                         : (room.extra_appointments == 0 ? 0 : static_cast<int64_t>(random() % (room.extra_appointments + 1)));
        UsageFacts more = now;
        more.total_seconds += seconds;
        more.appointments += appointments;
        const auto after = evaluate_thresholds(plan, facts, more, settings);
        // Later days of the period project less from the same usage.
        const PeriodFacts later{facts.start, facts.end, 30, 0};
        const auto after_later = evaluate_thresholds(plan, later, more, settings);
        for (size_t i = 0; i < before.size(); ++i) {
          EXPECT_EQ(before[i].crossed, after[i].crossed) << "round " << round << " threshold " << i;
          if (!before[i].crossed) EXPECT_FALSE(after_later[i].crossed);
        }
      }
    }
  }
}

TEST(Alerts, BudgetRunsOutOnTheDayItsProjectionReachesIt) {
  // 600 minutes in 15 days: 40 a day. 49 + 0.15 * (40 k - 500) >= 100 from 40 k >= 840: k = 21.
  const BudgetStatus status = budget_status(per_minute(), kJune15, usage(600 * 60), Rational(100));
  EXPECT_EQ(status.total_cost, Rational(64));
  EXPECT_EQ(*status.used_percent, Rational(64));
  EXPECT_EQ(status.projected_total, Rational(154));
  EXPECT_EQ(*status.projected_percent, Rational(154));
  EXPECT_EQ(status.run_out_day, 21);
  // Reached already: today; never within the period: none; no budget: none.
  EXPECT_EQ(budget_status(per_minute(), kJune15, usage(600 * 60), Rational(60)).run_out_day, 15);
  EXPECT_FALSE(budget_status(per_minute(), kJune15, usage(600 * 60), Rational(1000)).run_out_day);
  const BudgetStatus none = budget_status(per_minute(), kJune15, usage(600 * 60), std::nullopt);
  EXPECT_FALSE(none.used_percent);
  EXPECT_FALSE(none.run_out_day);
  EXPECT_THROW(budget_status(per_minute(), kJune15, usage(0), Rational(0)), BillingError);
}

TEST(Alerts, ConsumeWithinAndBeyondTheCaps) {
  SpendCap cap;
  cap.amount = Rational(70);
  // 600 minutes used: 64.00 so far; a 40-minute call adds 6.00 -> 70.00, allowed (not above).
  ConsumeDecision decision = consume_decision(per_minute(), usage(600 * 60), cap, Rational(40));
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.marginal_cost, Rational(6));
  EXPECT_EQ(decision.total_after, Rational(70));
  decision = consume_decision(per_minute(), usage(600 * 60), cap, Rational(41));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.reason, "amount_cap");
  EXPECT_EQ(*decision.amount_left, Rational(6));
  cap = SpendCap{};
  cap.minutes = Rational(500);
  decision = consume_decision(per_minute(), usage(499 * 60), cap, Rational(2));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.reason, "minutes_cap");
  EXPECT_EQ(decision.marginal_cost, Rational(15, 100));  // one minute over the included 500
  EXPECT_EQ(consume_decision(per_minute(), usage(0), SpendCap{}, Rational(5)).reason, "no_cap");
  EXPECT_THROW(consume_decision(per_minute(), usage(0), cap, Rational(-1)), BillingError);
}

}  // namespace
}  // namespace billing
