// billing._refuse_drop_with_invoices(): an event trigger on ddl_command_start. DROP EXTENSION
// company_billing (or DROP EXTENSION btree_gist CASCADE, or DROP SCHEMA billing CASCADE) would
// delete every issued invoice with the extension's tables; while invoices exist it is refused,
// unless a superuser sets billing.allow_drop_with_invoices = on for the session first.
#include <cstring>

#include "core/errors.h"
#include "pg/guard.h"
#include "pg/kept_query.h"
#include "pg/shared_state.h"

extern "C" {
#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
}

namespace billing::pg {

bool allow_drop_with_invoices = false;

namespace {

bool names_one_of(const List* objects, const char* first, const char* second) {
  const ListCell* cell = nullptr;
  foreach (cell, objects) {
    const Node* object = static_cast<const Node*>(lfirst(cell));
    if (!IsA(object, String)) continue;
    const char* name = strVal(object);
    if (strcmp(name, first) == 0 || (second != nullptr && strcmp(name, second) == 0)) return true;
  }
  return false;
}

// Whether the statement drops the extension's tables.
bool drops_the_extension(const Node* statement) {
  if (statement == nullptr || !IsA(statement, DropStmt)) return false;
  const auto* drop = reinterpret_cast<const DropStmt*>(statement);
  if (drop->removeType == OBJECT_EXTENSION)
    return names_one_of(drop->objects, "company_billing", drop->behavior == DROP_CASCADE ? "btree_gist" : nullptr);
  if (drop->removeType == OBJECT_SCHEMA) return drop->behavior == DROP_CASCADE && names_one_of(drop->objects, "billing", nullptr);
  return false;
}

KeptQuery invoice_count_query(R"SQL(
SELECT pg_catalog.count(*)::pg_catalog.int8 FROM billing.invoices
)SQL",
                              {});

Datum refuse_drop_with_invoices(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    throw BillingError("39P01", "_refuse_drop_with_invoices() must be called as an event trigger");
  const auto* event = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  if (allow_drop_with_invoices || !drops_the_extension(event->parsetree)) return PointerGetDatum(nullptr);
  spi_connect();
  invoice_count_query.run(nullptr);
  const int64 invoices = result_int64(0, 1).value_or(0);
  spi_finish();
  if (invoices > 0)
    throw BillingError("2BP01",
                       "company_billing holds " + std::to_string(invoices) +
                           " issued invoices: dropping the extension would delete them",
                       "Issued invoices are records a business must keep.",
                       "Export them first (pg_dump -t 'billing.*'), then SET billing.allow_drop_with_invoices = on "
                       "as a superuser in the session that drops the extension.");
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_refuse_drop_with_invoices, billing::pg::refuse_drop_with_invoices)
