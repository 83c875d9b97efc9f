// Which API function is running in this backend, for the tables that only one API function may
// write (src/pg/write_guard.cpp): invoices and their lines (close_period), invoice changes
// (mark_invoice), closing a period (close_period).
#pragma once

#include "pg/pg_includes.h"

namespace billing::pg {

// Marks `name` as the innermost running API function for the object's lifetime (src/pg/api_call.cpp).
class RunningApi {
 public:
  explicit RunningApi(const char* name);
  ~RunningApi();
  RunningApi(const RunningApi&) = delete;
  RunningApi& operator=(const RunningApi&) = delete;
};

// True when `name` is the innermost running API function.
bool api_is_running(const char* name);

// Forgets every running API function at the end of a transaction (registered in _PG_init).
void register_running_api_reset();

}  // namespace billing::pg
