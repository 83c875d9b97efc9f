#include "core/plan.h"

#include <array>

#include "core/errors.h"

namespace billing {
namespace {

enum class Need { kUnused, kRequired, kOptional };

struct Parameter {
  const char* name;
  std::optional<Rational> PricingPlan::*member;
  // Indexed by PricingModel: per_minute, per_appointment, package, combined.
  std::array<Need, 4> need;
};

constexpr Need U = Need::kUnused;
constexpr Need R = Need::kRequired;
constexpr Need O = Need::kOptional;  // absent means 0

// The one table of which model uses which parameter (docs/design.md).
const std::array<Parameter, 8> kParameters = {{
    {"base_fee", &PricingPlan::base_fee, {R, O, R, U}},
    {"included_minutes", &PricingPlan::included_minutes, {R, U, U, U}},
    {"overage_per_minute", &PricingPlan::overage_per_minute, {R, U, R, U}},
    {"per_minute_rate", &PricingPlan::per_minute_rate, {U, U, U, R}},
    {"per_appointment_rate", &PricingPlan::per_appointment_rate, {O, R, U, R}},
    {"package_minutes", &PricingPlan::package_minutes, {U, U, R, U}},
    {"package_appointments", &PricingPlan::package_appointments, {U, U, R, U}},
    {"overage_per_appointment", &PricingPlan::overage_per_appointment, {U, U, R, U}},
}};

constexpr std::array<std::string_view, 4> kModelNames = {"per_minute", "per_appointment",
                                                         "package", "combined"};

PricingModel parse_model(std::string_view name) {
  for (size_t i = 0; i < kModelNames.size(); ++i)
    if (kModelNames[i] == name) return static_cast<PricingModel>(i);
  throw BillingError(sqlstate::kInvalidParameterValue,
                     "unknown pricing_model \"" + std::string(name.substr(0, 64)) + "\"",
                     "pricing_model must be one of per_minute, per_appointment, package, combined.");
}

}  // namespace

std::string_view model_name(PricingModel model) {
  return kModelNames[static_cast<size_t>(model)];
}

PricingPlan make_plan(std::string_view model, const std::vector<PlanField>& fields) {
  PricingPlan plan;
  plan.model = parse_model(model);
  const size_t model_index = static_cast<size_t>(plan.model);

  for (const auto& [name, text] : fields) {
    const Parameter* parameter = nullptr;
    for (const Parameter& p : kParameters)
      if (name == p.name) parameter = &p;
    if (parameter == nullptr)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "unknown pricing parameter \"" + name.substr(0, 64) + "\"");
    if (parameter->need[model_index] == Need::kUnused)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         std::string(parameter->name) + " does not apply to pricing model " +
                             std::string(model));
    if (plan.*(parameter->member))
      throw BillingError(sqlstate::kInvalidParameterValue,
                         std::string(parameter->name) + " is given twice");
    Rational value = parse_decimal(text, parameter->name);
    if (value < 0)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         std::string(parameter->name) + " must not be negative");
    plan.*(parameter->member) = std::move(value);
  }

  for (const Parameter& p : kParameters) {
    if (plan.*(p.member)) continue;
    if (p.need[model_index] == Need::kRequired)
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "pricing model " + std::string(model) + " requires " + p.name);
    if (p.need[model_index] == Need::kOptional) plan.*(p.member) = Rational(0);
  }
  return plan;
}

}  // namespace billing
