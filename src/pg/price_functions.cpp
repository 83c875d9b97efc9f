// billing.price(config jsonb, minutes numeric, appointments numeric) -> billing.charge
// billing.price_seconds(config jsonb, seconds numeric, appointments numeric) -> billing.charge
#include "core/currency.h"
#include "core/plan.h"
#include "core/pricing.h"
#include "pg/convert.h"
#include "pg/guard.h"

namespace billing::pg {
namespace {

// Column order of the SQL composite type billing.charge.
enum ChargeColumn {
  kModel, kCurrency, kBaseFee, kMinutesCost, kAppointmentsCost, kTotalCost,
  kIncludedMinutes, kOverageMinutes, kIncludedAppointments, kOverageAppointments, kColumns
};

// Prices argument 1 as minutes when `seconds_per_unit` is 1, as seconds when it is 60.
Datum charge_of(FunctionCallInfo fcinfo, int seconds_per_unit) {
  const PlanConfig config = parse_plan_config(jsonb_arg(fcinfo, 0));
  const Rational minutes =
      numeric_arg(fcinfo, 1, seconds_per_unit == 1 ? "minutes" : "seconds") / seconds_per_unit;
  const Rational appointments = numeric_arg(fcinfo, 2, "appointments");
  const int minor_unit = currency_minor_unit(config.currency);
  const Charge charge = price(config.plan, minutes, appointments, minor_unit);

  Datum values[kColumns];
  bool nulls[kColumns] = {};
  values[kModel] = text_datum(model_name(config.plan.model));
  values[kCurrency] = text_datum(config.currency);
  values[kBaseFee] = numeric_datum(format_fixed(charge.base_fee, minor_unit));
  values[kMinutesCost] = numeric_datum(format_fixed(charge.minutes_cost, minor_unit));
  values[kAppointmentsCost] = numeric_datum(format_fixed(charge.appointments_cost, minor_unit));
  values[kTotalCost] = numeric_datum(format_fixed(charge.total_cost, minor_unit));
  const auto set_quantity = [&](ChargeColumn column, const std::optional<Rational>& value) {
    nulls[column] = !value;
    values[column] = value ? numeric_datum(format_exact(*value)) : Datum(0);
  };
  set_quantity(kIncludedMinutes, charge.included_minutes);
  set_quantity(kOverageMinutes, charge.overage_minutes);
  set_quantity(kIncludedAppointments, charge.included_appointments);
  set_quantity(kOverageAppointments, charge.overage_appointments);

  return call([&] {
    TupleDesc descriptor;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE ||
        descriptor->natts != kColumns)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                      errmsg("billing.price must return billing.charge")));
    descriptor = BlessTupleDesc(descriptor);
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
  });
}

Datum price_jsonb(FunctionCallInfo fcinfo) { return charge_of(fcinfo, 1); }

// Minutes are seconds / 60 exactly: a sum of durations never passes through a rounded division.
Datum price_seconds(FunctionCallInfo fcinfo) { return charge_of(fcinfo, 60); }

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_price_jsonb, billing::pg::price_jsonb)
BILLING_SQL_FUNCTION(billing_price_seconds, billing::pg::price_seconds)

namespace billing::pg {
namespace {

// billing.currency_minor_unit(code text) -> integer: 22023 for a code ISO 4217 does not list.
Datum currency_minor_unit_sql(FunctionCallInfo fcinfo) {
  return Int32GetDatum(currency_minor_unit(text_arg(fcinfo, 0)));
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_currency_minor_unit, billing::pg::currency_minor_unit_sql)
