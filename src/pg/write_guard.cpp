// billing._written_only_by() -> trigger: refuses a row change unless the API function named by
// the trigger's argument is the innermost one running in this backend. INSERTs by superusers
// pass, so that pg_restore can restore the tables.
#include "pg/write_guard.h"

#include <cstring>
#include <string>

#include "core/errors.h"
#include "pg/guard.h"

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "utils/rel.h"
}

namespace billing::pg {
namespace {

constexpr int kMaxDepth = 32;
const char* running[kMaxDepth];  // names with static storage (the API table of api_call.cpp)
int depth = 0;

void reset_at_transaction_end(XactEvent event, void*) {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_COMMIT ||
      event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
    depth = 0;
}

}  // namespace

RunningApi::RunningApi(const char* name) {
  if (depth >= kMaxDepth) throw BillingError("54001", "company_billing: API functions nested too deeply");
  running[depth++] = name;
}

RunningApi::~RunningApi() {
  if (depth > 0) --depth;
}

bool api_is_running(const char* name) { return depth > 0 && strcmp(running[depth - 1], name) == 0; }

void register_running_api_reset() { RegisterXactCallback(reset_at_transaction_end, nullptr); }

namespace {

Datum written_only_by(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw BillingError(sqlstate::kInternalError, "_written_only_by must be called as a trigger");
  auto* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_FOR_ROW(data->tg_event) || !TRIGGER_FIRED_BEFORE(data->tg_event) ||
      data->tg_trigger->tgnargs != 1)
    throw BillingError(sqlstate::kInternalError, "_written_only_by must be a BEFORE ROW trigger with one argument");
  const char* allowed = data->tg_trigger->tgargs[0];
  const bool insert = TRIGGER_FIRED_BY_INSERT(data->tg_event);
  const HeapTuple row = TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  if (api_is_running(allowed) || (insert && call([] { return superuser(); })))
    return PointerGetDatum(row);
  const std::string table = RelationGetRelationName(data->tg_relation);
  throw BillingError(sqlstate::kInsufficientPrivilege,
                     std::string(insert ? "INSERT into" : "UPDATE of") + " billing." + table +
                         " is allowed only inside billing." + allowed + "()",
                     "Issued billing records are written when a period is closed and change only through the API.");
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_written_only_by, billing::pg::written_only_by)
