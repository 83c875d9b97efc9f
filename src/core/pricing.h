// The pricing evaluators: what a period's usage costs under a plan (docs/design.md).
#pragma once

#include <optional>

#include "core/decimal.h"
#include "core/plan.h"
#include "core/pure.h"

namespace billing {

// One evaluation. Every money amount is already rounded half away from zero to the currency's
// minor unit; total_cost is the sum of the rounded lines, as on an invoice.
struct Charge {
  Rational base_fee;
  Rational minutes_cost;
  Rational appointments_cost;
  Rational total_cost;
  // Empty where the model includes nothing (combined) or everything (per_appointment minutes).
  std::optional<Rational> included_minutes;
  std::optional<Rational> overage_minutes;
  std::optional<Rational> included_appointments;
  std::optional<Rational> overage_appointments;
};

// Prices `minutes` and `appointments` (exact, >= 0, fractions allowed: projections are
// fractional) with `minor_unit` decimals. Throws BillingError 22023 for negative usage.
Charge price(const PricingPlan& plan, const Rational& minutes, const Rational& appointments,
             int minor_unit);

}  // namespace billing
