// libFuzzer target: the JSON plan config parser, then pricing with what it accepted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/currency.h"
#include "core/errors.h"
#include "core/plan.h"
#include "core/pricing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const billing::PlanConfig config = billing::parse_plan_config(text);
    const int minor_unit = billing::currency_minor_unit(config.currency);
    const billing::Charge charge =
        billing::price(config.plan, billing::Rational(6875, 10), billing::Rational(87), minor_unit);
    if (charge.total_cost != charge.base_fee + charge.minutes_cost + charge.appointments_cost)
      __builtin_trap();
  } catch (const billing::BillingError&) {
    // Rejected input is the expected outcome for most inputs.
  }
  return 0;
}
