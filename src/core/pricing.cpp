#include "core/pricing.h"

#include "core/errors.h"

namespace billing {
namespace {

Rational excess(const Rational& used, const Rational& included) {
  return used > included ? Rational(used - included) : Rational(0);
}

}  // namespace

Charge price(const PricingPlan& plan, const Rational& minutes, const Rational& appointments,
             int minor_unit) {
  if (minutes < 0)
    throw BillingError(sqlstate::kInvalidParameterValue, "minutes must not be negative");
  if (appointments < 0)
    throw BillingError(sqlstate::kInvalidParameterValue, "appointments must not be negative");

  const auto line = [minor_unit](const Rational& amount) {
    return round_half_away(amount, minor_unit);
  };
  Charge charge;
  switch (plan.model) {
    case PricingModel::kPerMinute:
      charge.base_fee = line(*plan.base_fee);
      charge.included_minutes = *plan.included_minutes;
      charge.overage_minutes = excess(minutes, *plan.included_minutes);
      charge.minutes_cost = line(*charge.overage_minutes * *plan.overage_per_minute);
      charge.appointments_cost = line(appointments * *plan.per_appointment_rate);
      break;
    case PricingModel::kPerAppointment:
      charge.base_fee = line(*plan.base_fee);
      charge.minutes_cost = 0;
      charge.appointments_cost = line(appointments * *plan.per_appointment_rate);
      break;
    case PricingModel::kPackage:
      charge.base_fee = line(*plan.base_fee);
      charge.included_minutes = *plan.package_minutes;
      charge.overage_minutes = excess(minutes, *plan.package_minutes);
      charge.minutes_cost = line(*charge.overage_minutes * *plan.overage_per_minute);
      charge.included_appointments = *plan.package_appointments;
      charge.overage_appointments = excess(appointments, *plan.package_appointments);
      charge.appointments_cost = line(*charge.overage_appointments * *plan.overage_per_appointment);
      break;
    case PricingModel::kCombined:
      charge.base_fee = 0;
      charge.minutes_cost = line(minutes * *plan.per_minute_rate);
      charge.appointments_cost = line(appointments * *plan.per_appointment_rate);
      break;
  }
  charge.total_cost = charge.base_fee + charge.minutes_cost + charge.appointments_cost;
  return charge;
}

}  // namespace billing
