// Queries that C entry points run through SPI, prepared once per backend and kept for the
// session (SPI_keepplan), so a call pays for executing them, never for parsing or planning.
//
// Query texts qualify every table, function, operator and type with its schema: a kept plan
// is re-analysed under the caller's search_path when that changes, and nothing the caller put
// on the path may stand in for a built-in. PostgreSQL's plan cache replans after DDL and when
// the role changes (row level security stays in force: the queries run as the caller).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "pg/pg_includes.h"

extern "C" {
#include "executor/spi.h"
}

namespace billing::pg {

class KeptQuery {
 public:
  enum class Access { kReadOnly, kWrites };
  KeptQuery(const char* sql, std::initializer_list<Oid> argument_types, Access access = Access::kReadOnly);
  KeptQuery(const KeptQuery&) = delete;
  KeptQuery& operator=(const KeptQuery&) = delete;

  // Runs the query and returns the number of rows it returned or wrote (SPI_processed); rows
  // returned are readable through SPI_tuptable until the next SPI call. A read-only query runs
  // in the caller's snapshot (as in a STABLE function), a writing one as in a VOLATILE one. `nulls` as for
  // SPI_execute_plan: nullptr, or one char per argument, 'n' for NULL. Inside an SPI connection.
  uint64 run(const Datum* values, const char* nulls = nullptr);

 private:
  static constexpr int kMaxArguments = 12;
  const char* sql_;
  bool read_only_;
  int argument_count_;
  Oid argument_types_[kMaxArguments];
  SPIPlanPtr plan_ = nullptr;
};

// Column `column` (1-based) of row `row` of the last result.
Datum result_datum(uint64 row, int column, bool* is_null);
std::optional<int64> result_int64(uint64 row, int column);
std::optional<std::string> result_text(uint64 row, int column);
std::optional<std::string> result_numeric_text(uint64 row, int column);

// SPI_connect() and SPI_finish() through call(). After an error the transaction (or
// subtransaction) abort closes the connection, so there is nothing to undo on the way out.
void spi_connect();
void spi_finish();

}  // namespace billing::pg
