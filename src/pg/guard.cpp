#include "pg/guard.h"

#include <cstring>
#include <new>

#include "core/errors.h"

namespace billing::pg {
namespace {

// Fixed buffers: nothing in guard()'s frame may need a destructor when ereport longjmps out.
constexpr size_t kTextLimit = 1024;

void copy_text(char (&target)[kTextLimit], const char* source) {
  std::strncpy(target, source, kTextLimit - 1);
  target[kTextLimit - 1] = '\0';
}

int to_sqlerrcode(const char* sqlstate) {
  if (sqlstate == nullptr || std::strlen(sqlstate) != 5) return ERRCODE_INTERNAL_ERROR;
  return MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
}

}  // namespace

Datum guard(FunctionCallInfo fcinfo, Implementation body) noexcept {
  ErrorData* postgres_error = nullptr;
  int sqlerrcode = ERRCODE_INTERNAL_ERROR;
  char message[kTextLimit] = "";
  char detail[kTextLimit] = "";
  char hint[kTextLimit] = "";
  try {
    return body(fcinfo);
  } catch (const PgError& e) {
    postgres_error = e.data();
  } catch (const BillingError& e) {
    sqlerrcode = to_sqlerrcode(e.sqlstate());
    copy_text(message, e.what());
    copy_text(detail, e.detail().c_str());
    copy_text(hint, e.hint().c_str());
  } catch (const std::bad_alloc&) {
    sqlerrcode = ERRCODE_OUT_OF_MEMORY;
    copy_text(message, "out of memory in company_billing");
  } catch (const std::exception& e) {
    copy_text(message, e.what());
  } catch (...) {
    copy_text(message, "unexpected C++ exception in company_billing");
  }
  // Out of every catch block: the exception objects are gone, only plain data is left.
  if (postgres_error != nullptr) ReThrowError(postgres_error);
  ereport(ERROR, (errcode(sqlerrcode), errmsg("%s", message),
                  detail[0] != '\0' ? errdetail("%s", detail) : 0,
                  hint[0] != '\0' ? errhint("%s", hint) : 0));
  pg_unreachable();
}

}  // namespace billing::pg
