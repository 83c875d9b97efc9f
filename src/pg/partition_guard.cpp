// billing._archive_removed_raw_partition(): an event trigger on ddl_command_start for DROP TABLE
// and ALTER TABLE. A DBA who drops a monthly partition of billing.calls or billing.appointments
// (or detaches one) removes its rows past the triggers: the rollup keeps their usage (every
// figure stays), and so do the keys, but billing.archived_usage_daily would not know them, and
// verify_usage_daily() would report the difference. So before the statement runs, the
// partition's rows are archived as archive_calls() archives them
// (billing._archive_partition_rows, 65_retention.sql). archive_calls() itself archives first and
// then drops: its own DROP is let through.
#include <cstring>

#include "core/errors.h"
#include "pg/guard.h"
#include "pg/kept_query.h"
#include "pg/write_guard.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"
}

namespace billing::pg {
namespace {

KeptQuery archive_partition_rows(R"SQL(
SELECT billing._archive_partition_rows($1::pg_catalog.regclass)
)SQL",
                                 {OIDOID}, KeptQuery::Access::kWrites);

// Whether `relation` is a partition of billing.calls or billing.appointments.
bool is_raw_partition(Oid relation) {
  if (!OidIsValid(relation) || !call([&] { return get_rel_relispartition(relation); })) return false;
  const Oid parent = call([&] { return get_partition_parent(relation, true); });
  const Oid billing_schema = call([] { return get_namespace_oid("billing", true); });
  if (!OidIsValid(billing_schema) || call([&] { return get_rel_namespace(parent); }) != billing_schema) return false;
  const char* name = call([&] { return get_rel_name(parent); });
  return name != nullptr && (strcmp(name, "calls") == 0 || strcmp(name, "appointments") == 0);
}

void archive(Oid partition) {
  RunningApi running("archive_calls");  // archived_usage_daily is written by archive_calls() only
  spi_connect();
  const Datum value = ObjectIdGetDatum(partition);
  archive_partition_rows.run(&value);
  spi_finish();
}

Oid relation_of(RangeVar* name) {
  return call([&] { return RangeVarGetRelid(name, NoLock, true); });
}

Datum archive_removed_raw_partition(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    throw BillingError("39P01", "_archive_removed_raw_partition() must be called as an event trigger");
  if (api_is_running("archive_calls")) return PointerGetDatum(nullptr);
  const auto* event = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  const Node* statement = event->parsetree;
  if (statement == nullptr) return PointerGetDatum(nullptr);
  if (IsA(statement, DropStmt)) {
    const auto* drop = reinterpret_cast<const DropStmt*>(statement);
    if (drop->removeType != OBJECT_TABLE) return PointerGetDatum(nullptr);
    const ListCell* cell = nullptr;
    foreach (cell, drop->objects) {
      List* names = static_cast<List*>(lfirst(cell));
      const Oid relation = relation_of(call([&] { return makeRangeVarFromNameList(names); }));
      if (is_raw_partition(relation)) archive(relation);
    }
  } else if (IsA(statement, AlterTableStmt)) {
    const auto* alter = reinterpret_cast<const AlterTableStmt*>(statement);
    const ListCell* cell = nullptr;
    foreach (cell, alter->cmds) {
      const auto* command = static_cast<const AlterTableCmd*>(lfirst(cell));
      if (command->subtype != AT_DetachPartition) continue;
      const auto* partition = reinterpret_cast<const PartitionCmd*>(command->def);
      const Oid relation = relation_of(partition->name);
      if (is_raw_partition(relation)) archive(relation);
    }
  }
  return PointerGetDatum(nullptr);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_archive_removed_raw_partition, billing::pg::archive_removed_raw_partition)
