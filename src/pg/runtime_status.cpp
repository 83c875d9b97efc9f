// billing._runtime_status() -> (preloaded, audit_writer_pid, audit_queued, audit_flushed,
//                               audit_dropped, rate_limit_keys)   (the C symbol of versions before 1.4)
// billing.runtime_status() -> (preloaded, audit, audit_database, audit_writer_pid, audit_queued,
//                              audit_written, audit_dropped, rate_limit_keys, viewer_rate_limit_keys
//                              [, token_failures from 1.6 on])
// The audit queue's and the rate limiter's counters (src/pg/shared_state.h).
#include "core/errors.h"
#include "pg/audit.h"
#include "pg/company_scope.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/shared_state.h"

namespace billing::pg {
namespace {

// The audit queue's and the limiter's counters, read under their locks.
struct RuntimeCounters {
  int worker_pid;  // 0: no audit writer runs
  int64 queued, written, dropped, app_keys, viewer_keys, token_failures;
};

RuntimeCounters read_counters(const SharedState* shared) {
  RuntimeCounters counters{};
  AuditQueue* queue = shared->audit;
  call([&] {
    LWLockAcquire(queue->lock, LW_SHARED);
    counters.worker_pid = queue->worker_pid;
    counters.queued = static_cast<int64>(queue->head - queue->tail);
    counters.written = static_cast<int64>(queue->flushed);
    counters.dropped = static_cast<int64>(queue->dropped);
    counters.token_failures = static_cast<int64>(queue->token_failures);
    LWLockRelease(queue->lock);
    LWLockAcquire(shared->limiter_lock, LW_SHARED);
    counters.app_keys = hash_get_num_entries(shared->limiter);
    counters.viewer_keys = hash_get_num_entries(shared->viewer_limiter);
    LWLockRelease(shared->limiter_lock);
  });
  return counters;
}

// The 1.0 to 1.3 form: (preloaded, audit_writer_pid, audit_queued, audit_flushed, audit_dropped,
// rate_limit_keys), for everyone.
Datum runtime_status(FunctionCallInfo fcinfo) {
  const SharedState* shared = shared_state();
  Datum values[6] = {};
  bool nulls[6] = {true, true, true, true, true, true};
  values[0] = BoolGetDatum(shared != nullptr);
  nulls[0] = false;
  if (shared != nullptr) {
    const RuntimeCounters counters = read_counters(shared);
    values[1] = Int32GetDatum(counters.worker_pid);
    nulls[1] = counters.worker_pid == 0;
    values[2] = Int64GetDatum(counters.queued);
    values[3] = Int64GetDatum(counters.written);
    values[4] = Int64GetDatum(counters.dropped);
    values[5] = Int64GetDatum(counters.app_keys);
    nulls[2] = nulls[3] = nulls[4] = nulls[5] = false;
  }
  return record_datum(fcinfo, values, nulls);
}

// The number of columns the calling SQL declaration returns: 9 in 1.4 and 1.5, 10 (with
// token_failures) from 1.6 on. One C symbol serves both.
int declared_columns(FunctionCallInfo fcinfo) {
  return call([&] {
    TupleDesc descriptor = nullptr;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("function must return a record")));
    return descriptor->natts;
  });
}

// What API reads do in this database; the cluster-wide counters only for administrators.
Datum runtime_status_v2(FunctionCallInfo fcinfo) {
  constexpr int kMaxColumns = 10;
  const int columns = declared_columns(fcinfo);
  if (columns != 9 && columns != kMaxColumns)
    throw BillingError(sqlstate::kInternalError, "company_billing: runtime_status() declared with an unknown shape");
  const SharedState* shared = shared_state();
  Datum values[kMaxColumns] = {};
  bool nulls[kMaxColumns];
  for (bool& is_null : nulls) is_null = true;
  values[0] = BoolGetDatum(shared != nullptr);
  nulls[0] = false;
  values[1] = text_datum(audit_mode_name(audit_mode()));
  nulls[1] = false;
  if (shared != nullptr && audit_database != nullptr) {
    values[2] = text_datum(audit_database);
    nulls[2] = false;
  }
  if (shared != nullptr && is_admin()) {
    const RuntimeCounters counters = read_counters(shared);
    values[3] = Int32GetDatum(counters.worker_pid);
    nulls[3] = counters.worker_pid == 0;
    const int64 rest[] = {counters.queued,   counters.written,     counters.dropped,
                          counters.app_keys, counters.viewer_keys, counters.token_failures};
    for (int i = 4; i < columns; ++i) {
      values[i] = Int64GetDatum(rest[i - 4]);
      nulls[i] = false;
    }
  }
  return record_datum(fcinfo, values, nulls);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_runtime_status_v2, billing::pg::runtime_status_v2)
BILLING_SQL_FUNCTION(billing_runtime_status, billing::pg::runtime_status)
