// What the library keeps in shared memory when it is in shared_preload_libraries: the audit
// queue and the rate limiter's buckets. Plain C structs only; every backend maps the same bytes.
#pragma once

#include "core/token_bucket.h"
#include "pg/pg_includes.h"

extern "C" {
#include "port/atomics.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"
}

namespace billing::pg {

inline constexpr int kFunctionNameLength = 64;

// One row of billing.audit_log: `reads` reads of one company through one function by one
// user within one second, the first of them at `at`.
struct AuditEntry {
  TimestampTz at;
  int32 reads;
  Oid database;
  bool has_company;  // false only for a failed token authentication of an unknown token id
  int64 company;
  int64 api_token;   // the token the reading transaction authenticated; 0 when none
  char session_user_name[NAMEDATALEN];
  char current_user_name[NAMEDATALEN];
  char function_name[kFunctionNameLength];
};

struct AuditQueue {
  LWLock* lock;
  int capacity;
  uint64 head;      // next entry to write (monotonic; index = head % capacity)
  uint64 tail;      // next entry to flush
  uint64 dropped;   // entries lost because the queue was full
  uint64 flushed;   // entries written to billing.audit_log
  uint64 token_failures;  // failed billing.authenticate_token() calls since the server started
  pid_t worker_pid; // 0 while no audit writer runs
  Latch* worker_latch;
  AuditEntry entries[FLEXIBLE_ARRAY_MEMBER];
};

struct LimiterEntry {
  uint64 key;          // hash of the caller's key text, or a viewer role's OID
  int64 per_minute;    // the limit of the last call (a full bucket is forgotten)
  TokenBucket bucket;
};

// What the alert check knows of one company's current period (src/pg/alert_check.cpp): the
// usage committed (exact when the last exact check wrote it, then added to by each commit), the
// usage of transactions between their check and their commit, and how far usage may grow before
// a threshold could be crossed. Fields under `mutex`.
struct AlertEntry {
  int64 company;  // the hash key
  slock_t mutex;
  bool valid;
  uint64 generation;  // of the settings it was computed with
  DateADT start, end;
  TimestampTz valid_until;  // the period's end instant
  int64 committed_seconds, committed_appointments;
  int64 inflight_seconds, inflight_appointments;
  int64 limit_seconds, limit_appointments;  // committed + in flight up to these: nothing crosses
};

// Two tables of billing.rate_limit_keys buckets each, allocated once (fixed size): the keys of
// billing.throttle() and the viewer roles' automatic limits, so that neither can crowd out the
// other. A full table forgets its idle full buckets before it refuses a new key.
struct SharedState {
  AuditQueue* audit;
  LWLock* limiter_lock;
  HTAB* limiter;         // throttle() keys: hash -> LimiterEntry
  HTAB* viewer_limiter;  // viewer role OID -> LimiterEntry
  LWLock* alerts_lock;   // for inserting into `alerts`
  HTAB* alerts;          // company -> AlertEntry (billing.alert_companies of them)
  pg_atomic_uint64* alert_generation;  // bumped by every committed change of settings or plans
};

// Settings (GUCs), defined in _PG_init.
extern int audit_queue_size;
extern int rate_limit_keys;
extern int viewer_rate_limit;
extern int alert_companies;
extern bool audit_enabled;
extern bool allow_drop_with_invoices;  // src/pg/drop_guard.cpp
extern char* audit_database;

// The shared state, or nullptr when the library was not preloaded.
const SharedState* shared_state();

// Called from _PG_init while shared_preload_libraries is processed.
void install_shared_memory_hooks();

}  // namespace billing::pg
