#include "core/usage.h"

#include "core/currency.h"
#include "core/errors.h"
#include "core/json_writer.h"
#include "core/pricing.h"

namespace billing {
namespace {

// Display precision of quantities; money uses the currency's minor unit instead.
constexpr int kQuantityScale = 2;
// The original dashboard shows the average call length with one decimal ("2.8").
constexpr int kAverageDurationScale = 1;

void check_facts(const PeriodFacts& period, const UsageFacts& usage) {
  if (period.days_elapsed < 1 || period.days_remaining < 0)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "the as_of date lies outside the billing period");
  if (usage.calls_total < 0 || usage.calls_completed < 0 || usage.total_seconds < 0 ||
      usage.appointments < 0)
    throw BillingError(sqlstate::kInvalidParameterValue, "usage totals must not be negative");
  if (usage.calls_completed > usage.calls_total)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "completed calls cannot outnumber all calls");
}

std::string quantity(const Rational& value) { return format_trimmed(value, kQuantityScale); }

std::string optional_quantity(const std::optional<Rational>& value) {
  return value ? format_exact(*value, kQuantityScale) : "null";
}

std::string current_card(const PlanConfig& config, const PeriodFacts& period,
                         const UsageFacts& usage) {
  const int minor_unit = currency_minor_unit(config.currency);
  const auto money = [minor_unit](const Rational& amount) {
    return format_fixed(amount, minor_unit);
  };
  const Rational minutes(usage.total_seconds, 60);
  const Rational appointments(usage.appointments);
  const Charge charge = price(config.plan, minutes, appointments, minor_unit);

  std::string average_duration = "null";
  if (usage.calls_total > 0)
    average_duration =
        format_trimmed(minutes / Rational(usage.calls_total), kAverageDurationScale);
  std::string usage_percentage = "null";
  if (charge.included_minutes && *charge.included_minutes > 0)
    usage_percentage = quantity(Rational(100) * minutes / *charge.included_minutes);

  return json_object({
      {"period", json_object({{"start", json_string(period.start)},
                              {"end", json_string(period.end)},
                              {"days_elapsed", std::to_string(period.days_elapsed)},
                              {"days_remaining", std::to_string(period.days_remaining)}})},
      {"pricing_model", json_string(model_name(config.plan.model))},
      {"currency", json_string(config.currency)},
      {"calls", json_object({{"total", std::to_string(usage.calls_total)},
                             {"completed", std::to_string(usage.calls_completed)},
                             {"total_minutes", quantity(minutes)},
                             {"avg_duration", average_duration},
                             {"cost", money(charge.minutes_cost)}})},
      {"appointments", json_object({{"total", std::to_string(usage.appointments)},
                                    {"cost", money(charge.appointments_cost)}})},
      {"base_fee", money(charge.base_fee)},
      {"total_cost", money(charge.total_cost)},
      {"included_minutes", optional_quantity(charge.included_minutes)},
      {"overage_minutes",
       charge.overage_minutes ? quantity(*charge.overage_minutes) : std::string("null")},
      {"usage_percentage", usage_percentage},
  });
}

}  // namespace

std::string usage_current_json(const PlanConfig& config, const PeriodFacts& period,
                               const UsageFacts& usage) {
  check_facts(period, usage);
  return current_card(config, period, usage);
}

Projection project(const PlanConfig& config, const PeriodFacts& period, const UsageFacts& usage) {
  check_facts(period, usage);
  const Rational minutes(usage.total_seconds, 60);
  const Rational appointments(usage.appointments);
  const Rational days_elapsed(period.days_elapsed);
  // projected = usage + (usage / days_elapsed) * days_remaining, kept exact until the charge
  // lines are rounded.
  const Rational minutes_per_day = minutes / days_elapsed;
  const Rational appointments_per_day = appointments / days_elapsed;
  const Rational projected_minutes = minutes + minutes_per_day * period.days_remaining;
  const Rational projected_appointments = appointments + appointments_per_day * period.days_remaining;
  return Projection{projected_minutes, projected_appointments, minutes_per_day, appointments_per_day,
                    price(config.plan, projected_minutes, projected_appointments, currency_minor_unit(config.currency))};
}

std::string usage_projection_json(const PlanConfig& config, const PeriodFacts& period,
                                  const UsageFacts& usage) {
  check_facts(period, usage);
  const int minor_unit = currency_minor_unit(config.currency);
  const auto money = [minor_unit](const Rational& amount) {
    return format_fixed(amount, minor_unit);
  };
  const Projection projection = project(config, period, usage);
  const Rational& minutes_per_day = projection.minutes_per_day;
  const Rational& appointments_per_day = projection.appointments_per_day;
  const Rational& projected_minutes = projection.minutes;
  const Rational& projected_appointments = projection.appointments;
  const Charge& projected = projection.charge;

  return json_object({
      {"current", current_card(config, period, usage)},
      {"projected",
       json_object({
           {"minutes", quantity(projected_minutes)},
           {"appointments", quantity(projected_appointments)},
           {"costs", json_object({{"base_fee", money(projected.base_fee)},
                                  {"minutes_cost", money(projected.minutes_cost)},
                                  {"appointments_cost", money(projected.appointments_cost)},
                                  {"total_cost", money(projected.total_cost)}})},
           {"days_remaining", std::to_string(period.days_remaining)},
           {"avg_per_day", json_object({{"minutes", quantity(minutes_per_day)},
                                        {"appointments", quantity(appointments_per_day)}})},
       })},
  });
}

}  // namespace billing
