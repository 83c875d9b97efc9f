// billing._transaction_company_setting() -> text: the billing.company_id of this transaction.
// billing._runtime_status() -> (preloaded, audit_writer_pid, audit_queued, audit_flushed,
//                               audit_dropped, rate_limit_keys)   (the C symbol of versions before 1.4)
// billing.runtime_status() -> (preloaded, audit, audit_database, audit_writer_pid, audit_queued,
//                              audit_written, audit_dropped, rate_limit_keys, viewer_rate_limit_keys)
#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/audit.h"
#include "pg/session.h"
#include "pg/shared_state.h"

extern "C" {
#include "utils/guc.h"
#include "utils/guc_tables.h"
}

namespace billing::pg {

// The value of billing.company_id if it was set with SET LOCAL (or set_config(..., true)) in the
// current transaction, nothing if it is not set. A value from a session-level SET is refused: on
// a pooled connection it would carry one request's company into the next.
std::optional<std::string> transaction_company_setting_value() {
  const char* value = call([] { return GetConfigOption("billing.company_id", true, false); });
  if (value == nullptr || value[0] == '\0') return std::nullopt;
  struct config_generic** variables = get_guc_variables();
  const int count = GetNumConfigOptions();
  const struct config_generic* setting = nullptr;
  for (int i = 0; i < count && setting == nullptr; ++i)
    if (pg_strcasecmp(variables[i]->name, "billing.company_id") == 0) setting = variables[i];
  const GucStack* stack = setting != nullptr ? setting->stack : nullptr;
  if (stack == nullptr || (stack->state != GUC_LOCAL && stack->state != GUC_SET_LOCAL))
    throw BillingError("42501", "billing.company_id must be set with SET LOCAL in the current transaction",
                       "A session-level SET could carry one request's company into the next "
                       "request on a pooled connection, so it is ignored.");
  return std::string(value);
}

namespace {

Datum transaction_company_setting(FunctionCallInfo fcinfo) {
  const std::optional<std::string> value = transaction_company_setting_value();
  if (!value) PG_RETURN_NULL();
  return text_datum(*value);
}

Datum runtime_status(FunctionCallInfo fcinfo) {
  const SharedState* shared = shared_state();
  Datum values[6] = {};
  bool nulls[6] = {};
  values[0] = BoolGetDatum(shared != nullptr);
  if (shared == nullptr) {
    for (int i = 1; i < 6; ++i) nulls[i] = true;
  } else {
    AuditQueue* queue = shared->audit;
    call([&] {
      LWLockAcquire(queue->lock, LW_SHARED);
      values[1] = Int32GetDatum(queue->worker_pid);
      nulls[1] = queue->worker_pid == 0;
      values[2] = Int64GetDatum(static_cast<int64>(queue->head - queue->tail));
      values[3] = Int64GetDatum(static_cast<int64>(queue->flushed));
      values[4] = Int64GetDatum(static_cast<int64>(queue->dropped));
      LWLockRelease(queue->lock);
      LWLockAcquire(shared->limiter_lock, LW_SHARED);
      values[5] = Int64GetDatum(hash_get_num_entries(shared->limiter));
      LWLockRelease(shared->limiter_lock);
    });
  }
  return call([&] {
    TupleDesc descriptor;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("_runtime_status must return a record")));
    return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(descriptor), values, nulls));
  });
}

// What API reads do in this database; the cluster-wide counters only for administrators.
Datum runtime_status_v2(FunctionCallInfo fcinfo) {
  constexpr int kColumns = 9;
  const SharedState* shared = shared_state();
  Datum values[kColumns] = {};
  bool nulls[kColumns];
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
    AuditQueue* queue = shared->audit;
    call([&] {
      LWLockAcquire(queue->lock, LW_SHARED);
      values[3] = Int32GetDatum(queue->worker_pid);
      nulls[3] = queue->worker_pid == 0;
      values[4] = Int64GetDatum(static_cast<int64>(queue->head - queue->tail));
      values[5] = Int64GetDatum(static_cast<int64>(queue->flushed));
      values[6] = Int64GetDatum(static_cast<int64>(queue->dropped));
      LWLockRelease(queue->lock);
      LWLockAcquire(shared->limiter_lock, LW_SHARED);
      values[7] = Int64GetDatum(hash_get_num_entries(shared->limiter));
      values[8] = Int64GetDatum(hash_get_num_entries(shared->viewer_limiter));
      LWLockRelease(shared->limiter_lock);
    });
    for (int i = 4; i < kColumns; ++i) nulls[i] = false;
  }
  return call([&] {
    TupleDesc descriptor;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
      ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("runtime_status must return a record")));
    return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(descriptor), values, nulls));
  });
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_runtime_status_v2, billing::pg::runtime_status_v2)
BILLING_SQL_FUNCTION(billing_transaction_company_setting, billing::pg::transaction_company_setting)
BILLING_SQL_FUNCTION(billing_runtime_status, billing::pg::runtime_status)
