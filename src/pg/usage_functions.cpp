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
#include "pg/usage_document.h"

namespace billing::pg {

std::string usage_document(const PlanConfig& config, DateADT start, DateADT end, DateADT today,
                           const UsageFacts& usage, bool with_projection) {
  PeriodFacts period{date_iso(start, "period_start"), date_iso(end, "period_end"), 0, 0};
  (void)date_iso(today, "today");  // rejects an infinite date
  if (!(start <= today && today <= end))
    throw BillingError(sqlstate::kInvalidParameterValue, "today must lie within the period");
  period.days_elapsed = static_cast<int64_t>(today) - start + 1;
  period.days_remaining = static_cast<int64_t>(end) - today;
  return with_projection ? usage_projection_json(config, period, usage)
                         : usage_current_json(config, period, usage);
}

namespace {

Datum usage_document_function(FunctionCallInfo fcinfo) {
  const PlanConfig config = parse_plan_config(jsonb_arg(fcinfo, 0));
  UsageFacts usage;
  usage.calls_total = PG_GETARG_INT64(4);
  usage.calls_completed = PG_GETARG_INT64(5);
  usage.total_seconds = PG_GETARG_INT64(6);
  usage.appointments = PG_GETARG_INT64(7);
  return jsonb_datum(usage_document(config, PG_GETARG_DATEADT(1), PG_GETARG_DATEADT(2),
                                    PG_GETARG_DATEADT(3), usage, PG_GETARG_BOOL(8)));
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_usage_document, billing::pg::usage_document_function)
