// billing.local_day_start(day date, zone text) -> timestamptz
// billing.local_day_end(day date, zone text) -> timestamptz
// billing.is_valid_timezone(name text) -> boolean
// The clock of a zone around a day, read from PostgreSQL's own time zone rules (the same ones
// `AT TIME ZONE` applies to an instant), then core/local_day.cpp.
#include "pg/local_day.h"

#include <vector>

#include "core/errors.h"
#include "core/local_day.h"
#include "pg/convert.h"
#include "pg/guard.h"

extern "C" {
#include "parser/scansup.h"
#include "pgtime.h"
}

namespace billing::pg {
namespace {

constexpr int64 kSecondsPerDay = 86400;
constexpr int64 kUnixToPostgresSeconds = int64{POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE} * kSecondsPerDay;

TimestampTz timestamptz_of(int64 unix_seconds) {
  return (unix_seconds - kUnixToPostgresSeconds) * USECS_PER_SEC;
}

// The rules `AT TIME ZONE zone` uses, or nullptr when it uses a fixed offset: as timestamp_zone()
// does, an abbreviation ('CET', 'EST') takes precedence over a zone of the same name.
const pg_tz* zone_rules(const std::string& zone) {
  return call([&]() -> const pg_tz* {
    char* lower = downcase_truncate_identifier(zone.c_str(), static_cast<int>(zone.size()), false);
    int offset = 0;
    pg_tz* abbreviation_zone = nullptr;
    const int type = DecodeTimezoneAbbrev(0, lower, &offset, &abbreviation_zone);
    if (type == TZ || type == DTZ || type == DYNTZ) return nullptr;
    return pg_tzset(zone.c_str());
  });
}

}  // namespace

DayInstants local_day_instants(DateADT day, const std::string& zone) {
  if (DATE_NOT_FINITE(day)) throw BillingError("22008", "day must be a finite date");
  // Far from the dates the time zone rules can describe, a date has no instant to begin at.
  if (day < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE + 2 || day > TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE - 3)
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  const pg_tz* rules = zone_rules(zone);
  if (rules == nullptr) {
    // A fixed offset (or a zone PostgreSQL does not know: timestamp_zone() says which).
    const auto midnight = [&](DateADT date) {
      return call([&] {
        const Datum local = DirectFunctionCall1(date_timestamp, DateADTGetDatum(date));
        return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, CStringGetTextDatum(zone.c_str()), local));
      });
    };
    return {midnight(day), midnight(day + 1)};
  }
  const int64 local_midnight = (int64{day} * kSecondsPerDay) + kUnixToPostgresSeconds;
  const int64 window_end = local_midnight + 3 * kSecondsPerDay;
  std::vector<OffsetSegment> segments;
  pg_time_t at = local_midnight - 3 * kSecondsPerDay;  // UTC offsets stay within 26 hours
  // A zone changes its offset a few times a year; 16 boundaries in six days is a corrupt zone file.
  for (int boundaries = 0; boundaries < 16; ++boundaries) {
    long before_offset = 0, after_offset = 0;
    int before_dst = 0, after_dst = 0;
    pg_time_t boundary = 0;
    const int found = pg_next_dst_boundary(&at, &before_offset, &before_dst, &boundary, &after_offset, &after_dst, rules);
    if (segments.empty()) segments.push_back({at, before_offset});
    if (found != 1 || boundary > window_end || boundary <= at) break;
    segments.push_back({boundary, after_offset});
    at = boundary;
  }
  const LocalDayBounds bounds = local_day_bounds(segments, local_midnight);
  return {timestamptz_of(bounds.first), timestamptz_of(bounds.after_last)};
}

namespace {

DayInstants instants_of_arguments(FunctionCallInfo fcinfo) {
  return local_day_instants(PG_GETARG_DATEADT(0), text_arg(fcinfo, 1));
}

Datum local_day_start(FunctionCallInfo fcinfo) {
  return TimestampTzGetDatum(instants_of_arguments(fcinfo).first);
}

Datum local_day_end(FunctionCallInfo fcinfo) {
  return TimestampTzGetDatum(instants_of_arguments(fcinfo).after_last);
}

// An IANA zone name PostgreSQL knows, the CHECK of billing.companies.timezone: letters, then
// "/"-separated parts of letters, digits, "_", "+" and "-"; a name with a "/" is one pg_tzset()
// loads (as AT TIME ZONE does, case-insensitively); one without (UTC, CET, Japan) must be a
// zone in its own spelling, as pg_timezone_names lists it: abbreviations look the same (PST)
// and are no zones. pg_tzset() keeps what it loaded, so a
// COPY of 20,000 companies does not read the zone directory 20,000 times.
Datum is_valid_timezone(FunctionCallInfo fcinfo) {
  const std::string name = text_arg(fcinfo, 0);
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  const auto part_character = [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'; };
  size_t at = 0;
  while (at < name.size() && letter(name[at])) ++at;
  if (at == 0) PG_RETURN_BOOL(false);
  const bool has_slash = at < name.size();
  while (at < name.size()) {
    if (name[at] != '/') PG_RETURN_BOOL(false);
    const size_t part = ++at;
    while (at < name.size() && part_character(name[at])) ++at;
    if (at == part) PG_RETURN_BOOL(false);
  }
  const pg_tz* zone = call([&] { return pg_tzset(name.c_str()); });
  if (zone == nullptr) PG_RETURN_BOOL(false);
  PG_RETURN_BOOL(has_slash || name == call([&] { return pg_get_timezone_name(const_cast<pg_tz*>(zone)); }));
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_local_day_start, billing::pg::local_day_start)
BILLING_SQL_FUNCTION(billing_local_day_end, billing::pg::local_day_end)
BILLING_SQL_FUNCTION(billing_is_valid_timezone, billing::pg::is_valid_timezone)
