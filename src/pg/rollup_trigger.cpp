// The rollup triggers in C: billing._roll_up_calls() and billing._roll_up_appointments(),
// statement-level AFTER triggers with transition tables on billing.calls and billing.appointments.
//
// They add the statement's new rows to billing.usage_daily and subtract its old rows, per company,
// company-local day and slot (the backend's PGPROC number % 8, so concurrent writers for one
// company spread over eight rows a day). The net change of each (company, day) is written with
// one UPDATE, or an upsert when the row is new, in (company, day) order, so that concurrent
// statements lock rollup rows in the same order. The calls trigger keeps the day's call profile
// (billing.usage_profile: calls and seconds per local hour, completed calls per length bucket)
// the same way, in the same pass, for the same (company, day, slot).
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/call_profile.h"
#include "pg/alert_check.h"
#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"
#include "pg/company_scope.h"
#include "pg/write_guard.h"

extern "C" {
#include "commands/trigger.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "storage/proc.h"
#include "utils/tuplestore.h"
}

namespace billing::pg {
namespace {

constexpr int kSlots = 8;

struct ProfileChange {
  std::array<int64, kHoursPerDay> calls_by_hour{};
  std::array<int64, kHoursPerDay> seconds_by_hour{};
  std::array<int64, kCallLengthBuckets> completed_by_length{};
  int64 completed_seconds = 0;
};

struct DayChange {
  int64 calls = 0;
  int64 completed_calls = 0;
  int64 seconds = 0;
  int64 appointments = 0;
  std::optional<TimestampTz> last_call_at;  // latest added; deletes never lower it
  std::optional<TimestampTz> last_appointment_at;
  std::unique_ptr<ProfileChange> profile;  // calls only, where the call profile is kept
};

using Changes = std::map<std::pair<int64, DateADT>, DayChange>;

// Most statements add to a row that exists already: a plain UPDATE does that without the
// speculative insertion and the tuple lock (and its WAL record) of INSERT ... ON CONFLICT.
KeptQuery update_day(R"SQL(
UPDATE billing.usage_daily AS u
   SET calls = u.calls OPERATOR(pg_catalog.+) $4,
       completed_calls = u.completed_calls OPERATOR(pg_catalog.+) $5,
       seconds = u.seconds OPERATOR(pg_catalog.+) $6,
       appointments = u.appointments OPERATOR(pg_catalog.+) $7,
       last_call_at = GREATEST(u.last_call_at, $8),
       last_appointment_at = GREATEST(u.last_appointment_at, $9)
 WHERE u.company_id OPERATOR(pg_catalog.=) $1 AND u.day OPERATOR(pg_catalog.=) $2
   AND u.slot OPERATOR(pg_catalog.=) $3
)SQL",
                     {INT8OID, DATEOID, INT2OID, INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID,
                      TIMESTAMPTZOID},
                     KeptQuery::Access::kWrites);

KeptQuery upsert_day(R"SQL(
INSERT INTO billing.usage_daily AS u (company_id, day, slot, calls, completed_calls, seconds, appointments,
                                      last_call_at, last_appointment_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE
   SET calls = u.calls OPERATOR(pg_catalog.+) excluded.calls,
       completed_calls = u.completed_calls OPERATOR(pg_catalog.+) excluded.completed_calls,
       seconds = u.seconds OPERATOR(pg_catalog.+) excluded.seconds,
       appointments = u.appointments OPERATOR(pg_catalog.+) excluded.appointments,
       last_call_at = GREATEST(u.last_call_at, excluded.last_call_at),
       last_appointment_at = GREATEST(u.last_appointment_at, excluded.last_appointment_at)
)SQL",
                     {INT8OID, DATEOID, INT2OID, INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID,
                      TIMESTAMPTZOID},
                     KeptQuery::Access::kWrites);

KeptQuery update_profile(R"SQL(
UPDATE billing.usage_profile AS u
   SET calls_by_hour = billing.add_arrays(u.calls_by_hour, $4),
       seconds_by_hour = billing.add_arrays(u.seconds_by_hour, $5),
       completed_by_length = billing.add_arrays(u.completed_by_length, $6),
       completed_seconds = u.completed_seconds OPERATOR(pg_catalog.+) $7
 WHERE u.company_id OPERATOR(pg_catalog.=) $1 AND u.day OPERATOR(pg_catalog.=) $2
   AND u.slot OPERATOR(pg_catalog.=) $3
)SQL",
                         {INT8OID, DATEOID, INT2OID, INT4ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8OID},
                         KeptQuery::Access::kWrites);

KeptQuery upsert_profile(R"SQL(
INSERT INTO billing.usage_profile AS u (company_id, day, slot, calls_by_hour, seconds_by_hour, completed_by_length,
                                        completed_seconds)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT ON CONSTRAINT usage_profile_pkey DO UPDATE
   SET calls_by_hour = billing.add_arrays(u.calls_by_hour, excluded.calls_by_hour),
       seconds_by_hour = billing.add_arrays(u.seconds_by_hour, excluded.seconds_by_hour),
       completed_by_length = billing.add_arrays(u.completed_by_length, excluded.completed_by_length),
       completed_seconds = u.completed_seconds OPERATOR(pg_catalog.+) excluded.completed_seconds
)SQL",
                         {INT8OID, DATEOID, INT2OID, INT4ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8OID},
                         KeptQuery::Access::kWrites);

// A statement that changes many (company, day) rows at once (a COPY or a batch over many
// companies) writes them in one upsert each for the rollup and the profile, from arrays, in
// (company, day) order: one statement instead of one or two per row. The profile's counts come
// flat (kHoursPerDay or kCallLengthBuckets per row), each row's slice cut by its position.
constexpr size_t kRowsForOneStatement = 16;

KeptQuery upsert_days(R"SQL(
INSERT INTO billing.usage_daily AS u (company_id, day, slot, calls, completed_calls, seconds, appointments,
                                      last_call_at, last_appointment_at)
SELECT c.company_id, c.day, $1, c.calls, c.completed_calls, c.seconds, c.appointments, c.last_call_at,
       c.last_appointment_at
  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.int8[]), pg_catalog.unnest($3::pg_catalog.date[]),
                  pg_catalog.unnest($4::pg_catalog.int8[]), pg_catalog.unnest($5::pg_catalog.int8[]),
                  pg_catalog.unnest($6::pg_catalog.int8[]), pg_catalog.unnest($7::pg_catalog.int8[]),
                  pg_catalog.unnest($8::pg_catalog.timestamptz[]), pg_catalog.unnest($9::pg_catalog.timestamptz[]))
       WITH ORDINALITY AS c(company_id, day, calls, completed_calls, seconds, appointments, last_call_at,
                            last_appointment_at, position)
 ORDER BY c.position
ON CONFLICT ON CONSTRAINT usage_daily_pkey DO UPDATE
   SET calls = u.calls OPERATOR(pg_catalog.+) excluded.calls,
       completed_calls = u.completed_calls OPERATOR(pg_catalog.+) excluded.completed_calls,
       seconds = u.seconds OPERATOR(pg_catalog.+) excluded.seconds,
       appointments = u.appointments OPERATOR(pg_catalog.+) excluded.appointments,
       last_call_at = GREATEST(u.last_call_at, excluded.last_call_at),
       last_appointment_at = GREATEST(u.last_appointment_at, excluded.last_appointment_at)
)SQL",
                      {INT2OID, INT8ARRAYOID, DATEARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
                       TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID},
                      KeptQuery::Access::kWrites);

KeptQuery upsert_profiles(R"SQL(
INSERT INTO billing.usage_profile AS u (company_id, day, slot, calls_by_hour, seconds_by_hour, completed_by_length,
                                        completed_seconds)
SELECT c.company_id, c.day, $1, $4[(c.position - 1) * 24 + 1 : c.position * 24],
       $5[(c.position - 1) * 24 + 1 : c.position * 24],
       $6[(c.position - 1) * $8 + 1 : c.position * $8], c.completed_seconds
  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.int8[]), pg_catalog.unnest($3::pg_catalog.date[]),
                  pg_catalog.unnest($7::pg_catalog.int8[]))
       WITH ORDINALITY AS c(company_id, day, completed_seconds, position)
 ORDER BY c.position
ON CONFLICT ON CONSTRAINT usage_profile_pkey DO UPDATE
   SET calls_by_hour = billing.add_arrays(u.calls_by_hour, excluded.calls_by_hour),
       seconds_by_hour = billing.add_arrays(u.seconds_by_hour, excluded.seconds_by_hour),
       completed_by_length = billing.add_arrays(u.completed_by_length, excluded.completed_by_length),
       completed_seconds = u.completed_seconds OPERATOR(pg_catalog.+) excluded.completed_seconds
)SQL",
                          {INT2OID, INT8ARRAYOID, DATEARRAYOID, INT4ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID,
                           INT4OID},
                          KeptQuery::Access::kWrites);

// A one-dimensional array of `type` (int8, int4, date or timestamptz) from `values`, NULL where
// `nulls` says so (nullptr: none).
Datum array_datum(const std::vector<Datum>& values, const std::vector<bool>* nulls, Oid type) {
  return call([&] {
    int16 length = 0;
    bool by_value = false;
    char alignment = 0;
    get_typlenbyvalalign(type, &length, &by_value, &alignment);
    bool* null_flags = nullptr;
    if (nulls != nullptr) {
      null_flags = static_cast<bool*>(palloc(sizeof(bool) * (values.empty() ? 1 : values.size())));
      for (size_t i = 0; i < values.size(); ++i) null_flags[i] = (*nulls)[i];
    }
    int dimensions[1] = {static_cast<int>(values.size())};
    int lower_bounds[1] = {1};
    return PointerGetDatum(construct_md_array(const_cast<Datum*>(values.data()), null_flags, 1, dimensions, lower_bounds,
                                              type, length, by_value, alignment));
  });
}

// The sums as bigint[] (seconds) or integer[] (counts: a statement's change of one day's counts
// fits in an integer, as the day's counts do).
template <size_t N>
Datum counts_datum(const std::array<int64, N>& counts, bool as_integers) {
  if (as_integers)
    for (const int64 count : counts)
      if (count < PG_INT32_MIN || count > PG_INT32_MAX)
        throw BillingError(sqlstate::kNumericValueOutOfRange, "a count of the call profile is out of range for integer");
  return call([&] {
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * N));
    for (size_t i = 0; i < N; ++i)
      elements[i] = as_integers ? Int32GetDatum(static_cast<int32>(counts[i])) : Int64GetDatum(counts[i]);
    return PointerGetDatum(as_integers ? construct_array(elements, static_cast<int>(N), INT4OID, sizeof(int32), true, TYPALIGN_INT)
                                       : construct_array(elements, static_cast<int>(N), INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
  });
}

// The time zone of each company, looked up once per statement. Companies that do not exist
// (impossible under the foreign keys) contribute nothing, as in the join of version 1.1.
class Zones {
 public:
  const std::optional<std::string>& of(int64 company) {
    auto found = zones_.find(company);
    if (found == zones_.end()) found = zones_.emplace(company, company_timezone(company)).first;
    return found->second;
  }

 private:
  std::map<int64, std::optional<std::string>> zones_;
};

enum class Table { kCalls, kAppointments };

// Adds (sign +1) or subtracts (-1) every row of a transition table, and the calls' profile
// where `keeps_profile`.
void collect(Tuplestorestate* rows, Relation relation, Table table, int sign, Zones* zones, Changes* changes,
             bool keeps_profile) {
  const TupleDesc descriptor = RelationGetDescr(relation);
  const auto column = [&](const char* name) { return column_number(descriptor, name); };
  const AttrNumber company_column = column("company_id");
  const AttrNumber at_column = column(table == Table::kCalls ? "started_at" : "booked_at");
  const AttrNumber status_column = column("status");
  const AttrNumber duration_column = table == Table::kCalls ? column("duration_sec") : 0;

  TupleTableSlot* slot = call([&] {
    TupleTableSlot* made = MakeSingleTupleTableSlot(descriptor, &TTSOpsMinimalTuple);
    // A read pointer of our own: other triggers of the statement read the same tuplestore.
    tuplestore_select_read_pointer(rows, tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND));
    tuplestore_rescan(rows);
    return made;
  });
  for (;;) {
    const bool more = call([&] {
      if (!tuplestore_gettupleslot(rows, true, false, slot)) return false;
      slot_getallattrs(slot);
      return true;
    });
    if (!more) break;
    const int64 company = DatumGetInt64(slot->tts_values[company_column - 1]);
    const TimestampTz at = DatumGetTimestampTz(slot->tts_values[at_column - 1]);
    const std::optional<std::string>& zone = zones->of(company);
    if (!zone) continue;
    const Datum status_value = slot->tts_values[status_column - 1];
    const std::string status = call([&] { return TextDatumGetCString(status_value); });
    const LocalHour local = local_hour(at, *zone);
    DayChange& change = (*changes)[{company, local.date}];
    if (table == Table::kCalls) {
      const int64 seconds = DatumGetInt32(slot->tts_values[duration_column - 1]);
      const bool completed = status == "completed";
      change.calls += sign;
      if (completed) change.completed_calls += sign;
      change.seconds += sign * seconds;
      if (sign > 0 && (!change.last_call_at || at > *change.last_call_at)) change.last_call_at = at;
      if (!keeps_profile) continue;
      if (!change.profile) change.profile = std::make_unique<ProfileChange>();
      ProfileChange& profile = *change.profile;
      profile.calls_by_hour[local.hour] += sign;
      profile.seconds_by_hour[local.hour] += sign * seconds;
      if (completed) {
        // The table's CHECK keeps every duration in the buckets' range.
        const std::optional<int> bucket = call_length_bucket(seconds);
        if (!bucket) throw BillingError(sqlstate::kInternalError, "company_billing: a call length outside every bucket");
        profile.completed_by_length[*bucket] += sign;
        profile.completed_seconds += sign * seconds;
      }
    } else {
      if (status != "cancelled") change.appointments += sign;
      if (sign > 0 && (!change.last_appointment_at || at > *change.last_appointment_at))
        change.last_appointment_at = at;
    }
  }
  call([&] { ExecDropSingleTupleTableSlot(slot); });
}

// Every changed (company, day) in one upsert of the rollup and one of the profile.
template <typename Changed, typename ProfileChanged>
void write_all(const Changes& changes, int16 slot, const Changed& changed, const ProfileChanged& profile_changed) {
  std::vector<Datum> companies, days, calls, completed, seconds, appointments, last_calls, last_appointments;
  std::vector<bool> no_last_call, no_last_appointment;
  std::vector<Datum> profile_companies, profile_days, by_hour, seconds_by_hour, by_length, completed_seconds;
  for (const auto& [key, change] : changes) {
    if (!changed(change)) continue;
    companies.push_back(Int64GetDatum(key.first));
    days.push_back(DateADTGetDatum(key.second));
    calls.push_back(Int64GetDatum(change.calls));
    completed.push_back(Int64GetDatum(change.completed_calls));
    seconds.push_back(Int64GetDatum(change.seconds));
    appointments.push_back(Int64GetDatum(change.appointments));
    last_calls.push_back(TimestampTzGetDatum(change.last_call_at.value_or(0)));
    no_last_call.push_back(!change.last_call_at);
    last_appointments.push_back(TimestampTzGetDatum(change.last_appointment_at.value_or(0)));
    no_last_appointment.push_back(!change.last_appointment_at);
    if (!change.profile || !profile_changed(*change.profile)) continue;
    const ProfileChange& shape = *change.profile;
    profile_companies.push_back(Int64GetDatum(key.first));
    profile_days.push_back(DateADTGetDatum(key.second));
    for (const int64 count : shape.calls_by_hour) {
      if (count < PG_INT32_MIN || count > PG_INT32_MAX)
        throw BillingError(sqlstate::kNumericValueOutOfRange, "a count of the call profile is out of range for integer");
      by_hour.push_back(Int32GetDatum(static_cast<int32>(count)));
    }
    for (const int64 sum : shape.seconds_by_hour) seconds_by_hour.push_back(Int64GetDatum(sum));
    for (const int64 count : shape.completed_by_length) {
      if (count < PG_INT32_MIN || count > PG_INT32_MAX)
        throw BillingError(sqlstate::kNumericValueOutOfRange, "a count of the call profile is out of range for integer");
      by_length.push_back(Int32GetDatum(static_cast<int32>(count)));
    }
    completed_seconds.push_back(Int64GetDatum(shape.completed_seconds));
  }
  if (!companies.empty()) {
    const Datum values[9] = {Int16GetDatum(slot), array_datum(companies, nullptr, INT8OID), array_datum(days, nullptr, DATEOID),
                             array_datum(calls, nullptr, INT8OID), array_datum(completed, nullptr, INT8OID),
                             array_datum(seconds, nullptr, INT8OID), array_datum(appointments, nullptr, INT8OID),
                             array_datum(last_calls, &no_last_call, TIMESTAMPTZOID),
                             array_datum(last_appointments, &no_last_appointment, TIMESTAMPTZOID)};
    upsert_days.run(values);
  }
  if (!profile_companies.empty()) {
    const Datum values[8] = {Int16GetDatum(slot), array_datum(profile_companies, nullptr, INT8OID),
                             array_datum(profile_days, nullptr, DATEOID), array_datum(by_hour, nullptr, INT4OID),
                             array_datum(seconds_by_hour, nullptr, INT8OID), array_datum(by_length, nullptr, INT4OID),
                             array_datum(completed_seconds, nullptr, INT8OID),
                             Int32GetDatum(static_cast<int32>(kCallLengthBuckets))};
    upsert_profiles.run(values);
  }
}

Datum roll_up(FunctionCallInfo fcinfo, Table table) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw BillingError("39P01", "company_billing: the rollup function must be called as a trigger");
  const TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
    throw BillingError("39P01", "company_billing: the rollup trigger must fire AFTER ... FOR EACH STATEMENT");
  // archive_calls() moves closed periods' raw rows out: their usage stays in the rollup (and is
  // recorded in billing.archived_usage_daily), so the rows it deletes are not subtracted.
  if (TRIGGER_FIRED_BY_DELETE(trigger->tg_event) && api_is_running("archive_calls")) return PointerGetDatum(nullptr);

  spi_connect();
  Zones zones;
  Changes changes;
  const bool keeps_profile = table == Table::kCalls && billing_table_exists("usage_profile");
  if (trigger->tg_newtable != nullptr)
    collect(trigger->tg_newtable, trigger->tg_relation, table, +1, &zones, &changes, keeps_profile);
  if (trigger->tg_oldtable != nullptr)
    collect(trigger->tg_oldtable, trigger->tg_relation, table, -1, &zones, &changes, keeps_profile);
  const int16 slot = static_cast<int16>(MyProc->pgprocno % kSlots);
  const bool watches_alerts = billing_table_exists("alert_settings");
  const auto changed = [](const DayChange& change) {
    return change.calls != 0 || change.completed_calls != 0 || change.seconds != 0 || change.appointments != 0 ||
           change.last_call_at || change.last_appointment_at;
  };
  const auto profile_changed = [](const ProfileChange& shape) {
    const auto zero = [](const auto& counts) {
      for (const int64 count : counts)
        if (count != 0) return false;
      return true;
    };
    return !(zero(shape.calls_by_hour) && zero(shape.seconds_by_hour) && zero(shape.completed_by_length) &&
             shape.completed_seconds == 0);
  };
  for (const auto& [key, change] : changes)
    if (watches_alerts && changed(change) && (change.seconds != 0 || change.appointments != 0))
      note_usage_change(key.first, key.second, change.seconds, change.appointments);
  if (changes.size() >= kRowsForOneStatement) {
    write_all(changes, slot, changed, profile_changed);
  } else {
    for (const auto& [key, change] : changes) {
      if (!changed(change)) continue;
      const Datum values[9] = {Int64GetDatum(key.first), DateADTGetDatum(key.second), Int16GetDatum(slot),
                               Int64GetDatum(change.calls), Int64GetDatum(change.completed_calls),
                               Int64GetDatum(change.seconds), Int64GetDatum(change.appointments),
                               TimestampTzGetDatum(change.last_call_at.value_or(0)),
                               TimestampTzGetDatum(change.last_appointment_at.value_or(0))};
      const char nulls[10] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', change.last_call_at ? ' ' : 'n',
                              change.last_appointment_at ? ' ' : 'n', '\0'};
      if (update_day.run(values, nulls) == 0) upsert_day.run(values, nulls);
      if (!change.profile || !profile_changed(*change.profile)) continue;
      const ProfileChange& shape = *change.profile;
      const Datum profile_values[7] = {values[0], values[1], values[2], counts_datum(shape.calls_by_hour, true),
                                       counts_datum(shape.seconds_by_hour, false),
                                       counts_datum(shape.completed_by_length, true), Int64GetDatum(shape.completed_seconds)};
      if (update_profile.run(profile_values) == 0) upsert_profile.run(profile_values);
    }
  }
  spi_finish();
  return PointerGetDatum(nullptr);
}

Datum roll_up_calls(FunctionCallInfo fcinfo) { return roll_up(fcinfo, Table::kCalls); }
Datum roll_up_appointments(FunctionCallInfo fcinfo) { return roll_up(fcinfo, Table::kAppointments); }

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_roll_up_calls, billing::pg::roll_up_calls)
BILLING_SQL_FUNCTION(billing_roll_up_appointments, billing::pg::roll_up_appointments)
