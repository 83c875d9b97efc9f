// billing._boundary_selftest(mode text) -> bigint: proves the exception boundary from SQL.
//
//   'cpp_exception'    a std::runtime_error thrown three C++ frames deep
//   'billing_error'    a BillingError carrying SQLSTATE 22023 and a detail
//   'bad_alloc'        std::bad_alloc
//   'postgres_error'   a PostgreSQL error (int4in of "not a number") raised through call()
//                      while C++ objects with destructors are alive above it
//   'live_objects'     returns how many of those objects are alive now: 0 after the calls
//                      above, proving that every destructor ran
//
// Only for the test suite; EXECUTE is revoked from PUBLIC.
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"

namespace billing::pg {
namespace {

int64_t live_objects = 0;

struct Tracked {
  Tracked() { ++live_objects; }
  ~Tracked() { --live_objects; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};

void nested_throw(int depth) {
  Tracked alive;
  std::string payload(100, 'x');  // a heap allocation that must be freed on unwind
  if (depth == 0) throw std::runtime_error("C++ exception from the boundary self-test");
  nested_throw(depth - 1);
}

void raise_postgres_error(int depth) {
  Tracked alive;
  std::string payload(100, 'y');
  if (depth == 0) {
    call([] { return DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
    return;
  }
  raise_postgres_error(depth - 1);
}

Datum boundary_selftest(FunctionCallInfo fcinfo) {
  const std::string mode = text_arg(fcinfo, 0);
  if (mode == "cpp_exception") nested_throw(3);
  if (mode == "billing_error")
    throw BillingError(sqlstate::kInvalidParameterValue, "billing error from the self-test",
                       "detail travels too");
  if (mode == "bad_alloc") throw std::bad_alloc();
  if (mode == "postgres_error") raise_postgres_error(3);
  if (mode == "live_objects") return Int64GetDatum(live_objects);
  throw BillingError(sqlstate::kInvalidParameterValue, "unknown self-test mode \"" + mode + "\"");
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_boundary_selftest, billing::pg::boundary_selftest)
