#include "pg/index_lookup.h"

#include <cstring>
#include <deque>
#include <string>

#include "core/errors.h"
#include "pg/guard.h"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace billing::pg {

bool billing_table_exists(const char* name) {
  return call([&] {
    const Oid schema = get_namespace_oid("billing", true);
    return OidIsValid(schema) && OidIsValid(get_relname_relid(name, schema));
  });
}

namespace {

Oid billing_relation(const char* name, Oid schema) {
  const Oid relation = get_relname_relid(name, schema);
  if (!OidIsValid(relation))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("relation \"billing.%s\" does not exist", name)));
  return relation;
}

// The OIDs found by name last time, per table and index. They are only a guess: a relation
// opened by a remembered OID is used only if it still has the expected kind, name and schema
// (and the index is still on the table); otherwise both are looked up by name again. This
// spares three catalog lookups by name per probe.
struct RememberedOids {
  Oid schema = InvalidOid;
  Oid table = InvalidOid;
  Oid index = InvalidOid;
};

struct RememberedProbe {
  std::string table;
  std::string index;
  RememberedOids oids;
};

// One entry per (table, index) the code probes, a handful: found by name without building a key.
// A deque, so that adding an entry leaves references to the others valid.
RememberedOids& remembered_oids(const char* table, const char* index) {
  static auto* probes = new std::deque<RememberedProbe>();
  for (RememberedProbe& probe : *probes)
    if (probe.table == table && probe.index == index) return probe.oids;
  probes->push_back(RememberedProbe{table, index, {}});
  return probes->back().oids;
}

// The relation `id` locked with AccessShareLock if it is still `kind` `name` in `schema`; nullptr
// (and no lock kept) otherwise.
Relation open_if_still(Oid id, char kind, const char* name, Oid schema) {
  if (!OidIsValid(id)) return nullptr;
  Relation relation = try_relation_open(id, AccessShareLock);
  if (relation == nullptr) return nullptr;
  if (relation->rd_rel->relkind == kind && RelationGetNamespace(relation) == schema &&
      std::strcmp(RelationGetRelationName(relation), name) == 0)
    return relation;
  relation_close(relation, AccessShareLock);
  return nullptr;
}

}  // namespace

IndexLookup::IndexLookup(const char* table, const char* index, Privilege privilege) {
  RememberedOids& remembered = remembered_oids(table, index);
  const RememberedOids guess = remembered;
  remembered = RememberedOids{};  // until confirmed, in case opening fails
  remembered = call([&] {
    table_ = open_if_still(guess.table, RELKIND_RELATION, table, guess.schema);
    if (table_ != nullptr) {
      index_ = open_if_still(guess.index, RELKIND_INDEX, index, guess.schema);
      if (index_ != nullptr && index_->rd_index->indrelid != guess.table) {
        relation_close(index_, AccessShareLock);
        index_ = nullptr;
      }
      if (index_ == nullptr) {
        relation_close(table_, AccessShareLock);
        table_ = nullptr;
      }
    }
    RememberedOids found = guess;
    if (table_ == nullptr) {
      found.schema = get_namespace_oid("billing", false);
      found.table = billing_relation(table, found.schema);
      table_ = table_open(found.table, AccessShareLock);
      index_ = index_open(billing_relation(index, found.schema), AccessShareLock);
      if (index_->rd_index->indrelid != found.table)
        elog(ERROR, "company_billing: index billing.%s is not on billing.%s", index, table);
      found.index = RelationGetRelid(index_);
    }
    if (privilege == Privilege::kCheckSelect) {
      const AclResult permission = pg_class_aclcheck(found.table, GetUserId(), ACL_SELECT);
      if (permission != ACLCHECK_OK) aclcheck_error(permission, OBJECT_TABLE, get_rel_name(found.table));
    }
    return found;
  });
}

AttrNumber column_number(TupleDesc descriptor, const char* name) {
  for (int i = 0; i < descriptor->natts; ++i) {
    const Form_pg_attribute attribute = TupleDescAttr(descriptor, i);
    if (!attribute->attisdropped && std::strcmp(NameStr(attribute->attname), name) == 0) return attribute->attnum;
  }
  throw BillingError(sqlstate::kInternalError, std::string("company_billing: column ") + name + " is missing");
}

AttrNumber IndexLookup::column(const char* name) const { return column_number(RelationGetDescr(table_), name); }

void IndexLookup::add_key(AttrNumber index_column, StrategyNumber strategy, RegProcedure procedure,
                          Datum value) {
  if (key_count_ == kMaxKeys) throw BillingError("XX000", "company_billing: too many scan keys");
  call([&] { ScanKeyInit(&keys_[key_count_], index_column, strategy, procedure, value); });
  ++key_count_;
}

bool IndexLookup::next(ScanDirection direction) {
  return call([&] {
    if (scan_ == nullptr) {
      slot_ = table_slot_create(table_, nullptr);
      scan_ = index_beginscan(table_, index_, GetActiveSnapshot(), key_count_, 0);
      index_rescan(scan_, keys_, key_count_, nullptr, 0);
    }
    if (!index_getnext_slot(scan_, direction, slot_)) return false;
    slot_getallattrs(slot_);  // so that value() is a plain array read
    return true;
  });
}

Datum IndexLookup::value(AttrNumber column, bool* is_null) const {
  *is_null = slot_->tts_isnull[column - 1];
  return slot_->tts_values[column - 1];
}

Datum IndexLookup::row() const {
  return call([&] { return ExecFetchSlotHeapTupleDatum(slot_); });
}

void IndexLookup::close() {
  call([&] {
    if (scan_ != nullptr) index_endscan(scan_);
    if (slot_ != nullptr) ExecDropSingleTupleTableSlot(slot_);
    index_close(index_, NoLock);
    table_close(table_, NoLock);
  });
  scan_ = nullptr;
  slot_ = nullptr;
}

}  // namespace billing::pg
