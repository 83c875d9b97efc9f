// Ingestion's hot path in C:
//   billing.record_call(company bigint, external_id text, started_at timestamptz,
//                       duration_sec integer, status text) -> boolean
// The same checks, messages and SQLSTATEs as the PL/pgSQL version of 1.0, then one kept INSERT
// ... ON CONFLICT DO NOTHING: true when the call was new. The rollup triggers on billing.calls
// do the rest, as for any other INSERT.
#include <cstring>
#include <string>

#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/kept_query.h"
#include "pg/session.h"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace billing::pg {
namespace {

constexpr const char* kCallStatuses[] = {"completed", "failed", "missed", "busy", "no_answer"};
constexpr int32 kMaxCallSeconds = 604800;  // a week
// 2000-01-01 00:00 UTC (PostgreSQL's epoch) and 2100-01-01 00:00 UTC: 36,525 days later.
constexpr TimestampTz kEarliestEvent = 0;
constexpr TimestampTz kEventsBefore = INT64CONST(36525) * USECS_PER_DAY;

KeptQuery insert_call(R"SQL(
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT ON CONSTRAINT calls_company_external_id_key DO NOTHING
)SQL",
                      {INT8OID, TEXTOID, TIMESTAMPTZOID, INT4OID, TEXTOID}, KeptQuery::Access::kWrites);

Datum record_call(FunctionCallInfo fcinfo) {
  constexpr const char* kArguments[] = {"company", "external_id", "started_at", "duration_sec", "status"};
  for (int i = 0; i < 5; ++i)
    if (PG_ARGISNULL(i))
      throw BillingError(sqlstate::kNullValueNotAllowed, std::string("record_call: ") + kArguments[i] + " must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const std::string external_id = text_arg(fcinfo, 1);
  const TimestampTz started_at = PG_GETARG_TIMESTAMPTZ(2);
  const int32 duration = PG_GETARG_INT32(3);
  const std::string status = text_arg(fcinfo, 4);

  if (duration < 0)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "record_call: duration_sec must not be negative, got " + std::to_string(duration));
  if (duration > kMaxCallSeconds)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "record_call: duration_sec must be at most 604800 (a week), got " + std::to_string(duration));
  const int characters = call([&] {
    return pg_mbstrlen_with_len(external_id.c_str(), static_cast<int>(external_id.size()));
  });
  if (characters < 1 || characters > 255)
    throw BillingError(sqlstate::kInvalidParameterValue, "record_call: external_id must have 1 to 255 characters");
  if (!(started_at >= kEarliestEvent && started_at < kEventsBefore))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "record_call: started_at must lie in the years 2000 to 2099");
  bool known = false;
  for (const char* candidate : kCallStatuses) known = known || status == candidate;
  if (!known)
    throw BillingError(sqlstate::kInvalidParameterValue, "record_call: unknown call status \"" + message_excerpt(status) + "\"",
                       {}, "Known statuses: completed, failed, missed, busy, no_answer.");

  spi_connect();
  const Datum values[5] = {Int64GetDatum(company), PG_GETARG_DATUM(1), TimestampTzGetDatum(started_at),
                           Int32GetDatum(duration), PG_GETARG_DATUM(4)};
  bool inserted = false;
  try {
    inserted = insert_call.run(values) > 0;
  } catch (const PgError& error) {
    // The foreign key is the existence check (a lookup of our own read the company row a second
    // time on every call); its violation is reported in record_call's words, as since 1.0.
    const ErrorData* data = error.data();
    if (data->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION && data->constraint_name != nullptr &&
        std::strcmp(data->constraint_name, "calls_company_id_fkey") == 0)
      throw BillingError("23503", "record_call: company " + std::to_string(company) + " does not exist");
    throw;
  }
  spi_finish();
  return BoolGetDatum(inserted);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_record_call, billing::pg::record_call)
