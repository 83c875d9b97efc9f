// billing.csv_record(VARIADIC fields text[]) -> text: one RFC 4180 record, formulas neutralized.
#include <optional>
#include <vector>

#include "core/csv.h"
#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"

extern "C" {
#include "utils/array.h"
}

namespace billing::pg {
namespace {

Datum csv_record_sql(FunctionCallInfo fcinfo) {
  Datum* elements = nullptr;
  bool* element_nulls = nullptr;
  int count = 0;
  call([&] {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
    if (ARR_NDIM(array) > 1)
      ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                      errmsg("csv_record takes a one-dimensional array of fields")));
    deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
  });
  std::vector<std::optional<std::string>> fields;
  fields.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (element_nulls[i]) {
      fields.emplace_back(std::nullopt);
      continue;
    }
    char* value = call([&] { return text_to_cstring(DatumGetTextPP(elements[i])); });
    fields.emplace_back(std::string(value));
  }
  return text_datum(csv_record(fields));
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_csv_record, billing::pg::csv_record_sql)
