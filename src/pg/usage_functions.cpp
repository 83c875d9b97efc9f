// billing._usage_document(config jsonb, period_start date, period_end date, today date,
//   calls_total bigint, calls_completed bigint, total_seconds bigint, appointments bigint,
//   with_projection boolean) -> jsonb
//
// The computing half of usage_current() and usage_projection(): the SQL half gathers the
// company's period, plan and raw totals; this turns them into the dashboard's document.
#include "core/errors.h"
#include "core/plan.h"
#include "core/usage.h"
#include "pg/convert.h"
#include "pg/guard.h"

namespace billing::pg {
namespace {

Datum usage_document(FunctionCallInfo fcinfo) {
  const PlanConfig config = parse_plan_config(jsonb_arg(fcinfo, 0));
  const DateADT start = PG_GETARG_DATEADT(1);
  const DateADT end = PG_GETARG_DATEADT(2);
  const DateADT today = PG_GETARG_DATEADT(3);
  PeriodFacts period{date_arg_iso(fcinfo, 1, "period_start"), date_arg_iso(fcinfo, 2, "period_end"),
                     0, 0};
  (void)date_arg_iso(fcinfo, 3, "today");  // rejects an infinite date
  if (!(start <= today && today <= end))
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "today must lie within the period");
  period.days_elapsed = static_cast<int64_t>(today) - start + 1;
  period.days_remaining = static_cast<int64_t>(end) - today;

  UsageFacts usage;
  usage.calls_total = PG_GETARG_INT64(4);
  usage.calls_completed = PG_GETARG_INT64(5);
  usage.total_seconds = PG_GETARG_INT64(6);
  usage.appointments = PG_GETARG_INT64(7);
  const bool with_projection = PG_GETARG_BOOL(8);

  const std::string document = with_projection ? usage_projection_json(config, period, usage)
                                               : usage_current_json(config, period, usage);
  return jsonb_datum(document);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_usage_document, billing::pg::usage_document)
