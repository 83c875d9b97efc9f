#include "pg/kept_query.h"

#include "core/errors.h"
#include "pg/guard.h"

namespace billing::pg {

KeptQuery::KeptQuery(const char* sql, std::initializer_list<Oid> argument_types, Access access)
    : sql_(sql), read_only_(access == Access::kReadOnly), argument_count_(static_cast<int>(argument_types.size())), argument_types_{} {
  int i = 0;
  for (Oid type : argument_types)
    if (i < kMaxArguments) argument_types_[i++] = type;
  // Checked when run: a constructor of a static object must not throw.
  if (static_cast<int>(argument_types.size()) > kMaxArguments) argument_count_ = -1;
}

uint64 KeptQuery::run(const Datum* values, const char* nulls) {
  if (argument_count_ < 0) throw BillingError(sqlstate::kInternalError, "company_billing: too many query arguments");
  if (plan_ == nullptr) {
    plan_ = call([&] {
      // Generic plan from the first call: these are point lookups whose plans do not depend on
      // the values, and a custom plan would be planned again on every call.
      SPIPlanPtr prepared = SPI_prepare_cursor(sql_, argument_count_, argument_types_, CURSOR_OPT_GENERIC_PLAN);
      if (prepared == nullptr)
        elog(ERROR, "company_billing: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
      if (SPI_keepplan(prepared) != 0) elog(ERROR, "company_billing: SPI_keepplan failed");
      return prepared;
    });
  }
  const int status = call([&] {
    return SPI_execute_plan(plan_, const_cast<Datum*>(values), nulls, read_only_, 0);
  });
  if (status < 0)
    throw BillingError(sqlstate::kInternalError, std::string("company_billing: query failed: ") +
                                                     SPI_result_code_string(status));
  return SPI_processed;
}

Datum result_datum(uint64 row, int column, bool* is_null) {
  return call([&] { return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, is_null); });
}

std::optional<int64> result_int64(uint64 row, int column) {
  bool is_null = false;
  const Datum value = result_datum(row, column, &is_null);
  if (is_null) return std::nullopt;
  return DatumGetInt64(value);
}

std::optional<std::string> result_text(uint64 row, int column) {
  bool is_null = false;
  const Datum value = result_datum(row, column, &is_null);
  if (is_null) return std::nullopt;
  return std::string(call([&] { return TextDatumGetCString(value); }));
}

std::optional<std::string> result_numeric_text(uint64 row, int column) {
  bool is_null = false;
  const Datum value = result_datum(row, column, &is_null);
  if (is_null) return std::nullopt;
  return std::string(call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, value)); }));
}

void spi_connect() {
  call([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "company_billing: SPI_connect failed");
  });
}

void spi_finish() {
  call([] {
    if (SPI_finish() != SPI_OK_FINISH) elog(ERROR, "company_billing: SPI_finish failed");
  });
}

}  // namespace billing::pg
