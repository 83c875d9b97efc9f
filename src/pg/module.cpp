// The library's identity for PostgreSQL's loader, its settings, and (when preloaded) its shared
// memory and audit writer.
#include "pg/shared_state.h"
#include "pg/write_guard.h"
#include "pg/alert_check.h"

extern "C" {
#include "postmaster/bgworker.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
  using namespace billing::pg;
  DefineCustomIntVariable("billing.viewer_rate_limit",
                          "Calls a minute each billing_viewer role may make to the API (0: no limit).",
                          "Needs company_billing in shared_preload_libraries.", &viewer_rate_limit,
                          60, 0, 1000000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("billing.audit", "Records every API read in billing.audit_log.",
                           "Needs company_billing in shared_preload_libraries.", &audit_enabled,
                           true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("billing.allow_drop_with_invoices",
                           "Lets DROP EXTENSION company_billing delete issued invoices.",
                           "Superusers only; for the session that drops the extension.", &allow_drop_with_invoices,
                           false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  register_running_api_reset();
  register_alert_callbacks();
  // Settings of the shared memory and the audit writer exist only when the library is
  // preloaded (PostgreSQL refuses to create postmaster-level settings later).
  if (!process_shared_preload_libraries_in_progress) return;
  DefineCustomStringVariable("billing.database",
                             "The database whose billing.audit_log the audit writer fills.",
                             nullptr, &audit_database, "postgres", PGC_POSTMASTER, 0, nullptr,
                             nullptr, nullptr);
  DefineCustomIntVariable("billing.audit_queue_size",
                          "Audit entries the shared-memory queue holds before dropping new ones.",
                          nullptr, &audit_queue_size, 16384, 16, 1048576, PGC_POSTMASTER, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable("billing.rate_limit_keys", "Distinct keys the rate limiter tracks.",
                          nullptr, &rate_limit_keys, 10000, 16, 10000000, PGC_POSTMASTER, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable("billing.alert_companies",
                          "Companies whose alert state the shared memory keeps (others are checked exactly each time).",
                          nullptr, &alert_companies, 16384, 16, 10000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  install_shared_memory_hooks();

  BackgroundWorker worker = {};
  snprintf(worker.bgw_name, BGW_MAXLEN, "company_billing audit writer");
  snprintf(worker.bgw_type, BGW_MAXLEN, "company_billing audit writer");
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  // A standby cannot write: the writer starts once the server accepts writes.
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = 5;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "company_billing");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "billing_audit_writer_main");
  RegisterBackgroundWorker(&worker);
}
