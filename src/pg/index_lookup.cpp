#include "pg/index_lookup.h"

#include <cstring>
#include <string>

#include "core/errors.h"
#include "pg/guard.h"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
}

namespace billing::pg {
namespace {

Oid billing_relation(const char* name, Oid schema) {
  const Oid relation = get_relname_relid(name, schema);
  if (!OidIsValid(relation))
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                    errmsg("relation \"billing.%s\" does not exist", name)));
  return relation;
}

}  // namespace

IndexLookup::IndexLookup(const char* table, const char* index) {
  call([&] {
    const Oid schema = get_namespace_oid("billing", false);
    const Oid table_id = billing_relation(table, schema);
    const AclResult permission = pg_class_aclcheck(table_id, GetUserId(), ACL_SELECT);
    if (permission != ACLCHECK_OK) aclcheck_error(permission, OBJECT_TABLE, get_rel_name(table_id));
    table_ = table_open(table_id, AccessShareLock);
    index_ = index_open(billing_relation(index, schema), AccessShareLock);
    if (index_->rd_index->indrelid != table_id)
      elog(ERROR, "company_billing: index billing.%s is not on billing.%s", index, table);
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
