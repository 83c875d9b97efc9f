// jsonb from the JSON text the core writes (src/core/json_writer.cpp), without PostgreSQL's
// general JSON parser: the core's documents are objects of numbers, strings, null and nested
// objects, and building their jsonb directly costs a fraction of jsonb_in (which spends most of
// its time lexing). Anything else the builder does not expect goes to jsonb_in unchanged.
#include "pg/convert.h"
#include "pg/guard.h"

namespace billing::pg {
namespace {

// Plain C style: runs inside call(), may ereport, holds no C++ object with a destructor.
struct Reader {
  const char* at;
  const char* end;
};

void skip_space(Reader* in) {
  while (in->at < in->end && (*in->at == ' ' || *in->at == '\n' || *in->at == '\t' || *in->at == '\r')) ++in->at;
}

// A string without escapes (what the core writes for keys, dates, codes); false otherwise.
bool read_plain_string(Reader* in, JsonbValue* value) {
  if (in->at >= in->end || *in->at != '"') return false;
  const char* start = ++in->at;
  while (in->at < in->end && *in->at != '"') {
    if (*in->at == '\\' || static_cast<unsigned char>(*in->at) < 0x20) return false;
    ++in->at;
  }
  if (in->at >= in->end) return false;
  value->type = jbvString;
  value->val.string.val = pnstrdup(start, in->at - start);
  value->val.string.len = static_cast<int>(in->at - start);
  ++in->at;
  return true;
}

bool read_scalar(Reader* in, JsonbValue* value) {
  if (in->at >= in->end) return false;
  if (*in->at == '"') return read_plain_string(in, value);
  if (in->end - in->at >= 4 && strncmp(in->at, "null", 4) == 0) {
    value->type = jbvNull;
    in->at += 4;
    return true;
  }
  const char* start = in->at;
  if (*in->at == '-') ++in->at;
  while (in->at < in->end && ((*in->at >= '0' && *in->at <= '9') || *in->at == '.')) ++in->at;
  if (in->at == start || in->at - start > 64) return false;
  value->type = jbvNumeric;
  // Up to 18 digits (every figure of a usage document) become a numeric of that value and scale
  // directly, as numeric_in would make it, without its parser.
  const bool negative = *start == '-';
  int64 mantissa = 0;
  int digit_count = 0, scale = 0;
  bool seen_point = false, fits = true;
  for (const char* at = negative ? start + 1 : start; fits && at < in->at; ++at) {
    if (*at == '.') {
      fits = !seen_point;
      seen_point = true;
    } else if ((fits = ++digit_count <= 18)) {  // checked before the multiplication could overflow
      mantissa = mantissa * 10 + (*at - '0');
      if (seen_point) ++scale;
    }
  }
  if (fits && digit_count >= 1) {
    if (negative) mantissa = -mantissa;
    value->val.numeric = scale == 0 ? int64_to_numeric(mantissa) : int64_div_fast_to_numeric(mantissa, scale);
    return true;
  }
  char digits[72];
  memcpy(digits, start, in->at - start);
  digits[in->at - start] = '\0';
  value->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(digits),
                                                           ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
  return true;
}

// An object (the opening brace already read), pushed into `state`; false for anything unexpected.
bool read_object(Reader* in, JsonbParseState** state, JsonbValue** result, int depth) {
  if (depth > 16) return false;
  *result = pushJsonbValue(state, WJB_BEGIN_OBJECT, nullptr);
  skip_space(in);
  if (in->at < in->end && *in->at == '}') {
    ++in->at;
    *result = pushJsonbValue(state, WJB_END_OBJECT, nullptr);
    return true;
  }
  for (;;) {
    JsonbValue key;
    skip_space(in);
    if (!read_plain_string(in, &key)) return false;
    *result = pushJsonbValue(state, WJB_KEY, &key);
    skip_space(in);
    if (in->at >= in->end || *in->at != ':') return false;
    ++in->at;
    skip_space(in);
    if (in->at < in->end && *in->at == '{') {
      ++in->at;
      if (!read_object(in, state, result, depth + 1)) return false;
    } else {
      JsonbValue scalar;
      if (!read_scalar(in, &scalar)) return false;
      *result = pushJsonbValue(state, WJB_VALUE, &scalar);
    }
    skip_space(in);
    if (in->at < in->end && *in->at == ',') {
      ++in->at;
      continue;
    }
    if (in->at < in->end && *in->at == '}') {
      ++in->at;
      *result = pushJsonbValue(state, WJB_END_OBJECT, nullptr);
      return true;
    }
    return false;
  }
}

}  // namespace

Datum jsonb_datum(const std::string& json_text) {
  return call([&] {
    Reader in{json_text.c_str(), json_text.c_str() + json_text.size()};
    JsonbParseState* state = nullptr;
    JsonbValue* result = nullptr;
    skip_space(&in);
    if (in.at < in.end && *in.at == '{') {
      ++in.at;
      const bool built = read_object(&in, &state, &result, 0);
      skip_space(&in);
      if (built && in.at == in.end) return JsonbPGetDatum(JsonbValueToJsonb(result));
    }
    // Not one of the core's documents: the general parser (it also reports malformed input).
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(json_text.c_str()));
  });
}

}  // namespace billing::pg
