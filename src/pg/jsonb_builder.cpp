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

// A string without escapes (what the core writes for keys, dates, codes); false otherwise. The
// value points into the text, which outlives the jsonb built from it (JsonbValueToJsonb copies).
bool read_plain_string(Reader* in, JsonbValue* value) {
  if (in->at >= in->end || *in->at != '"') return false;
  const char* start = ++in->at;
  while (in->at < in->end && *in->at != '"') {
    if (*in->at == '\\' || static_cast<unsigned char>(*in->at) < 0x20) return false;
    ++in->at;
  }
  if (in->at >= in->end) return false;
  value->type = jbvString;
  value->val.string.val = const_cast<char*>(start);
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

// jsonb's key order: shorter keys first, keys of one length bytewise.
int compare_keys(const JsonbValue& a, const JsonbValue& b) {
  if (a.val.string.len != b.val.string.len) return a.val.string.len < b.val.string.len ? -1 : 1;
  return memcmp(a.val.string.val, b.val.string.val, a.val.string.len);
}

// An object (the opening brace already read) as a jbvObject whose pairs are in jsonb's key order,
// as pushJsonbValue() would leave them, but without its copies and its general sort; false for
// anything unexpected, a repeated key among them.
bool read_object(Reader* in, JsonbValue* object, int depth) {
  if (depth > 16) return false;
  int capacity = 16, count = 0;
  auto* pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * capacity));
  skip_space(in);
  if (in->at < in->end && *in->at == '}') {
    ++in->at;
  } else {
    for (;;) {
      if (count == capacity) {
        capacity *= 2;
        pairs = static_cast<JsonbPair*>(repalloc(pairs, sizeof(JsonbPair) * capacity));
      }
      JsonbPair* pair = &pairs[count];
      skip_space(in);
      if (!read_plain_string(in, &pair->key)) return false;
      skip_space(in);
      if (in->at >= in->end || *in->at != ':') return false;
      ++in->at;
      skip_space(in);
      if (in->at < in->end && *in->at == '{') {
        ++in->at;
        if (!read_object(in, &pair->value, depth + 1)) return false;
      } else if (!read_scalar(in, &pair->value)) {
        return false;
      }
      pair->order = count++;
      skip_space(in);
      if (in->at < in->end && *in->at == ',') {
        ++in->at;
        continue;
      }
      if (in->at < in->end && *in->at == '}') {
        ++in->at;
        break;
      }
      return false;
    }
  }
  // Insertion sort: a document's objects have a dozen keys at most.
  for (int i = 1; i < count; ++i) {
    const JsonbPair moving = pairs[i];
    int j = i;
    for (; j > 0; --j) {
      const int order = compare_keys(pairs[j - 1].key, moving.key);
      if (order == 0) return false;
      if (order < 0) break;
      pairs[j] = pairs[j - 1];
    }
    pairs[j] = moving;
  }
  object->type = jbvObject;
  object->val.object.nPairs = count;
  object->val.object.pairs = pairs;
  return true;
}

}  // namespace

Datum jsonb_datum(const std::string& json_text) {
  return call([&] {
    Reader in{json_text.c_str(), json_text.c_str() + json_text.size()};
    JsonbValue document;
    skip_space(&in);
    if (in.at < in.end && *in.at == '{') {
      ++in.at;
      const bool built = read_object(&in, &document, 0);
      skip_space(&in);
      if (built && in.at == in.end) return JsonbPGetDatum(JsonbValueToJsonb(&document));
    }
    // Not one of the core's documents: the general parser (it also reports malformed input).
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(json_text.c_str()));
  });
}

}  // namespace billing::pg
