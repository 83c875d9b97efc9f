// The dashboard's hottest reads in one C path:
//   billing.usage_current(company bigint, as_of timestamptz) -> jsonb
//   billing.usage_projection(company bigint, as_of timestamptz) -> jsonb
//   billing._usage(company bigint, as_of timestamptz, with_projection boolean, api_name text) -> jsonb
//     (the C symbol of versions before 1.4; upcoming_charges now gets its document in C)
// The company scope and audit (resolve_company, through SPI under row level security), then the
// company's period, plan and rollup rows by index (pg/index_lookup.h), then the document from
// src/core/usage.cpp. Same results and errors as the PL/pgSQL chain of version 1.1
// (_company, period_for, plan_for_period, period_totals), at a fraction of its cost per call.
#include "core/errors.h"
#include "core/period.h"
#include "core/plan.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"
#include "pg/local_day.h"
#include "pg/company_scope.h"
#include "pg/usage_document.h"

#include <unordered_map>

extern "C" {
#include "utils/fmgroids.h"
}

namespace billing::pg {
namespace {

// The raw rows of local dates $5..$6 (zone $4) that started from $2, the first instant of
// date $5, up to as_of ($3): for the days whose rollup rows hold something later than as_of.
// (Where the clock goes back across midnight, other dates have instants in that range.)
KeptQuery raw_calls_query(R"SQL(
SELECT pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status OPERATOR(pg_catalog.=) 'completed'),
       COALESCE(pg_catalog.sum(k.duration_sec), 0)::pg_catalog.int8
  FROM billing.calls k
 WHERE k.company_id OPERATOR(pg_catalog.=) $1 AND k.started_at OPERATOR(pg_catalog.>=) $2
   AND k.started_at OPERATOR(pg_catalog.<=) $3
   AND pg_catalog.timezone($4, k.started_at)::pg_catalog.date OPERATOR(pg_catalog.>=) $5
   AND pg_catalog.timezone($4, k.started_at)::pg_catalog.date OPERATOR(pg_catalog.<=) $6
)SQL",
                            {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, DATEOID, DATEOID});

KeptQuery raw_appointments_query(R"SQL(
SELECT pg_catalog.count(*)
  FROM billing.appointments a
 WHERE a.company_id OPERATOR(pg_catalog.=) $1 AND a.booked_at OPERATOR(pg_catalog.>=) $2
   AND a.booked_at OPERATOR(pg_catalog.<=) $3 AND a.status OPERATOR(pg_catalog.<>) 'cancelled'
   AND pg_catalog.timezone($4, a.booked_at)::pg_catalog.date OPERATOR(pg_catalog.>=) $5
   AND pg_catalog.timezone($4, a.booked_at)::pg_catalog.date OPERATOR(pg_catalog.<=) $6
)SQL",
                                   {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, DATEOID, DATEOID});

// The company's time zone and anchor day, read under the caller's row level security (the SQL
// entry points period_totals, period_for and plan_for_period: nothing for a hidden company).
KeptQuery visible_company_query(R"SQL(
SELECT c.timezone, c.billing_anchor_day::pg_catalog.int8 FROM billing.companies c
 WHERE c.id OPERATOR(pg_catalog.=) $1
)SQL",
                                {INT8OID});

struct Period {
  DateADT start;
  DateADT end;
  std::optional<int64> id;  // nothing for a derived period
  bool closed = false;
};

// The stored period with the latest start on or before `today`. Periods do not overlap, so it
// is the only stored one that can contain today, and when it ended earlier, no stored period
// ends later before today.
std::optional<Period> latest_stored_period(int64 company, DateADT today) {
  IndexLookup periods("billing_periods", "billing_periods_company_start_idx");
  const AttrNumber start_column = periods.column("start_date"), end_column = periods.column("end_date"),
                   id_column = periods.column("id"), status_column = periods.column("status");
  periods.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(company));
  periods.add_key(2, BTLessEqualStrategyNumber, F_DATE_LE, DateADTGetDatum(today));
  std::optional<Period> latest;
  if (periods.next(BackwardScanDirection)) {
    bool is_null = false;
    const Datum status = periods.value(status_column, &is_null);
    latest = Period{DatumGetDateADT(periods.value(start_column, &is_null)),
                    DatumGetDateADT(periods.value(end_column, &is_null)),
                    DatumGetInt64(periods.value(id_column, &is_null)),
                    call([&] { return TextDatumGetCString(status); }) == std::string("closed")};
  }
  periods.close();
  return latest;
}

// The first day of the earliest stored period starting after `today`.
std::optional<DateADT> next_stored_start(int64 company, DateADT today) {
  IndexLookup periods("billing_periods", "billing_periods_company_start_idx");
  const AttrNumber start_column = periods.column("start_date");
  periods.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(company));
  periods.add_key(2, BTGreaterStrategyNumber, F_DATE_GT, DateADTGetDatum(today));
  std::optional<DateADT> start;
  if (periods.next()) {
    bool is_null = false;
    start = DatumGetDateADT(periods.value(start_column, &is_null));
  }
  periods.close();
  return start;
}

// The period containing `today` (billing.period_for): the stored one, or else the one derived
// from the company's anchor day between the stored periods around it.
Period current_period(const Company& company, DateADT today) {
  const std::optional<Period> latest = latest_stored_period(company.id, today);
  if (latest && latest->end >= today) return *latest;
  const DayRange derived =
      derived_period(today, company.anchor_day, latest ? std::optional<int64_t>(latest->end) : std::nullopt,
                     next_stored_start(company.id, today));
  // period_for() steps a month with timestamp arithmetic, which ends where timestamps end.
  if (derived.first < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE ||
      derived.last >= TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE - 1)
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  return Period{static_cast<DateADT>(derived.first), static_cast<DateADT>(derived.last), std::nullopt, false};
}

// The columns a plan row is parsed from: its parameters (named as make_plan() names them), then
// its model.
constexpr const char* kPlanColumns[] = {"base_fee",        "included_minutes",     "overage_per_minute",
                                        "per_minute_rate", "per_appointment_rate", "package_minutes",
                                        "package_appointments", "overage_per_appointment", "pricing_model"};
constexpr size_t kPlanColumnCount = std::size(kPlanColumns);
constexpr size_t kModelColumn = kPlanColumnCount - 1;

// Plans already parsed in this backend, by the stored bytes of their values: the same bytes
// always parse to the same plan, so a plan read again (or another company's identical plan)
// skips numeric_out and the decimal parser. Rows are never trusted by identity, only by content.
constexpr size_t kMaxParsedPlans = 256;

std::unordered_map<std::string, PricingPlan>& parsed_plans() {
  static auto* plans = new std::unordered_map<std::string, PricingPlan>();
  return *plans;
}

// The values' varlena bytes with a null marker each; nothing when one is compressed or stored
// out of line (never for a plan row, which is small).
std::optional<std::string> stored_bytes(const Datum* values, const bool* nulls, size_t count) {
  std::string bytes;
  for (size_t i = 0; i < count; ++i) {
    bytes.push_back(nulls[i] ? 'n' : 'v');
    if (nulls[i]) continue;
    const auto* value = reinterpret_cast<const struct varlena*>(DatumGetPointer(values[i]));
    if (VARATT_IS_EXTERNAL(value) || VARATT_IS_COMPRESSED(value)) return std::nullopt;
    bytes.append(reinterpret_cast<const char*>(value), VARSIZE_ANY(value));  // the header holds the length
  }
  return bytes;
}

// The plan of a row's kPlanColumns values, parsed once per content.
PricingPlan parsed_plan(const Datum (&values)[kPlanColumnCount], const bool (&nulls)[kPlanColumnCount]) {
  const std::optional<std::string> key = stored_bytes(values, nulls, kPlanColumnCount);
  if (key) {
    const auto cached = parsed_plans().find(*key);
    if (cached != parsed_plans().end()) return cached->second;
  }
  std::vector<PlanField> fields;
  for (size_t i = 0; i < kModelColumn; ++i) {
    if (!nulls[i])
      fields.emplace_back(kPlanColumns[i],
                          call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, values[i])); }));
  }
  PricingPlan plan = make_plan(call([&] { return TextDatumGetCString(values[kModelColumn]); }), fields);
  if (key) {
    if (parsed_plans().size() >= kMaxParsedPlans) parsed_plans().clear();
    parsed_plans().emplace(*key, plan);
  }
  return plan;
}

// The plan of a period (billing.plan_for_period): the latest plan that took effect by
// `last_day` and was still valid on `first_day` or later. Leaves `plans` on that row.
bool seek_plan_for_period(IndexLookup& plans, int64 company, DateADT first_day, DateADT last_day) {
  const AttrNumber valid_until = plans.column("valid_until");
  plans.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(company));
  plans.add_key(2, BTLessEqualStrategyNumber, F_DATE_LE, DateADTGetDatum(last_day));
  while (plans.next(BackwardScanDirection)) {
    bool is_null = false;
    const DateADT until = DatumGetDateADT(plans.value(valid_until, &is_null));
    if (is_null || until >= first_day) return true;
  }
  return false;
}

std::optional<PricingPlan> plan_for_period(int64 company, DateADT first_day, DateADT today) {
  IndexLookup plans("pricing_plans", "pricing_plans_company_valid_from_idx");
  AttrNumber columns[kPlanColumnCount];
  for (size_t i = 0; i < kPlanColumnCount; ++i) columns[i] = plans.column(kPlanColumns[i]);
  std::optional<PricingPlan> result;
  if (seek_plan_for_period(plans, company, first_day, today)) {
    Datum values[kPlanColumnCount];
    bool nulls[kPlanColumnCount];
    for (size_t i = 0; i < kPlanColumnCount; ++i) values[i] = plans.value(columns[i], &nulls[i]);
    result = parsed_plan(values, nulls);
  }
  plans.close();
  return result;
}

// One rollup row: a company's day (or a slot of it).
struct RollupRow {
  DateADT day;
  int64 calls, completed, seconds, appointments;
  std::optional<TimestampTz> last_call_at, last_appointment_at;
};

std::vector<RollupRow> rollup_rows(int64 company, DateADT first_day, DateADT last_day) {
  IndexLookup rollup("usage_daily", "usage_daily_pkey");
  const AttrNumber day = rollup.column("day"), calls = rollup.column("calls"),
                   completed = rollup.column("completed_calls"), seconds = rollup.column("seconds"),
                   appointments = rollup.column("appointments"), last_call = rollup.column("last_call_at"),
                   last_appointment = rollup.column("last_appointment_at");
  rollup.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(company));
  rollup.add_key(2, BTGreaterEqualStrategyNumber, F_DATE_GE, DateADTGetDatum(first_day));
  rollup.add_key(2, BTLessEqualStrategyNumber, F_DATE_LE, DateADTGetDatum(last_day));
  std::vector<RollupRow> rows;
  while (rollup.next()) {
    bool is_null = false;
    RollupRow row{DatumGetDateADT(rollup.value(day, &is_null)), DatumGetInt64(rollup.value(calls, &is_null)),
                  DatumGetInt64(rollup.value(completed, &is_null)), DatumGetInt64(rollup.value(seconds, &is_null)),
                  DatumGetInt64(rollup.value(appointments, &is_null)), std::nullopt, std::nullopt};
    const Datum call_at = rollup.value(last_call, &is_null);
    if (!is_null) row.last_call_at = DatumGetTimestampTz(call_at);
    const Datum appointment_at = rollup.value(last_appointment, &is_null);
    if (!is_null) row.last_appointment_at = DatumGetTimestampTz(appointment_at);
    rows.push_back(row);
  }
  rollup.close();
  return rows;
}

}  // namespace

// The rule of every usage figure: the calls and appointments of the local dates
// [first_day, last_day] that started at or before as_of. Whole days from the rollup; from the
// earliest day whose rollup rows hold something that started after as_of (today, or on a
// clock that went back across midnight, yesterday too), the raw rows up to as_of instead.
UsageFacts usage_up_to(int64 company, const std::string& zone, DateADT first_day, DateADT last_day,
                       TimestampTz as_of) {
  UsageFacts totals;
  if (last_day < first_day) return totals;
  const std::vector<RollupRow> rows = rollup_rows(company, first_day, last_day);
  std::optional<DateADT> late_calls_from, late_appointments_from;  // rows arrive by day
  for (const RollupRow& row : rows) {
    if (!late_calls_from && row.last_call_at && *row.last_call_at > as_of) late_calls_from = row.day;
    if (!late_appointments_from && row.last_appointment_at && *row.last_appointment_at > as_of)
      late_appointments_from = row.day;
  }
  int64 seconds = 0;
  for (const RollupRow& row : rows) {
    if (!late_calls_from || row.day < *late_calls_from) {
      totals.calls_total += row.calls;
      totals.calls_completed += row.completed;
      seconds += row.seconds;
    }
    if (!late_appointments_from || row.day < *late_appointments_from) totals.appointments += row.appointments;
  }
  const auto raw_arguments = [&](DateADT from_day, Datum (&arguments)[6]) {
    arguments[0] = Int64GetDatum(company);
    arguments[1] = TimestampTzGetDatum(local_day_instants(from_day, zone).first);
    arguments[2] = TimestampTzGetDatum(as_of);
    arguments[3] = text_datum(zone);
    arguments[4] = DateADTGetDatum(from_day);
    arguments[5] = DateADTGetDatum(last_day);
  };
  if (late_calls_from) {
    Datum arguments[6];
    raw_arguments(*late_calls_from, arguments);
    raw_calls_query.run(arguments);
    totals.calls_total += *result_int64(0, 1);
    totals.calls_completed += *result_int64(0, 2);
    seconds += *result_int64(0, 3);
  }
  if (late_appointments_from) {
    Datum arguments[6];
    raw_arguments(*late_appointments_from, arguments);
    raw_appointments_query.run(arguments);
    totals.appointments += *result_int64(0, 1);
  }
  totals.total_seconds = seconds;
  return totals;
}

namespace {

// As to_char(day, 'YYYY-MM-DD'): a year BC prints as its number, without an era.
std::string iso_date(DateADT day) {
  int year = 0, month = 0, day_of_month = 0;
  j2date(day + POSTGRES_EPOCH_JDATE, &year, &month, &day_of_month);  // plain arithmetic
  char text[32];
  snprintf(text, sizeof text, "%04d-%02d-%02d", year > 0 ? year : 1 - year, month, day_of_month);
  return text;
}

}  // namespace

PeriodPlan period_plan_for(const Company& company, DateADT day, bool by_period_end) {
  const Period period = current_period(company, day);
  std::optional<PricingPlan> plan = plan_for_period(company.id, period.start, by_period_end ? period.end : day);
  PeriodPlan result{period.start, period.end, std::nullopt};
  if (plan) result.config = PlanConfig{std::move(*plan), company.currency};
  return result;
}

std::string usage_document_for(const Company& company, TimestampTz as_of, bool with_projection) {
  if (TIMESTAMP_NOT_FINITE(as_of))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  const DateADT today = local_date(as_of, company.timezone);
  const Period period = current_period(company, today);
  std::optional<PricingPlan> plan = plan_for_period(company.id, period.start, today);
  if (!plan)
    throw BillingError(sqlstate::kNoDataFound,
                       "company " + std::to_string(company.id) + " has no pricing plan valid on " + iso_date(today),
                       {}, "Insert a row into billing.pricing_plans whose validity covers this date.");
  PlanConfig config{std::move(*plan), company.currency};

  const UsageFacts totals = usage_up_to(company.id, company.timezone, period.start, period.end, as_of);
  return usage_document(config, period.start, period.end, today, totals, with_projection);
}

namespace {

std::string usage(FunctionCallInfo fcinfo, bool with_projection, const std::string* api_name) {
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  const std::optional<int64> requested =
      PG_ARGISNULL(0) ? std::nullopt : std::optional<int64>(PG_GETARG_INT64(0));
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
  if (TIMESTAMP_NOT_FINITE(as_of))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  spi_connect();
  std::string document = usage_document_for(resolve_company(requested, api_name), as_of, with_projection);
  spi_finish();
  return document;
}

Datum usage_current(FunctionCallInfo fcinfo) {
  static const std::string name = "usage_current";
  return jsonb_datum(usage(fcinfo, false, &name));
}

Datum usage_projection(FunctionCallInfo fcinfo) {
  static const std::string name = "usage_projection";
  return jsonb_datum(usage(fcinfo, true, &name));
}

// billing._usage(): the same for other API functions (upcoming_charges), which audit
// themselves and pass api_name NULL.
Datum usage_function(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(2)) throw BillingError(sqlstate::kNullValueNotAllowed, "with_projection must not be NULL");
  const bool with_projection = PG_GETARG_BOOL(2);
  if (PG_ARGISNULL(3)) return jsonb_datum(usage(fcinfo, with_projection, nullptr));
  const std::string api_name = text_arg(fcinfo, 3);
  return jsonb_datum(usage(fcinfo, with_projection, &api_name));
}

// billing.period_for(company, day) -> (period_id, start_date, end_date, status)
Datum period_for(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    throw BillingError(sqlstate::kNullValueNotAllowed, "company and day must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const DateADT day = PG_GETARG_DATEADT(1);
  if (DATE_NOT_FINITE(day)) throw BillingError(sqlstate::kDatetimeFieldOverflow, "day must be a finite date");
  spi_connect();
  const Datum company_argument[1] = {Int64GetDatum(company)};
  if (visible_company_query.run(company_argument) == 0)
    throw BillingError(sqlstate::kInsufficientPrivilege, "company " + std::to_string(company) + " is not accessible");
  const int anchor_day = static_cast<int>(*result_int64(0, 2));
  spi_finish();
  const Period period = current_period(Company{company, {}, {}, anchor_day, Datum(0)}, day);
  const Datum values[4] = {Int64GetDatum(period.id.value_or(0)), DateADTGetDatum(period.start),
                           DateADTGetDatum(period.end), text_datum(period.closed ? "closed" : "open")};
  const bool nulls[4] = {!period.id.has_value(), false, false, false};
  return record_datum(fcinfo, values, nulls);
}

// billing.plan_for_period(company, first_day, last_day) -> billing.pricing_plans: the plan row, or
// a row of NULLs when none applies or the caller's row level security hides the company.
Datum plan_for_period_sql(FunctionCallInfo fcinfo) {
  if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
    const int64 company = PG_GETARG_INT64(0);
    spi_connect();
    const Datum company_argument[1] = {Int64GetDatum(company)};
    const bool visible = visible_company_query.run(company_argument) > 0;
    spi_finish();
    if (visible) {
      IndexLookup plans("pricing_plans", "pricing_plans_company_valid_from_idx");
      if (seek_plan_for_period(plans, company, PG_GETARG_DATEADT(1), PG_GETARG_DATEADT(2))) {
        const Datum row = plans.row();
        plans.close();
        return row;
      }
      plans.close();
    }
  }
  // No plan: a row whose every column is NULL (what a PL/pgSQL row variable never assigned is).
  return call([&] {
    TupleDesc descriptor = nullptr;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("plan_for_period must return a record")));
    descriptor = BlessTupleDesc(descriptor);
    Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * descriptor->natts));
    bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * descriptor->natts));
    for (int i = 0; i < descriptor->natts; ++i) nulls[i] = true;
    return HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls));
  });
}

// billing.period_totals(company, start_date, end_date, as_of): usage_up_to() of a company the
// caller's row level security shows; zeros for one it hides, for an unknown one and for NULLs.
Datum period_totals(FunctionCallInfo fcinfo) {
  UsageFacts totals;
  if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1) && !PG_ARGISNULL(2) && !PG_ARGISNULL(3)) {
    const int64 company = PG_GETARG_INT64(0);
    spi_connect();
    const Datum company_argument[1] = {Int64GetDatum(company)};
    if (visible_company_query.run(company_argument) > 0) {
      const std::string zone = *result_text(0, 1);
      totals = usage_up_to(company, zone, PG_GETARG_DATEADT(1), PG_GETARG_DATEADT(2), PG_GETARG_TIMESTAMPTZ(3));
    }
    spi_finish();
  }
  const int64 seconds = static_cast<int64>(totals.total_seconds);
  const Datum values[4] = {Int64GetDatum(totals.calls_total), Int64GetDatum(totals.calls_completed),
                           Int64GetDatum(seconds), Int64GetDatum(totals.appointments)};
  const bool nulls[4] = {false, false, false, false};
  return record_datum(fcinfo, values, nulls);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_period_totals, billing::pg::period_totals)
BILLING_SQL_FUNCTION(billing_period_for, billing::pg::period_for)
BILLING_SQL_FUNCTION(billing_plan_for_period, billing::pg::plan_for_period_sql)
BILLING_SQL_FUNCTION(billing_usage_current, billing::pg::usage_current)
BILLING_SQL_FUNCTION(billing_usage_projection, billing::pg::usage_projection)
BILLING_SQL_FUNCTION(billing_usage, billing::pg::usage_function)
