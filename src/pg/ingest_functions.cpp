// Ingestion in C:
//   billing.record_call(company bigint, external_id text, started_at timestamptz,
//                       duration_sec integer, status text) -> boolean
//   billing.record_calls(company bigint, external_ids text[], started_ats timestamptz[],
//                        durations integer[], statuses text[]) -> bigint
//   billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
//                              status text, call_external_id text) -> boolean
// The same checks, messages and SQLSTATEs as the PL/pgSQL version of 1.0, then one kept
// statement: the key stored in billing.call_keys with ON CONFLICT DO NOTHING and, where it was
// new, the call under the key's id (1.10's partitioned tables; before 1.10 the call itself
// with ON CONFLICT DO NOTHING on the table's unique constraint). True when the call was new.
// The rollup triggers on billing.calls do the rest, as for any other INSERT.
#include <cstring>
#include <optional>
#include <string>

#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"
#include "pg/company_scope.h"
#include "pg/write_guard.h"

extern "C" {
#include "utils/array.h"
}


namespace billing::pg {
namespace {

// The company is locked FOR KEY SHARE, as a foreign key would lock it; without it, nothing is
// stored (and the function says why).
KeptQuery insert_call(R"SQL(
WITH company AS (
    SELECT c.id FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE),
key AS (
    INSERT INTO billing.call_keys (company_id, external_id, call_id)
    SELECT $1, $2, pg_catalog.nextval('billing.calls_id_seq'::pg_catalog.regclass) FROM company
    ON CONFLICT ON CONSTRAINT call_keys_pkey DO NOTHING
    RETURNING call_id)
INSERT INTO billing.calls (id, company_id, external_id, started_at, duration_sec, status)
SELECT key.call_id, $1, $2, $3, $4, $5 FROM key
)SQL",
                      {INT8OID, TEXTOID, TIMESTAMPTZOID, INT4OID, TEXTOID}, KeptQuery::Access::kWrites);

KeptQuery insert_call_before_1_10(R"SQL(
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT ON CONSTRAINT calls_company_external_id_key DO NOTHING
)SQL",
                                  {INT8OID, TEXTOID, TIMESTAMPTZOID, INT4OID, TEXTOID}, KeptQuery::Access::kWrites);

// Whether the calls and appointments are partitioned, with their keys in tables of their own.
bool keys_in_tables() { return billing_table_exists("call_keys"); }

// A failed INSERT into billing.calls, in the words of `function`. The foreign key is the
// existence check (a lookup of our own would read the company row a second time on every
// call); the table's constraints are the ingestion rules (one definition, 10_tables.sql), and
// their violations are reported with the value that broke them where the function knows it
// (record_call; a batch does not say which of its calls it was).
[[noreturn]] void report_call_violation(const PgError& error, const char* function, int64 company,
                                        std::optional<int32> duration, std::optional<std::string> status) {
  const ErrorData* data = error.data();
  const std::string prefix = std::string(function) + ": ";
  const auto is = [&](const char* name) { return error.names_constraint(name); };
  if (data->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION && (is("calls_company_id_fkey") || is("call_keys_company_id_fkey")))
    throw BillingError("23503", prefix + "company " + std::to_string(company) + " does not exist");
  if (data->sqlerrcode != ERRCODE_CHECK_VIOLATION) throw error;
  if (is("calls_duration_sec_check")) {
    if (!duration)
      throw BillingError(sqlstate::kInvalidParameterValue, prefix + "every duration_sec must be between 0 and 604800 (a week)");
    throw BillingError(sqlstate::kInvalidParameterValue,
                       *duration < 0 ? prefix + "duration_sec must not be negative, got " + std::to_string(*duration)
                                     : prefix + "duration_sec must be at most 604800 (a week), got " + std::to_string(*duration));
  }
  if (is("calls_external_id_check") || is("call_keys_external_id_check"))
    throw BillingError(sqlstate::kInvalidParameterValue, prefix + (duration ? "external_id" : "every external_id") +
                       " must have 1 to 255 characters");
  if (is("calls_started_at_check"))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, prefix + (duration ? "started_at" : "every started_at") +
                       " must lie in the years 2000 to 2099");
  if (is("calls_status_check"))
    throw BillingError(sqlstate::kInvalidParameterValue,
                       status ? prefix + "unknown call status \"" + message_excerpt(*status) + "\"" : prefix + "unknown call status",
                       {}, "The known statuses are those the constraint calls_status_check of billing.calls lists.");
  throw error;
}

KeptQuery company_exists(R"SQL(
SELECT 1 FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) $1
)SQL",
                         {INT8OID});

// Nothing stored in 1.10's layout: a key stored before, or no such company (the statement reads
// the company instead of a foreign key checking it). Says which, for the second.
void require_company(int64 company, const char* function) {
  const Datum value = Int64GetDatum(company);
  if (company_exists.run(&value) == 0)
    throw BillingError("23503", std::string(function) + ": company " + std::to_string(company) + " does not exist");
}

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

  spi_connect();
  const Datum values[5] = {Int64GetDatum(company), PG_GETARG_DATUM(1), TimestampTzGetDatum(started_at),
                           Int32GetDatum(duration), PG_GETARG_DATUM(4)};
  bool inserted = false;
  try {
    RunningApi running("record_call");
    const bool partitioned = keys_in_tables();
    inserted = (partitioned ? insert_call : insert_call_before_1_10).run(values) > 0;
    if (!inserted && partitioned) require_company(company, "record_call");
  } catch (const PgError& error) {
    report_call_violation(error, "record_call", company, duration, status);
  }
  spi_finish();
  return BoolGetDatum(inserted);
}


// A batch in one statement: the rollup triggers see it as one transition table, so the rollup
// and the call profile are written once per company and day, not once per call. Duplicates in
// the batch and calls stored before are skipped alike.
// The first of a batch's calls with one external_id is the one stored.
KeptQuery insert_calls(R"SQL(
WITH batch AS (
    SELECT DISTINCT ON (c.external_id) c.external_id, c.started_at, c.duration_sec, c.status
      FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5))
           WITH ORDINALITY AS c(external_id, started_at, duration_sec, status, position)
     ORDER BY c.external_id, c.position),
company AS (
    SELECT c.id FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE),
keys AS (
    INSERT INTO billing.call_keys (company_id, external_id, call_id)
    SELECT $1, b.external_id, pg_catalog.nextval('billing.calls_id_seq'::pg_catalog.regclass) FROM batch b, company
    ON CONFLICT ON CONSTRAINT call_keys_pkey DO NOTHING
    RETURNING external_id, call_id)
INSERT INTO billing.calls (id, company_id, external_id, started_at, duration_sec, status)
SELECT k.call_id, $1, b.external_id, b.started_at, b.duration_sec, COALESCE(b.status, 'completed')
  FROM keys k JOIN batch b ON b.external_id OPERATOR(pg_catalog.=) k.external_id
)SQL",
                       {INT8OID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID, TEXTARRAYOID}, KeptQuery::Access::kWrites);

KeptQuery insert_calls_before_1_10(R"SQL(
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT $1, c.external_id, c.started_at, c.duration_sec, COALESCE(c.status, 'completed')
  FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5))
       AS c(external_id, started_at, duration_sec, status)
ON CONFLICT ON CONSTRAINT calls_company_external_id_key DO NOTHING
)SQL",
                                   {INT8OID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID, TEXTARRAYOID},
                                   KeptQuery::Access::kWrites);

// The length of a one-dimensional array argument without NULL elements (0 for an empty one).
int batch_length(FunctionCallInfo fcinfo, int argno, const char* name) {
  ArrayType* array = call([&] { return PG_GETARG_ARRAYTYPE_P(argno); });
  if (ARR_NDIM(array) > 1)
    throw BillingError(sqlstate::kInvalidParameterValue, std::string("record_calls: ") + name + " must be one-dimensional");
  if (call([&] { return array_contains_nulls(array); }))
    throw BillingError(sqlstate::kNullValueNotAllowed, std::string("record_calls: ") + name + " must not contain NULL");
  return ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0];
}

Datum record_calls(FunctionCallInfo fcinfo) {
  constexpr const char* kArguments[] = {"company", "external_ids", "started_ats", "durations"};
  for (int i = 0; i < 4; ++i)
    if (PG_ARGISNULL(i))
      throw BillingError(sqlstate::kNullValueNotAllowed, std::string("record_calls: ") + kArguments[i] + " must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const int count = batch_length(fcinfo, 1, "external_ids");
  const bool with_statuses = !PG_ARGISNULL(4);
  if (batch_length(fcinfo, 2, "started_ats") != count || batch_length(fcinfo, 3, "durations") != count ||
      (with_statuses && batch_length(fcinfo, 4, "statuses") != count))
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "record_calls: external_ids, started_ats, durations (and statuses) must have the same length");
  if (count == 0) return Int64GetDatum(0);

  spi_connect();
  const Datum values[5] = {Int64GetDatum(company), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3),
                           with_statuses ? PG_GETARG_DATUM(4) : Datum(0)};
  const char nulls[6] = {' ', ' ', ' ', ' ', with_statuses ? ' ' : 'n', '\0'};
  uint64 inserted = 0;
  try {
    RunningApi running("record_calls");
    const bool partitioned = keys_in_tables();
    inserted = (partitioned ? insert_calls : insert_calls_before_1_10).run(values, nulls);
    if (inserted == 0 && partitioned) require_company(company, "record_calls");
  } catch (const PgError& error) {
    report_call_violation(error, "record_calls", company, std::nullopt, std::nullopt);
  }
  spi_finish();
  return Int64GetDatum(static_cast<int64>(inserted));
}

KeptQuery find_call(R"SQL(
SELECT k.call_id FROM billing.call_keys k
 WHERE k.company_id OPERATOR(pg_catalog.=) $1 AND k.external_id OPERATOR(pg_catalog.=) $2
)SQL",
                    {INT8OID, TEXTOID});

KeptQuery find_call_before_1_10(R"SQL(
SELECT c.id FROM billing.calls c
 WHERE c.company_id OPERATOR(pg_catalog.=) $1 AND c.external_id OPERATOR(pg_catalog.=) $2
)SQL",
                                {INT8OID, TEXTOID});


KeptQuery insert_appointment(R"SQL(
WITH company AS (
    SELECT c.id FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) $1 FOR KEY SHARE),
key AS (
    INSERT INTO billing.appointment_keys (company_id, external_id, appointment_id)
    SELECT $1, $2, pg_catalog.nextval('billing.appointments_id_seq'::pg_catalog.regclass) FROM company
    ON CONFLICT ON CONSTRAINT appointment_keys_pkey DO NOTHING
    RETURNING appointment_id)
INSERT INTO billing.appointments (id, company_id, external_id, call_id, booked_at, status)
SELECT key.appointment_id, $1, $2, $3, $4, $5 FROM key
)SQL",
                             {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID}, KeptQuery::Access::kWrites);

KeptQuery insert_appointment_before_1_10(R"SQL(
INSERT INTO billing.appointments (company_id, external_id, call_id, booked_at, status)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT ON CONSTRAINT appointments_company_external_id_key DO NOTHING
)SQL",
                                         {INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID, TEXTOID}, KeptQuery::Access::kWrites);

Datum record_appointment(FunctionCallInfo fcinfo) {
  constexpr const char* kArguments[] = {"company", "external_id", "booked_at", "status"};
  for (int i = 0; i < 4; ++i)
    if (PG_ARGISNULL(i))
      throw BillingError(sqlstate::kNullValueNotAllowed,
                         std::string("record_appointment: ") + kArguments[i] + " must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const std::string status = text_arg(fcinfo, 3);

  spi_connect();
  const bool partitioned = keys_in_tables();
  std::optional<int64> call;
  if (!PG_ARGISNULL(4)) {
    const Datum lookup[2] = {Int64GetDatum(company), PG_GETARG_DATUM(4)};
    if ((partitioned ? find_call : find_call_before_1_10).run(lookup) == 1) call = result_int64(0, 1);
    if (!call) {
      const Datum company_value[1] = {Int64GetDatum(company)};
      if (company_exists.run(company_value) == 0)
        throw BillingError("23503", "record_appointment: company " + std::to_string(company) + " does not exist");
      throw BillingError("23503", "record_appointment: company " + std::to_string(company) + " has no call \"" +
                                      message_excerpt(text_arg(fcinfo, 4)) + "\"");
    }
  }
  const Datum values[5] = {Int64GetDatum(company), PG_GETARG_DATUM(1), call ? Int64GetDatum(*call) : Datum(0),
                           PG_GETARG_DATUM(2), PG_GETARG_DATUM(3)};
  const char nulls[5] = {' ', ' ', call ? ' ' : 'n', ' ', ' '};
  bool inserted = false;
  try {
    RunningApi running("record_appointment");
    inserted = (partitioned ? insert_appointment : insert_appointment_before_1_10).run(values, nulls) > 0;
    if (!inserted && partitioned) require_company(company, "record_appointment");
  } catch (const PgError& error) {
    // As in record_call: the table's constraints are the rules, reported in this function's words.
    const ErrorData* data = error.data();
    const auto is = [&](const char* name) { return error.names_constraint(name); };
    if (data->sqlerrcode == ERRCODE_FOREIGN_KEY_VIOLATION &&
        (is("appointments_company_id_fkey") || is("appointment_keys_company_id_fkey")))
      throw BillingError("23503", "record_appointment: company " + std::to_string(company) + " does not exist");
    if (data->sqlerrcode != ERRCODE_CHECK_VIOLATION) throw;
    if (is("appointments_external_id_check") || is("appointment_keys_external_id_check"))
      throw BillingError(sqlstate::kInvalidParameterValue, "record_appointment: external_id must have 1 to 255 characters");
    if (is("appointments_booked_at_check"))
      throw BillingError(sqlstate::kDatetimeFieldOverflow, "record_appointment: booked_at must lie in the years 2000 to 2099");
    if (is("appointments_status_check"))
      throw BillingError(sqlstate::kInvalidParameterValue,
                         "record_appointment: unknown appointment status \"" + message_excerpt(status) + "\"", {},
                         "Known statuses: booked, cancelled.");
    throw;
  }
  spi_finish();
  return BoolGetDatum(inserted);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_record_call, billing::pg::record_call)
BILLING_SQL_FUNCTION(billing_record_calls, billing::pg::record_calls)
BILLING_SQL_FUNCTION(billing_record_appointment, billing::pg::record_appointment)
