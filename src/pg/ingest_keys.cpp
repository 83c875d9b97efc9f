// The idempotency key triggers: billing._keep_call_keys() and billing._keep_appointment_keys(),
// statement-level AFTER triggers with transition tables (new_rows, old_rows) on billing.calls
// and billing.appointments. They keep billing.call_keys and billing.appointment_keys equal to
// the keys of the stored rows (plus those of archived rows), set-based, one statement per
// event:
//   INSERT: the new rows' keys; a key stored before raises the keys table's unique violation.
//   UPDATE: the keys of changed (company_id, external_id, id) moved.
//   DELETE: the old rows' keys removed; archive_calls() keeps them (its rows are not gone, only
//           their raw detail).
// The ingestion functions store their keys first (INSERT ... ON CONFLICT DO NOTHING, which is
// what makes them idempotent), so their inserts are skipped here.
// They also do what foreign keys would (the partitioned tables have none, 10_tables.sql says
// why), once per statement: every row's company exists, an appointment's call must be a call
// of its company (each locked as a foreign key locks it), and a deleted call is no longer any
// appointment's call.
#include <optional>
#include <string>

#include "core/errors.h"
#include "pg/guard.h"
#include "pg/kept_query.h"
#include "pg/write_guard.h"

extern "C" {
#include "commands/trigger.h"
}

namespace billing::pg {
namespace {

enum class Table { kCalls, kAppointments };

struct KeyTable {
  Table table;
  const char* keys;       // billing.<keys>
  const char* id_column;  // the keys table's column for the row's id
};

constexpr KeyTable kCallKeys{Table::kCalls, "call_keys", "call_id"};
constexpr KeyTable kAppointmentKeys{Table::kAppointments, "appointment_keys", "appointment_id"};

uint64 run(const std::string& sql) {
  const int result = call([&] { return SPI_execute(sql.c_str(), false, 0); });
  if (result < 0) throw BillingError(sqlstate::kInternalError, "company_billing: keeping the ingestion keys failed");
  return SPI_processed;
}

// Every new row's company exists, locked FOR KEY SHARE as a foreign key locks it (so that it
// cannot be deleted before this commits): one statement for the statement's companies.
void check_companies(const std::string& added, const char* table) {
  run("SELECT pg_catalog.count(*) FILTER (WHERE c.id IS NULL) FROM (SELECT DISTINCT a.company_id FROM " + added +
      " a) r LEFT JOIN LATERAL (SELECT c.id FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) r.company_id "
      "FOR KEY SHARE) c ON true");
  const std::optional<int64> missing = result_int64(0, 1);
  if (missing && *missing > 0)
    throw BillingError("23503", std::string("insert or update on table \"") + table +
                                    "\" violates foreign key constraint \"" + table + "_company_id_fkey\"",
                       "Every row's company_id must be the id of a row of billing.companies.");
}

// Every call the new appointments name is a call of their company (its key locked FOR KEY
// SHARE, as a foreign key would, so that it cannot be deleted before this commits).
void check_appointment_calls() {
  run("SELECT pg_catalog.count(*) FILTER (WHERE k.call_id IS NULL) FROM (SELECT DISTINCT n.company_id, n.call_id "
      "FROM new_rows n WHERE n.call_id IS NOT NULL) r LEFT JOIN LATERAL (SELECT k.call_id FROM billing.call_keys k "
      "WHERE k.company_id OPERATOR(pg_catalog.=) r.company_id AND k.call_id OPERATOR(pg_catalog.=) r.call_id "
      "FOR KEY SHARE) k ON true");
  const std::optional<int64> missing = result_int64(0, 1);
  if (missing && *missing > 0)
    throw BillingError("23503", "insert or update on table \"appointments\" violates foreign key constraint \"appointments_call_fkey\"",
                       "An appointment's call_id must be the id of a call of the same company (billing.call_keys).");
}

bool stored_by_an_ingestion_function() {
  return api_is_running("record_call") || api_is_running("record_calls") || api_is_running("record_appointment");
}

Datum keep_keys(FunctionCallInfo fcinfo, const KeyTable& table) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw BillingError("39P01", "company_billing: the key function must be called as a trigger");
  TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
    throw BillingError("39P01", "company_billing: the key trigger must fire AFTER ... FOR EACH STATEMENT");
  const bool inserts = TRIGGER_FIRED_BY_INSERT(trigger->tg_event);
  const bool deletes = TRIGGER_FIRED_BY_DELETE(trigger->tg_event);
  if (inserts && stored_by_an_ingestion_function()) return PointerGetDatum(nullptr);
  if (deletes && api_is_running("archive_calls")) return PointerGetDatum(nullptr);

  const std::string keys = std::string("billing.") + table.keys;
  const std::string id = table.id_column;
  spi_connect();
  call([&] { SPI_register_trigger_data(trigger); });
  // The keys of rows that an update left as they were are neither removed nor stored again.
  const std::string removed =
      TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)
          ? "(SELECT o.company_id, o.external_id, o.id FROM old_rows o EXCEPT ALL "
            "SELECT n.company_id, n.external_id, n.id FROM new_rows n)"
          : "old_rows";
  const std::string added =
      TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)
          ? "(SELECT n.company_id, n.external_id, n.id FROM new_rows n EXCEPT ALL "
            "SELECT o.company_id, o.external_id, o.id FROM old_rows o)"
          : "new_rows";
  if (!inserts)
    run("DELETE FROM " + keys + " k USING " + removed +
        " r WHERE k.company_id OPERATOR(pg_catalog.=) r.company_id"
        " AND k.external_id OPERATOR(pg_catalog.=) r.external_id AND k." + id + " OPERATOR(pg_catalog.=) r.id");
  if (!deletes) check_companies(added, table.table == Table::kCalls ? "calls" : "appointments");
  if (!deletes)
    run("INSERT INTO " + keys + " (company_id, external_id, " + id + ") SELECT a.company_id, a.external_id, a.id FROM " +
        added + " a");
  // A call whose key is gone (deleted, or moved to another company) is no longer any
  // appointment's call.
  if (!inserts && table.table == Table::kCalls)
    run("UPDATE billing.appointments a SET call_id = NULL FROM " + removed +
        " r WHERE a.company_id OPERATOR(pg_catalog.=) r.company_id AND a.call_id OPERATOR(pg_catalog.=) r.id"
        " AND NOT EXISTS (SELECT FROM billing.call_keys k WHERE k.company_id OPERATOR(pg_catalog.=) r.company_id"
        " AND k.call_id OPERATOR(pg_catalog.=) r.id)");
  if (!deletes && table.table == Table::kAppointments) check_appointment_calls();
  spi_finish();
  return PointerGetDatum(nullptr);
}

Datum keep_call_keys(FunctionCallInfo fcinfo) { return keep_keys(fcinfo, kCallKeys); }
Datum keep_appointment_keys(FunctionCallInfo fcinfo) { return keep_keys(fcinfo, kAppointmentKeys); }

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_keep_call_keys, billing::pg::keep_call_keys)
BILLING_SQL_FUNCTION(billing_keep_appointment_keys, billing::pg::keep_appointment_keys)
