// Conversions between SQL values and the core's C++ values. Each goes through call(), so a
// PostgreSQL error (out of memory, a corrupt datum) arrives as a C++ exception.
#pragma once

#include <string>
#include <string_view>

#include "core/decimal.h"
#include "pg/pg_includes.h"

namespace billing::pg {

std::string text_arg(FunctionCallInfo fcinfo, int argno);
std::string jsonb_arg(FunctionCallInfo fcinfo, int argno);     // the jsonb's text
Rational numeric_arg(FunctionCallInfo fcinfo, int argno, std::string_view name);
std::string date_iso(DateADT date, std::string_view name);  // 22008 when infinite

// The company-local date of an instant (its instants: pg/local_day.h).
DateADT local_date(TimestampTz at, const std::string& zone);
// Its local date and hour of the day (0 to 23), as (at AT TIME ZONE zone) reads them.
struct LocalHour {
  DateADT date;
  int hour;
};
LocalHour local_hour(TimestampTz at, const std::string& zone);

// The first 40 characters of a value quoted in an error message (as left(value, 40) in SQL).
std::string message_excerpt(const std::string& value);

Datum text_datum(std::string_view value);
Datum jsonb_datum(const std::string& json_text);  // src/pg/jsonb_builder.cpp
Datum numeric_datum(const std::string& decimal_text);
// The record a function declared with OUT parameters (or returning a row type) returns.
Datum record_datum(FunctionCallInfo fcinfo, const Datum* values, const bool* nulls);

}  // namespace billing::pg
