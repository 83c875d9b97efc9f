// Reads rows of one billing table through one of its indexes, in the caller's snapshot and
// without the executor: the few index probes of a usage read cost about a microsecond each,
// where an SPI query pays for executor start-up and shut-down on every call.
//
// Use only after resolve_company() has admitted the caller to the company (the companies row is
// read by a query under row level security wherever it applies to the caller), and only for that
// company's rows: the policies of these tables admit exactly the rows of the company the caller
// may see, so reading that company's rows directly returns what a query would. The caller's
// SELECT privilege on the table is still checked.
//
// Errors surface as PgError; on an error the transaction abort releases the scan, the locks
// and the buffer pins, so nothing is closed on the way out (as in PostgreSQL's own code).
#pragma once

#include "pg/pg_includes.h"

extern "C" {
#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "executor/tuptable.h"
#include "utils/rel.h"
}

namespace billing::pg {

// Whether billing.<name> exists: the installed SQL version may be older than this library.
bool billing_table_exists(const char* name);

// The attribute number of column `name` of a row type (XX000 when it is missing).
AttrNumber column_number(TupleDesc descriptor, const char* name);

class IndexLookup {
 public:
  // Whether the caller's SELECT privilege on the table is checked. Only the token lookup of
  // billing.authenticate_token() skips it: there the caller reaches a row only with its secret.
  enum class Privilege { kCheckSelect, kSkipCheck };

  // Opens billing.<table> and billing.<index> with AccessShareLock.
  IndexLookup(const char* table, const char* index, Privilege privilege = Privilege::kCheckSelect);
  IndexLookup(const IndexLookup&) = delete;
  IndexLookup& operator=(const IndexLookup&) = delete;

  // The attribute number of a column of the table (XX000 when it is missing).
  AttrNumber column(const char* name) const;

  // Key on index column `index_column` (1-based): `strategy` (BTEqualStrategyNumber, ...) with
  // comparison function `procedure` (F_INT8EQ, ...) against `value`.
  void add_key(AttrNumber index_column, StrategyNumber strategy, RegProcedure procedure, Datum value);

  // Starts the scan, or moves to the next matching row; false at the end.
  bool next(ScanDirection direction = ForwardScanDirection);
  Datum value(AttrNumber column, bool* is_null) const;

  // The current row as a composite Datum, copied into the current memory context.
  Datum row() const;

  Oid table_id() const { return RelationGetRelid(table_); }

  // Ends the scan and closes the relations (locks are kept to the end of the transaction).
  void close();

 private:
  static constexpr int kMaxKeys = 4;
  Relation table_ = nullptr;
  Relation index_ = nullptr;
  IndexScanDesc scan_ = nullptr;
  TupleTableSlot* slot_ = nullptr;
  ScanKeyData keys_[kMaxKeys];
  int key_count_ = 0;
};

}  // namespace billing::pg
