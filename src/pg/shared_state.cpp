#include "pg/shared_state.h"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace billing::pg {

int audit_queue_size = 16384;
int rate_limit_keys = 10000;
int viewer_rate_limit = 60;
int alert_companies = 16384;
bool audit_enabled = true;
char* audit_database = nullptr;

namespace {

constexpr const char* kTrancheName = "company_billing";
constexpr int kLockCount = 3;  // 0: audit queue, 1: rate limiter, 2: alert entries

SharedState state = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
bool attached = false;
shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

Size audit_queue_bytes() {
  return add_size(offsetof(AuditQueue, entries),
                  mul_size(static_cast<Size>(audit_queue_size), sizeof(AuditEntry)));
}

void request_shared_memory() {
  if (previous_request_hook != nullptr) previous_request_hook();
  RequestAddinShmemSpace(add_size(MAXALIGN(audit_queue_bytes()),
                                  add_size(mul_size(2, hash_estimate_size(rate_limit_keys, sizeof(LimiterEntry))),
                                           add_size(hash_estimate_size(alert_companies, sizeof(AlertEntry)),
                                                    sizeof(pg_atomic_uint64)))));
  RequestNamedLWLockTranche(kTrancheName, kLockCount);
}

void attach_shared_memory() {
  if (previous_startup_hook != nullptr) previous_startup_hook();
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found = false;
  auto* queue = static_cast<AuditQueue*>(ShmemInitStruct("company_billing audit queue",
                                                         audit_queue_bytes(), &found));
  LWLockPadded* locks = GetNamedLWLockTranche(kTrancheName);
  if (!found) {
    queue->lock = &locks[0].lock;
    queue->capacity = audit_queue_size;
    queue->head = queue->tail = queue->dropped = queue->flushed = 0;
    queue->worker_pid = 0;
    queue->worker_latch = nullptr;
  }
  HASHCTL info = {};
  info.keysize = sizeof(uint64);
  info.entrysize = sizeof(LimiterEntry);
  // HASH_FIXED_SIZE: the tables never take more of the server's shared memory than reserved.
  state.limiter = ShmemInitHash("company_billing rate limiter", rate_limit_keys, rate_limit_keys,
                                &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
  state.viewer_limiter = ShmemInitHash("company_billing viewer rate limiter", rate_limit_keys, rate_limit_keys,
                                       &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
  HASHCTL alert_info = {};
  alert_info.keysize = sizeof(int64);
  alert_info.entrysize = sizeof(AlertEntry);
  state.alerts = ShmemInitHash("company_billing alert entries", alert_companies, alert_companies, &alert_info,
                               HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
  bool generation_found = false;
  state.alert_generation = static_cast<pg_atomic_uint64*>(
      ShmemInitStruct("company_billing alert generation", sizeof(pg_atomic_uint64), &generation_found));
  if (!generation_found) pg_atomic_init_u64(state.alert_generation, 1);
  state.alerts_lock = &locks[2].lock;
  state.audit = queue;
  state.limiter_lock = &locks[1].lock;
  LWLockRelease(AddinShmemInitLock);
  attached = true;
}

}  // namespace

const SharedState* shared_state() { return attached ? &state : nullptr; }

void install_shared_memory_hooks() {
  previous_request_hook = shmem_request_hook;
  shmem_request_hook = request_shared_memory;
  previous_startup_hook = shmem_startup_hook;
  shmem_startup_hook = attach_shared_memory;
}

}  // namespace billing::pg
