#include "core/alerts.h"

#include <limits>

#include "core/currency.h"
#include "core/errors.h"
#include "core/pricing.h"

namespace billing {

std::string_view alert_kind_name(AlertKind kind) {
  switch (kind) {
    case AlertKind::kIncludedMinutes: return "included_minutes";
    case AlertKind::kIncludedAppointments: return "included_appointments";
    case AlertKind::kBudget: return "budget";
    case AlertKind::kProjectedBudget: return "projected_budget";
  }
  return "unknown";
}

namespace {

Rational percent_of(const Rational& value, const Rational& reference) {
  return round_half_away(Rational(100) * value / reference, 2);
}

void check_settings(const AlertSettings& settings) {
  for (const auto* list : {&settings.included_thresholds, &settings.budget_thresholds})
    for (const Rational& threshold : *list)
      if (threshold.sign() <= 0)
        throw BillingError(sqlstate::kInvalidParameterValue, "alert thresholds must be positive percentages");
  if (settings.monthly_budget && settings.monthly_budget->sign() <= 0)
    throw BillingError(sqlstate::kInvalidParameterValue, "the monthly budget must be positive");
}

}  // namespace

std::vector<ThresholdState> evaluate_thresholds(const PlanConfig& config, const PeriodFacts& period,
                                                const UsageFacts& usage, const AlertSettings& settings) {
  check_settings(settings);
  const int minor_unit = currency_minor_unit(config.currency);
  const Rational minutes(usage.total_seconds, 60);
  const Rational appointments(usage.appointments);
  const Charge charge = price(config.plan, minutes, appointments, minor_unit);
  std::vector<ThresholdState> states;
  const auto add_included = [&](AlertKind kind, const std::optional<Rational>& included, const Rational& used) {
    if (!included || included->sign() <= 0) return;
    const Rational exact = Rational(100) * used / *included;
    for (const Rational& threshold : settings.included_thresholds)
      states.push_back({kind, threshold, exact >= threshold, percent_of(used, *included)});
  };
  add_included(AlertKind::kIncludedMinutes, charge.included_minutes, minutes);
  add_included(AlertKind::kIncludedAppointments, charge.included_appointments, appointments);
  if (settings.monthly_budget) {
    const Rational& budget = *settings.monthly_budget;
    const Rational exact = Rational(100) * charge.total_cost / budget;
    for (const Rational& threshold : settings.budget_thresholds)
      states.push_back({AlertKind::kBudget, threshold, exact >= threshold, percent_of(charge.total_cost, budget)});
    if (settings.alert_on_projection) {
      const Rational projected = project(config, period, usage).charge.total_cost;
      states.push_back({AlertKind::kProjectedBudget, Rational(100), projected > budget, percent_of(projected, budget)});
    }
  }
  return states;
}

namespace {

// Whether every threshold crossed at `more` was crossed at `now` already (the lists come in the
// same order from the same settings and plan).
bool same_states(const std::vector<ThresholdState>& now, const std::vector<ThresholdState>& more) {
  for (size_t i = 0; i < now.size(); ++i)
    if (more[i].crossed && !now[i].crossed) return false;
  return true;
}

UsageFacts with_more(const UsageFacts& usage, int64_t seconds, int64_t appointments) {
  UsageFacts more = usage;
  more.total_seconds += seconds;
  more.appointments += appointments;
  return more;
}

// The largest x in [0, limit] with fits(x), for fits monotone (true up to some x, false after);
// -1 when even 0 does not fit.
template <typename Fits>
int64_t largest_fitting(int64_t limit, Fits fits) {
  if (!fits(0)) return -1;
  if (fits(limit)) return limit;
  int64_t low = 0, high = limit;  // fits(low), !fits(high)
  while (high - low > 1) {
    const int64_t middle = low + (high - low) / 2;
    (fits(middle) ? low : high) = middle;
  }
  return low;
}

}  // namespace

Headroom alert_headroom(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage,
                        const AlertSettings& settings) {
  constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
  // Searched up to about 290 years of calls a period: beyond that, "unbounded".
  constexpr int64_t kSearchLimit = int64_t{1} << 33;
  const std::vector<ThresholdState> now = evaluate_thresholds(config, period, usage, settings);
  bool all_crossed = true;
  for (const ThresholdState& state : now) all_crossed = all_crossed && state.crossed;
  if (all_crossed) return {kUnbounded, kUnbounded};
  const auto fits = [&](int64_t seconds, int64_t appointments) {
    return same_states(now, evaluate_thresholds(config, period, with_more(usage, seconds, appointments), settings));
  };
  int64_t seconds = largest_fitting(kSearchLimit, [&](int64_t x) { return fits(x, 0); });
  int64_t appointments = largest_fitting(kSearchLimit, [&](int64_t x) { return fits(0, x); });
  if (seconds < 0 || appointments < 0) return {0, 0};
  // Every figure grows with both: a box fits when its far corner does. Halve until it does.
  while ((seconds > 0 || appointments > 0) && !fits(seconds, appointments)) {
    seconds /= 2;
    appointments /= 2;
  }
  return {seconds >= kSearchLimit ? kUnbounded : seconds, appointments >= kSearchLimit ? kUnbounded : appointments};
}

BudgetStatus budget_status(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage,
                           const std::optional<Rational>& budget) {
  const int minor_unit = currency_minor_unit(config.currency);
  const Rational minutes(usage.total_seconds, 60);
  const Rational appointments(usage.appointments);
  BudgetStatus status{price(config.plan, minutes, appointments, minor_unit).total_cost,
                      project(config, period, usage).charge.total_cost, std::nullopt, std::nullopt, std::nullopt};
  if (!budget) return status;
  if (budget->sign() <= 0) throw BillingError(sqlstate::kInvalidParameterValue, "the monthly budget must be positive");
  status.used_percent = percent_of(status.total_cost, *budget);
  status.projected_percent = percent_of(status.projected_total, *budget);
  if (status.total_cost >= *budget) {
    status.run_out_day = period.days_elapsed;
    return status;
  }
  // The usage by the end of day k at the average daily usage so far, priced, for the days left.
  const int64_t days = period.days_elapsed + period.days_remaining;
  for (int64_t day = period.days_elapsed + 1; day <= days; ++day) {
    const Rational scale(day, period.days_elapsed);
    if (price(config.plan, minutes * scale, appointments * scale, minor_unit).total_cost >= *budget) {
      status.run_out_day = day;
      break;
    }
  }
  return status;
}

ConsumeDecision consume_decision(const PlanConfig& config, const UsageFacts& usage, const SpendCap& cap,
                                 const Rational& minutes) {
  if (minutes.sign() < 0) throw BillingError(sqlstate::kInvalidParameterValue, "minutes must not be negative");
  const int minor_unit = currency_minor_unit(config.currency);
  const Rational used(usage.total_seconds, 60);
  const Rational appointments(usage.appointments);
  const Charge before = price(config.plan, used, appointments, minor_unit);
  const Charge after = price(config.plan, used + minutes, appointments, minor_unit);
  ConsumeDecision decision{true, cap.amount || cap.minutes ? "within_cap" : "no_cap",
                           after.total_cost - before.total_cost, after.total_cost, std::nullopt, std::nullopt};
  if (cap.minutes) {
    const Rational left = *cap.minutes - used;
    decision.minutes_left = left.sign() < 0 ? Rational(0) : left;
    if (used + minutes > *cap.minutes) {
      decision.allowed = false;
      decision.reason = "minutes_cap";
    }
  }
  if (cap.amount) {
    const Rational left = *cap.amount - before.total_cost;
    decision.amount_left = left.sign() < 0 ? Rational(0) : left;
    if (decision.allowed && after.total_cost > *cap.amount) {
      decision.allowed = false;
      decision.reason = "amount_cap";
    }
  }
  return decision;
}

}  // namespace billing
