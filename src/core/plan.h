// A pricing plan: one of the four models of docs/design.md and its parameters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decimal.h"
#include "core/pure.h"

namespace billing {

enum class PricingModel { kPerMinute, kPerAppointment, kPackage, kCombined };

std::string_view model_name(PricingModel model);

struct PricingPlan {
  PricingModel model = PricingModel::kPerMinute;
  // Parameters the model does not use stay empty; optional ones are filled with 0 by
  // make_plan(), so pricing code can rely on every parameter of its model being present.
  std::optional<Rational> base_fee;
  std::optional<Rational> included_minutes;
  std::optional<Rational> overage_per_minute;
  std::optional<Rational> per_minute_rate;
  std::optional<Rational> per_appointment_rate;
  std::optional<Rational> package_minutes;
  std::optional<Rational> package_appointments;
  std::optional<Rational> overage_per_appointment;
};

// One parameter as it arrived: its name and decimal text.
using PlanField = std::pair<std::string, std::string>;

// Builds a validated plan. Throws BillingError 22023 naming the field for: an unknown model,
// an unknown parameter, a parameter the model does not use, a missing required parameter,
// a negative value; 22P02 for a value that is not a decimal number.
PricingPlan make_plan(std::string_view model, const std::vector<PlanField>& fields);

// A plan as applications send it: {"pricing_model": "...", "<parameter>": number, ...,
// "currency": "EUR"}; parameters may also be numeric strings ("49.00") or null (absent).
struct PlanConfig {
  PricingPlan plan;
  std::string currency = "EUR";
};

// Parses and validates the JSON object. Throws BillingError 22032 for malformed JSON and the
// errors of make_plan() for bad content. Numbers are read from their text, never through double.
PlanConfig parse_plan_config(std::string_view json_text);

}  // namespace billing
