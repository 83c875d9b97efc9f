// Audit of API reads without writes in the reading transaction: the reading backend appends an
// entry to a shared-memory queue (so reads work in READ ONLY transactions and on a standby); the
// audit writer, a background worker, inserts queued entries into billing.audit_log in batches.
//
// The audit writer writes one database, billing.database: an API read elsewhere would be lost, so
// it is refused there (55000) unless billing.audit is off for that database.
//
// billing._record_read(company bigint, function_name text, throttle_key text) -> void is the
// C symbol of versions before 1.4 (their SQL called it); 1.4 has no SQL function for it.
#include <cstring>

#include "core/errors.h"
#include "pg/audit.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/rate_limit.h"
#include "pg/shared_state.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/dbcommands.h"
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

// Repeated reads coalesce into one row a second: a dashboard polled by many clients would
// otherwise cost the audit writer one row per read, as much work as the reads themselves.
constexpr uint64 kCoalesceLookback = 16;  // queued entries compared with a new one

// A queued, not yet written entry for the same reader, company, function and second.
AuditEntry* find_same_read(AuditQueue* queue, const AuditEntry& entry) {
  const uint64 first = queue->head - queue->tail > kCoalesceLookback ? queue->head - kCoalesceLookback : queue->tail;
  for (uint64 i = queue->head; i > first; --i) {
    AuditEntry& queued = queue->entries[(i - 1) % queue->capacity];
    if (queued.at / USECS_PER_SEC == entry.at / USECS_PER_SEC && queued.company == entry.company &&
        queued.has_company == entry.has_company && queued.api_token == entry.api_token &&
        queued.database == entry.database && queued.reads < PG_INT32_MAX &&
        strcmp(queued.function_name, entry.function_name) == 0 &&
        strcmp(queued.current_user_name, entry.current_user_name) == 0 &&
        strcmp(queued.session_user_name, entry.session_user_name) == 0)
      return &queued;
  }
  return nullptr;
}

}  // namespace

namespace {

// The name of the connected database, read once: a database cannot be renamed while this
// backend is connected to it, and billing.database is fixed at server start.
const std::string& this_database() {
  static const std::string name = call([] { return get_database_name(MyDatabaseId); });
  return name;
}

}  // namespace

AuditMode audit_mode() {
  if (shared_state() == nullptr) return AuditMode::kUnavailable;
  if (!audit_enabled) return AuditMode::kOff;
  if (audit_database == nullptr || this_database() != audit_database) return AuditMode::kRefused;
  return AuditMode::kAudited;
}

const char* audit_mode_name(AuditMode mode) {
  switch (mode) {
    case AuditMode::kAudited: return "audited";
    case AuditMode::kRefused: return "refused";
    case AuditMode::kOff: return "off";
    case AuditMode::kUnavailable: break;
  }
  return "unavailable";
}

void limit_viewer() {
  if (viewer_rate_limit > 0) enforce_viewer_rate_limit(GetUserId(), viewer_rate_limit);
}

namespace {

// The token authenticated in the transaction of local id authenticated_in.
int64 transaction_token = 0;
LocalTransactionId authenticated_in = InvalidLocalTransactionId;

}  // namespace

void remember_authenticated_token(int64 api_token) {
  transaction_token = api_token;
  authenticated_in = MyProc->lxid;
}

void count_token_failure() {
  const SharedState* shared = shared_state();
  if (shared == nullptr) return;
  call([&] {
    LWLockAcquire(shared->audit->lock, LW_EXCLUSIVE);
    ++shared->audit->token_failures;
    LWLockRelease(shared->audit->lock);
  });
}

int64 authenticated_token() {
  return authenticated_in == MyProc->lxid && authenticated_in != InvalidLocalTransactionId ? transaction_token : 0;
}

void queue_audit(int64 company, const std::string& function_name) {
  queue_audit(std::optional<int64>(company), function_name, authenticated_token());
}

void queue_audit(std::optional<int64> company, const std::string& function_name, int64 api_token) {
  const AuditMode mode = audit_mode();
  if (mode == AuditMode::kRefused) {
    // "usage_current (refused)" and "authenticate_token (failed)" are refused as their function.
    throw BillingError("55000",
                       "billing." + function_name.substr(0, function_name.find(' ')) + " is refused in database \"" + this_database() +
                           "\": its reads could not be audited",
                       std::string("The audit writer writes billing.audit_log of database \"") +
                           (audit_database ? audit_database : "") + "\" only (billing.database).",
                       "Point billing.database at this database, or allow unaudited reads here with "
                       "ALTER DATABASE ... SET billing.audit = off.");
  }
  if (mode != AuditMode::kAudited) return;
  const SharedState* shared = shared_state();
  AuditEntry entry = {};
  entry.at = GetCurrentTimestamp();
  entry.reads = 1;
  entry.database = MyDatabaseId;
  entry.has_company = company.has_value();
  entry.company = company.value_or(0);
  entry.api_token = api_token;
  call([&] {
    copy_name(entry.session_user_name, NAMEDATALEN, GetUserNameFromId(GetSessionUserId(), false));
    copy_name(entry.current_user_name, NAMEDATALEN, GetUserNameFromId(GetUserId(), false));
  });
  copy_name(entry.function_name, kFunctionNameLength, function_name.c_str());

  AuditQueue* queue = shared->audit;
  Latch* wake = nullptr;
  call([&] {
    LWLockAcquire(queue->lock, LW_EXCLUSIVE);
    AuditEntry* same = find_same_read(queue, entry);
    if (same != nullptr) {
      ++same->reads;
    } else if (queue->head - queue->tail >= static_cast<uint64>(queue->capacity)) {
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
}

namespace {

Datum record_read(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
    throw BillingError(sqlstate::kNullValueNotAllowed, "company and function_name must not be NULL");
  // Before 1.4 a throttle key was passed for viewers only.
  if (!PG_ARGISNULL(2)) limit_viewer();
  queue_audit(PG_GETARG_INT64(0), text_arg(fcinfo, 1));
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
      queue->dropped += static_cast<uint64>(entry.reads);  // another database: nobody here to write it
    ++queue->tail;
  }
  LWLockRelease(queue->lock);
  return taken;
}

// The batch's columns as the arrays the INSERT unnests.
struct BatchArrays {
  Datum values[8];
  static constexpr Oid types[8] = {TIMESTAMPTZARRAYOID, INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                                   TEXTARRAYOID,        INT4ARRAYOID, INT8ARRAYOID, BOOLARRAYOID};
};

BatchArrays batch_arrays(const AuditEntry* batch, int count) {
  Datum* columns[8];
  for (Datum*& column : columns) column = static_cast<Datum*>(palloc(sizeof(Datum) * count));
  for (int i = 0; i < count; ++i) {
    columns[0][i] = TimestampTzGetDatum(batch[i].at);
    columns[1][i] = Int64GetDatum(batch[i].company);
    columns[2][i] = CStringGetTextDatum(batch[i].session_user_name);
    columns[3][i] = CStringGetTextDatum(batch[i].current_user_name);
    columns[4][i] = CStringGetTextDatum(batch[i].function_name);
    columns[5][i] = Int32GetDatum(batch[i].reads);
    columns[6][i] = Int64GetDatum(batch[i].api_token);
    columns[7][i] = BoolGetDatum(batch[i].has_company);
  }
  BatchArrays arrays;
  arrays.values[0] = PointerGetDatum(construct_array(columns[0], count, TIMESTAMPTZOID, sizeof(TimestampTz), true, TYPALIGN_DOUBLE));
  arrays.values[1] = PointerGetDatum(construct_array(columns[1], count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
  for (int c = 2; c <= 4; ++c)
    arrays.values[c] = PointerGetDatum(construct_array(columns[c], count, TEXTOID, -1, false, TYPALIGN_INT));
  arrays.values[5] = PointerGetDatum(construct_array(columns[5], count, INT4OID, sizeof(int32), true, TYPALIGN_INT));
  arrays.values[6] = PointerGetDatum(construct_array(columns[6], count, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
  arrays.values[7] = PointerGetDatum(construct_array(columns[7], count, BOOLOID, sizeof(bool), true, TYPALIGN_CHAR));
  return arrays;
}

constexpr const char* kUnnestBatch =
    "ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
    "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8)) "
    "AS r(at, company, session_user_name, current_user_name, function_name, reads, api_token, has_company)";

// The INSERT of a batch into the audit_log of the installed version: before 1.2 one row per
// read (a coalesced entry becomes `reads` rows); before 1.6 without the token columns (no
// tokens exist there).
std::string insert_batch_sql(bool with_reads, bool with_tokens) {
  if (with_tokens)
    return std::string(
               "INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, "
               "function_name, reads, api_token_id, api_user) SELECT r.at, CASE WHEN r.has_company THEN r.company END, "
               "r.session_user_name, r.current_user_name, r.function_name, r.reads, "
               "CASE WHEN r.api_token OPERATOR(pg_catalog.<>) 0 THEN r.api_token END, t.user_name FROM ") +
           kUnnestBatch + " LEFT JOIN billing.api_tokens t ON t.id OPERATOR(pg_catalog.=) r.api_token";
  if (with_reads)
    return std::string(
               "INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, "
               "function_name, reads) SELECT r.at, r.company, r.session_user_name, r.current_user_name, "
               "r.function_name, r.reads FROM ") + kUnnestBatch;
  return std::string(
             "INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, "
             "function_name) SELECT r.at, r.company, r.session_user_name, r.current_user_name, r.function_name FROM ") +
         kUnnestBatch + ", pg_catalog.generate_series(1, r.reads)";
}

// A token's last use is its latest successful authentication the writer has seen.
constexpr const char* kUpdateLastUsed =
    "UPDATE billing.api_tokens t SET last_used_at = u.at FROM (SELECT r.api_token, pg_catalog.max(r.at) AS at FROM "
    "ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($5), pg_catalog.unnest($7)) AS r(at, function_name, api_token) "
    "WHERE r.function_name OPERATOR(pg_catalog.=) 'authenticate_token' GROUP BY r.api_token) u "
    "WHERE t.id OPERATOR(pg_catalog.=) u.api_token "
    "AND (t.last_used_at IS NULL OR t.last_used_at OPERATOR(pg_catalog.<) u.at)";

void write_batch(const AuditEntry* batch, int count) {
  bool is_null = false;
  uint64 read_count = 0;
  for (int i = 0; i < count; ++i) read_count += static_cast<uint64>(batch[i].reads);
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  SPI_connect();
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, "company_billing: writing audit entries");
  // Is the extension installed here, and which audit_log columns does its version have?
  bool ready = SPI_execute(
                   "SELECT pg_catalog.count(a.attname) FILTER (WHERE a.attname OPERATOR(pg_catalog.=) 'reads'), "
                   "pg_catalog.count(a.attname) FILTER (WHERE a.attname OPERATOR(pg_catalog.=) 'api_token_id') "
                   "FROM pg_catalog.pg_extension e "
                   "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('billing.audit_log') "
                   "AND a.attname IN ('reads', 'api_token_id') AND NOT a.attisdropped "
                   "WHERE e.extname OPERATOR(pg_catalog.=) 'company_billing'",
                   true, 0) == SPI_OK_SELECT && SPI_processed == 1;
  const bool with_reads = ready && DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null)) > 0;
  const bool with_tokens = ready && DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &is_null)) > 0;
  if (ready && count > 0) {
    // One INSERT per batch: the arrays go in as parameters and unnest() into rows.
    BatchArrays arrays = batch_arrays(batch, count);
    const std::string insert = insert_batch_sql(with_reads, with_tokens);
    SPI_execute_with_args(insert.c_str(), 8, const_cast<Oid*>(BatchArrays::types), arrays.values, nullptr, false, 0);
    if (with_tokens)
      SPI_execute_with_args(kUpdateLastUsed, 8, const_cast<Oid*>(BatchArrays::types), arrays.values, nullptr, false, 0);
  }
  SPI_finish();
  PopActiveSnapshot();
  CommitTransactionCommand();
  pgstat_report_activity(STATE_IDLE, nullptr);

  AuditQueue* queue = shared_state()->audit;
  LWLockAcquire(queue->lock, LW_EXCLUSIVE);
  if (ready)
    queue->flushed += read_count;
  else
    queue->dropped += read_count;
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
    // Drains what is queued, then sleeps: going round again at once would write a batch of a
    // few entries per transaction while readers keep arriving, and leave nothing to coalesce.
    int taken;
    do {
      taken = take_batch(batch);
      if (taken > 0) write_batch(batch, taken);
    } while (taken == kBatchSize);
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kFlushIntervalMs,
                    PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
  }
}
