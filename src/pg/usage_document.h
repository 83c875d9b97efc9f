// The dashboard's usage documents from a period's totals and plan (src/core/usage.cpp), for
// billing._usage_document() and the C read path.
#pragma once

#include <optional>
#include <string>

#include "core/plan.h"
#include "core/usage.h"
#include "pg/pg_includes.h"
#include "pg/company_scope.h"

namespace billing::pg {

// `today` must lie within [start, end]; dates must be finite (22008 / 22023 otherwise).
std::string usage_document(const PlanConfig& config, DateADT start, DateADT end, DateADT today,
                           const UsageFacts& usage, bool with_projection);

// The calls and appointments of the company-local dates [first_day, last_day] that started at
// or before as_of (as_of may be infinite). Reads the rollup and raw rows without row level
// security: for a company already checked against the caller. Inside an SPI connection.
UsageFacts usage_up_to(int64 company, const std::string& zone, DateADT first_day, DateADT last_day,
                       TimestampTz as_of);

// A company's billing period containing the local date `day` (stored, or derived from the
// anchor day) and the plan that applies to it (nothing when none does): the plan in force by
// `day` (a running period, as usage_current prices it), or with `by_period_end` the plan in
// force by the period's last day (an ended period, as close_period bills it).
struct PeriodPlan {
  DateADT start;
  DateADT end;
  std::optional<PlanConfig> config;
};
PeriodPlan period_plan_for(const Company& company, DateADT day, bool by_period_end = false);

// The usage_current (or, with_projection, usage_projection) document of a company already
// resolved against the caller (resolve_company), as of `as_of`. Inside an SPI connection.
std::string usage_document_for(const Company& company, TimestampTz as_of, bool with_projection);

}  // namespace billing::pg
