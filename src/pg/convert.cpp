#include "pg/convert.h"

#include "core/errors.h"
#include "pg/guard.h"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace billing::pg {

std::string text_arg(FunctionCallInfo fcinfo, int argno) {
  // (No local may be named `text`: it would shadow PostgreSQL's type in the macros.)
  char* value = call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(argno)); });
  return std::string(value);
}

std::string jsonb_arg(FunctionCallInfo fcinfo, int argno) {
  char* value = call([&] {
    Jsonb* jsonb = PG_GETARG_JSONB_P(argno);
    return JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb));
  });
  return std::string(value);
}

Rational numeric_arg(FunctionCallInfo fcinfo, int argno, std::string_view name) {
  char* value = call([&] {
    return DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(argno)));
  });
  const std::string_view digits(value);
  if (digits == "NaN" || digits == "Infinity" || digits == "-Infinity")
    throw BillingError(sqlstate::kInvalidParameterValue,
                       std::string(name) + " must be a finite number");
  return parse_decimal(digits, name);
}

std::string date_iso(DateADT date, std::string_view name) {
  if (DATE_NOT_FINITE(date))
    throw BillingError("22008", std::string(name) + " must be a finite date");
  int year = 0, month = 0, day = 0;
  j2date(date + POSTGRES_EPOCH_JDATE, &year, &month, &day);  // plain arithmetic, cannot raise
  char iso[32];
  if (year > 0)
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", year, month, day);
  else
    snprintf(iso, sizeof iso, "%04d-%02d-%02d BC", 1 - year, month, day);
  return iso;
}

DateADT local_date(TimestampTz at, const std::string& zone) { return local_hour(at, zone).date; }

LocalHour local_hour(TimestampTz at, const std::string& zone) {
  return call([&] {
    const Datum local = DirectFunctionCall2(timestamptz_zone, CStringGetTextDatum(zone.c_str()),
                                            TimestampTzGetDatum(at));
    int64 time_of_day = DatumGetTimestamp(local) % USECS_PER_DAY;
    if (time_of_day < 0) time_of_day += USECS_PER_DAY;
    return LocalHour{DatumGetDateADT(DirectFunctionCall1(timestamp_date, local)),
                     static_cast<int>(time_of_day / USECS_PER_HOUR)};
  });
}

std::string message_excerpt(const std::string& value) {
  const int length = call([&] {
    return pg_mbcharcliplen(value.c_str(), static_cast<int>(value.size()), 40);
  });
  return value.substr(0, static_cast<size_t>(length));
}

Datum text_datum(std::string_view value) {
  return call([&] {
    return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size())));
  });
}

Datum numeric_datum(const std::string& decimal_text) {
  return call([&] {
    return DirectFunctionCall3(numeric_in, CStringGetDatum(decimal_text.c_str()),
                               ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
  });
}

Datum record_datum(FunctionCallInfo fcinfo, const Datum* values, const bool* nulls) {
  return call([&] {
    TupleDesc descriptor = nullptr;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("function must return a record")));
    return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(descriptor), const_cast<Datum*>(values),
                                             const_cast<bool*>(nulls)));
  });
}

}  // namespace billing::pg
