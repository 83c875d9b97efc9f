// The company scope of every read (docs/design.md), in one place:
//   billing._company(company bigint, api_name text) -> billing.companies
//   billing._is_viewer() -> boolean
//   billing._setting_company() -> bigint
//   billing.current_company() -> bigint (since 1.3; every row level security policy calls it)
//   billing.resolve_company(company bigint) -> bigint (since 1.4)
// _company, _is_viewer and _setting_company are the C symbols of versions before 1.4.
// The C read path (src/pg/usage_read.cpp) calls resolve_company() directly.
#include <utility>

#include "core/errors.h"
#include "pg/audit.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"
#include "pg/company_scope.h"

extern "C" {
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/rls.h"
}

namespace billing::pg {
namespace {

bool is_member_of(const char* role_name) {
  return call([&] { return is_member_of_role(GetUserId(), get_role_oid(role_name, false)); });
}

std::string current_user_name() {
  return std::string(call([] { return GetUserNameFromId(GetUserId(), false); }));
}

BillingError not_accessible(const std::optional<int64>& company) {
  return BillingError(sqlstate::kInsufficientPrivilege,
                      "company " + (company ? std::to_string(*company) : std::string()) +
                          " is not accessible");
}

// Since 1.4 a mapping names the role by OID; before, by name (a database not yet updated).
KeptQuery viewer_company_query(
    "SELECT v.company_id FROM billing.viewer_companies v"
    " WHERE v.role OPERATOR(pg_catalog.=) $1::pg_catalog.regrole",
    {OIDOID});
KeptQuery viewer_company_by_name_query(
    "SELECT v.company_id FROM billing.viewer_companies v WHERE v.role_name OPERATOR(pg_catalog.=) $1",
    {TEXTOID});

bool mappings_by_oid() {
  const Oid table = call([] { return get_relname_relid("viewer_companies", get_namespace_oid("billing", false)); });
  return call([&] { return get_attnum(table, "role"); }) != InvalidAttrNumber;
}

// The company the current role is mapped to as a viewer, if any (inside an SPI connection).
std::optional<int64> viewer_mapped_company() {
  if (mappings_by_oid()) {
    const Datum role = ObjectIdGetDatum(GetUserId());
    if (viewer_company_query.run(&role) == 0) return std::nullopt;
  } else {
    const Datum role = text_datum(current_user_name());
    if (viewer_company_by_name_query.run(&role) == 0) return std::nullopt;
  }
  return result_int64(0, 1);
}

KeptQuery company_query(
    "SELECT c, c.id, c.timezone, c.currency, c.billing_anchor_day FROM billing.companies c"
    " WHERE c.id OPERATOR(pg_catalog.=) $1",
    {INT8OID});

// The companies row of `id` found by its primary key through the open `companies` lookup (the row
// lives in the current memory context); nothing when there is none.
std::optional<Company> company_by_key(IndexLookup& companies, int64 id) {
  const AttrNumber timezone = companies.column("timezone"), currency = companies.column("currency"),
                   anchor_day = companies.column("billing_anchor_day");
  companies.add_key(1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
  std::optional<Company> found;
  if (companies.next()) {
    bool is_null = false;
    const Datum zone = companies.value(timezone, &is_null), money = companies.value(currency, &is_null);
    found = Company{id, call([&] { return TextDatumGetCString(zone); }), call([&] { return TextDatumGetCString(money); }),
                    DatumGetInt16(companies.value(anchor_day, &is_null)), companies.row()};
  }
  companies.close();
  return found;
}

// The company's row and fields, nothing when the caller may not see it. Under row level security
// company_query decides, so that every policy on billing.companies applies (also one a DBA added).
// When row level security does not apply to the caller (a superuser, a BYPASSRLS role, the
// owner of a table without FORCE, a table without it: check_enable_rls() is not RLS_ENABLED),
// that query returns exactly the row the primary key finds, so the key finds it, without the
// executor's start-up and shut-down (a fifth of a usage read's time in perf). With row_security
// off, a role under the policies gets RLS_ENABLED, and the query raises the error it should.
std::optional<Company> visible_company(int64 id) {
  IndexLookup companies("companies", "companies_pkey");
  if (call([&] { return check_enable_rls(companies.table_id(), InvalidOid, true); }) != RLS_ENABLED)
    return company_by_key(companies, id);
  companies.close();
  const Datum key = Int64GetDatum(id);
  if (company_query.run(&key) == 0) return std::nullopt;
  bool is_null = false;
  return Company{id, *result_text(0, 3), *result_text(0, 4), DatumGetInt16(result_datum(0, 5, &is_null)),
                 result_datum(0, 1, &is_null)};
}

}  // namespace

bool is_admin() { return is_member_of("billing_admin"); }

bool is_viewer() {
  return is_member_of("billing_viewer") && !is_member_of("billing_app") && !is_admin();
}

std::optional<int64> transaction_company() {
  const std::optional<std::string> setting = transaction_company_setting_value();
  if (!setting) return std::nullopt;
  bool digits_only = !setting->empty() && setting->size() <= 18;
  for (char c : *setting) digits_only = digits_only && c >= '0' && c <= '9';
  if (!digits_only)
    throw BillingError(sqlstate::kInvalidTextRepresentation,
                       "billing.company_id must be a company id, not \"" + message_excerpt(*setting) + "\"");
  return std::stoll(*setting);
}

Company resolve_company(std::optional<int64> company, const std::string* api_name) {
  const bool viewer = is_viewer();
  std::optional<int64> target;
  if (viewer) {
    // Every call of a viewer costs a token, also one that is refused: probing ids is limited.
    if (api_name != nullptr) limit_viewer();
    target = viewer_mapped_company();
    if (!target)
      throw BillingError(sqlstate::kInsufficientPrivilege,
                         "role " + current_user_name() + " is not mapped to a company", {},
                         "An administrator maps it with billing.grant_company_access().");
    if (company && *company != *target) {
      // The refused probe is audited too, under the id asked for.
      if (api_name != nullptr) queue_audit(*company, *api_name + " (refused)");
      throw not_accessible(company);
    }
  } else {
    const std::optional<int64> setting = transaction_company();
    target = company ? company : setting;
    if (!target)
      throw BillingError(sqlstate::kInsufficientPrivilege, "no company selected", {},
                         "Pass a company id, or SET LOCAL billing.company_id in the transaction.");
    // The application sees its transaction's company only (row level security): another id
    // would silently read nothing, so it is refused.
    if (setting && *target != *setting && !is_admin()) throw not_accessible(company);
  }
  std::optional<Company> result = visible_company(*target);
  if (!result) throw not_accessible(target);
  if (api_name != nullptr) queue_audit(*target, *api_name);
  return *result;
}

std::optional<Company> company_by_id(int64 company) {
  IndexLookup companies("companies", "companies_pkey");
  return company_by_key(companies, company);
}

std::optional<std::string> company_timezone(int64 company) {
  IndexLookup companies("companies", "companies_pkey");
  std::optional<Company> found = company_by_key(companies, company);
  if (!found) return std::nullopt;
  return std::move(found->timezone);
}

namespace {

Datum company_function(FunctionCallInfo fcinfo) {
  const std::optional<int64> company =
      PG_ARGISNULL(0) ? std::nullopt : std::optional<int64>(PG_GETARG_INT64(0));
  const std::optional<std::string> api_name =
      PG_ARGISNULL(1) ? std::nullopt : std::optional<std::string>(text_arg(fcinfo, 1));
  spi_connect();
  const Company resolved = resolve_company(company, api_name ? &*api_name : nullptr);
  const Datum row = call([&] { return SPI_datumTransfer(resolved.row, false, -1); });
  spi_finish();
  return row;
}

// billing.resolve_company(): the scope check of every read, without audit.
Datum resolve_company_function(FunctionCallInfo fcinfo) {
  const std::optional<int64> company =
      PG_ARGISNULL(0) ? std::nullopt : std::optional<int64>(PG_GETARG_INT64(0));
  spi_connect();
  const int64 resolved = resolve_company(company, nullptr).id;
  spi_finish();
  return Int64GetDatum(resolved);
}

Datum is_viewer_function(FunctionCallInfo) { return BoolGetDatum(is_viewer()); }

Datum setting_company_function(FunctionCallInfo fcinfo) {
  const std::optional<int64> company = transaction_company();
  if (!company) PG_RETURN_NULL();
  return Int64GetDatum(*company);
}

// The company row level security admits: a viewer's mapped company, anyone else's transaction
// company; NULL when there is none.
Datum current_company_function(FunctionCallInfo fcinfo) {
  if (!is_viewer()) return setting_company_function(fcinfo);
  spi_connect();
  const std::optional<int64> company = viewer_mapped_company();
  spi_finish();
  if (!company) PG_RETURN_NULL();
  return Int64GetDatum(*company);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_company, billing::pg::company_function)
BILLING_SQL_FUNCTION(billing_resolve_company, billing::pg::resolve_company_function)
BILLING_SQL_FUNCTION(billing_is_viewer, billing::pg::is_viewer_function)
BILLING_SQL_FUNCTION(billing_setting_company, billing::pg::setting_company_function)
BILLING_SQL_FUNCTION(billing_current_company, billing::pg::current_company_function)
