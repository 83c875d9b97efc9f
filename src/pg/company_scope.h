// Who is calling and for which company: the caller's role and the transaction's
// billing.company_id (docs/design.md): src/pg/company_scope.cpp, and the SET LOCAL check in
// src/pg/transaction_company.cpp.
#pragma once

#include <optional>
#include <string>

#include "pg/pg_includes.h"

namespace billing::pg {

// billing.company_id as set with SET LOCAL in this transaction; nothing when unset. A value from
// a session-level SET raises 42501.
std::optional<std::string> transaction_company_setting_value();

// The same setting as a company id; a value that is not one raises 22P02.
std::optional<int64> transaction_company();

// A viewer: a member of billing_viewer that is neither application nor administrator
// (membership as pg_has_role(..., 'MEMBER'), so superusers count as administrators).
bool is_viewer();
bool is_admin();

// The company a read is about, checked against the caller, as billing._company():
//   a viewer is pinned to the company it is mapped to (another id is refused, the setting is
//   ignored); any other role passes an id, or none for the company its transaction set with SET
//   LOCAL. An unknown company and a company the caller may not see get the same 42501 error.
// When `api_name` is given, the read is audited and a viewer's calls are rate limited.
// Runs inside an SPI connection; `row` (the billing.companies row) lives in its memory.
struct Company {
  int64 id;
  std::string timezone;
  std::string currency;
  int anchor_day;  // billing_anchor_day, 1..28
  Datum row;
};
Company resolve_company(std::optional<int64> company, const std::string* api_name);

// The time zone of a company read by its primary key, without row level security; nothing when
// the company does not exist. For the rollup triggers, which must see every company of the
// statement.
std::optional<std::string> company_timezone(int64 company);

// The company's row read by its primary key, without row level security (for triggers, which
// see every company of the statement); nothing when there is none.
std::optional<Company> company_by_id(int64 company);

}  // namespace billing::pg
