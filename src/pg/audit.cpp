// Audit of API reads without writes in the reading transaction: the reading backend appends an
// entry to a shared-memory queue (so reads work in READ ONLY transactions and on a standby); the
// audit writer, a background worker, inserts queued entries into billing.audit_log in batches.
//
// billing._record_read(company bigint, function_name text, throttle_key text) -> void
//   throttles `throttle_key` (the viewer role) at billing.viewer_rate_limit, then queues the entry.
#include <cstring>

#include "core/errors.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/rate_limit.h"
#include "pg/shared_state.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void billing_audit_writer_main(Datum);
}

namespace billing::pg {
namespace {

void copy_name(char* target, size_t size, const char* source) {
  strlcpy(target, source != nullptr ? source : "", size);
}

Datum record_read(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    throw BillingError(sqlstate::kNullValueNotAllowed, "company and function_name must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const std::string function_name = text_arg(fcinfo, 1);
  if (!PG_ARGISNULL(2) && viewer_rate_limit > 0)
    enforce_rate_limit(text_arg(fcinfo, 2), viewer_rate_limit);

  const SharedState* shared = shared_state();
  if (shared == nullptr || !audit_enabled) PG_RETURN_VOID();
  AuditEntry entry = {};
  entry.at = GetCurrentTimestamp();
  entry.database = MyDatabaseId;
  entry.company = company;
  call([&] {
    copy_name(entry.session_user_name, NAMEDATALEN, GetUserNameFromId(GetSessionUserId(), false));
    copy_name(entry.current_user_name, NAMEDATALEN, GetUserNameFromId(GetUserId(), false));
  });
  copy_name(entry.function_name, kFunctionNameLength, function_name.c_str());

  AuditQueue* queue = shared->audit;
  Latch* wake = nullptr;
  call([&] {
    LWLockAcquire(queue->lock, LW_EXCLUSIVE);
    if (queue->head - queue->tail >= static_cast<uint64>(queue->capacity)) {
      ++queue->dropped;
    } else {
      queue->entries[queue->head % queue->capacity] = entry;
      ++queue->head;
      // The writer wakes every second on its own; it is woken early only when the queue is half
      // full, so that it writes big batches instead of one transaction per read.
      if (queue->head - queue->tail == static_cast<uint64>(queue->capacity / 2))
        wake = queue->worker_latch;
    }
    LWLockRelease(queue->lock);
  });
  if (wake != nullptr) SetLatch(wake);
  PG_RETURN_VOID();
}

// --- the audit writer (plain C style: a background worker's errors end the process) ---

constexpr int kBatchSize = 1000;
constexpr long kFlushIntervalMs = 1000;

void detach_writer(int, Datum) {
  const SharedState* shared = shared_state();
  LWLockAcquire(shared->audit->lock, LW_EXCLUSIVE);
  shared->audit->worker_pid = 0;
  shared->audit->worker_latch = nullptr;
  LWLockRelease(shared->audit->lock);
}

// Takes up to kBatchSize entries of this database off the queue into `batch`.
int take_batch(AuditEntry* batch) {
  AuditQueue* queue = shared_state()->audit;
  int taken = 0;
  LWLockAcquire(queue->lock, LW_EXCLUSIVE);
  while (queue->tail < queue->head && taken < kBatchSize) {
    const AuditEntry& entry = queue->entries[queue->tail % queue->capacity];
    if (entry.database == MyDatabaseId)
      batch[taken++] = entry;
    else
      ++queue->dropped;  // another database: nobody here to write it
    ++queue->tail;
  }
  LWLockRelease(queue->lock);
  return taken;
}

void write_batch(const AuditEntry* batch, int count) {
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  SPI_connect();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "company_billing: writing audit entries");
  bool ready = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'company_billing'",
                           true, 1) == SPI_OK_SELECT && SPI_processed == 1;
  if (ready && count > 0) {
    // One INSERT per batch: the arrays go in as parameters and unnest() into rows.
    Datum* at = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    Datum* company = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    Datum* session_user_name = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    Datum* current_user_name = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    Datum* function_name = static_cast<Datum*>(palloc(sizeof(Datum) * count));
    for (int i = 0; i < count; ++i) {
      at[i] = TimestampTzGetDatum(batch[i].at);
      company[i] = Int64GetDatum(batch[i].company);
      session_user_name[i] = CStringGetTextDatum(batch[i].session_user_name);
      current_user_name[i] = CStringGetTextDatum(batch[i].current_user_name);
      function_name[i] = CStringGetTextDatum(batch[i].function_name);
    }
    Oid types[5] = {TIMESTAMPTZARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
    Datum values[5] = {
        PointerGetDatum(construct_array(at, count, TIMESTAMPTZOID, sizeof(TimestampTz), true, TYPALIGN_DOUBLE)),
        PointerGetDatum(construct_array(company, count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE)),
        PointerGetDatum(construct_array(session_user_name, count, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(construct_array(current_user_name, count, TEXTOID, -1, false, TYPALIGN_INT)),
        PointerGetDatum(construct_array(function_name, count, TEXTOID, -1, false, TYPALIGN_INT))};
    SPI_execute_with_args(
        "INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, "
        "function_name) SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
        "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5))",
        5, types, values, nullptr, false, 0);
  }
  SPI_finish();
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);

  AuditQueue* queue = shared_state()->audit;
  LWLockAcquire(queue->lock, LW_EXCLUSIVE);
  if (ready)
    queue->flushed += static_cast<uint64>(count);
  else
    queue->dropped += static_cast<uint64>(count);
  LWLockRelease(queue->lock);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_record_read, billing::pg::record_read)

void billing_audit_writer_main(Datum) {
  using namespace billing::pg;
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(audit_database, nullptr, 0);
  // The writer runs as a superuser: nobody's objects in public may stand in for built-ins.
  SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

  AuditQueue* queue = shared_state()->audit;
  LWLockAcquire(queue->lock, LW_EXCLUSIVE);
  queue->worker_pid = MyProcPid;
  queue->worker_latch = MyLatch;
  LWLockRelease(queue->lock);
  before_shmem_exit(detach_writer, 0);

  AuditEntry* batch = static_cast<AuditEntry*>(
      MemoryContextAlloc(TopMemoryContext, sizeof(AuditEntry) * kBatchSize));
  for (;;) {
    int taken;
    while ((taken = take_batch(batch)) > 0) write_batch(batch, taken);
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kFlushIntervalMs,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
}
