// billing._transaction_company_setting() -> text: the billing.company_id of this transaction,
// and the check that it was set with SET LOCAL (company scope, src/pg/company_scope.cpp, uses it).
#include "core/errors.h"
#include "pg/company_scope.h"
#include "pg/convert.h"
#include "pg/guard.h"

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
    // Behind a pooler in transaction mode the session value may come from another client: the
    // detail says so, so that the client that gets the error knows it need not be its own SET.
    throw BillingError("42501", "billing.company_id must be set with SET LOCAL in the current transaction",
                       "billing.company_id is set for the whole session on this connection (SET without LOCAL): "
                       "by this client or, behind a connection pooler in transaction mode, by an earlier client "
                       "of the same server connection. It is ignored, so that one request's company never "
                       "reaches the next.",
                       "Set the company in each transaction with SET LOCAL billing.company_id = '...' (or "
                       "set_config('billing.company_id', ..., true)); RESET billing.company_id clears the "
                       "session value.");
  return std::string(value);
}

namespace {

Datum transaction_company_setting(FunctionCallInfo fcinfo) {
  const std::optional<std::string> value = transaction_company_setting_value();
  if (!value) PG_RETURN_NULL();
  return text_datum(*value);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_transaction_company_setting, billing::pg::transaction_company_setting)
