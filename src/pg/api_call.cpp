// The C entry point of the API functions whose body is PL/pgSQL (symbol billing_api_call):
//   usage_trends, billing_history, company_payment_methods, diagnose, upcoming_charges,
//   period_detail, period_csv_lines, period_csv, ensure_periods, close_period,
//   close_ended_periods, mark_invoice, archive_calls, compare_plans, usage_forecast,
//   usage_anomalies, usage_analytics.
//
// Each API function billing.<name> is declared LANGUAGE C with this symbol; its body is the
// internal function billing._<name>_impl (period_csv: _period_csv_lines_impl), which no group
// role may execute. The entry point
//   1. checks the as_of argument (not NULL, finite),
//   2. resolves the company the call is about against the caller (src/pg/company_scope.cpp):
//      the company argument, or the company of the period argument found under the caller's
//      row level security; for the reads it audits the call and applies the viewer rate limit
//      (a viewer pays a token before its ids are looked up, so probing ids is limited too),
//   3. records which API function is running (write_guard.h), and
//   4. calls the body through fmgr with the resolved company, passing the caller's result set
//      context on (set-returning bodies materialize straight into it).
// Calling the body through fmgr, not SQL, is what lets a role without EXECUTE on it run it: the
// API function is the only door, and it cannot be passed a forged audit name or rate limit key.
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/errors.h"
#include "pg/audit.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/kept_query.h"
#include "pg/company_scope.h"
#include "pg/usage_document.h"
#include "pg/write_guard.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
}

namespace billing::pg {
namespace {

enum class Scope { kNone, kCompany, kPeriod };

struct ApiSpec {
  const char* name;
  Scope scope;
  bool audited;
  const char* body;
  bool passes_projection;  // the body takes the usage_projection document as an extra argument
  bool joins_lines;        // the body's rows are joined into one text, each ended by CRLF
};

constexpr ApiSpec kApis[] = {
    {"usage_trends", Scope::kCompany, true, "_usage_trends_impl", false, false},
    {"billing_history", Scope::kCompany, true, "_billing_history_impl", false, false},
    {"company_payment_methods", Scope::kCompany, true, "_company_payment_methods_impl", false, false},
    {"diagnose", Scope::kCompany, true, "_diagnose_impl", false, false},
    {"upcoming_charges", Scope::kCompany, true, "_upcoming_charges_impl", true, false},
    {"compare_plans", Scope::kCompany, true, "_compare_plans_impl", true, false},
    {"usage_forecast", Scope::kCompany, true, "_usage_forecast_impl", true, false},
    {"usage_anomalies", Scope::kCompany, true, "_usage_anomalies_impl", false, false},
    {"usage_analytics", Scope::kCompany, true, "_usage_analytics_impl", false, false},
    {"company_alerts", Scope::kCompany, true, "_company_alerts_impl", false, false},
    {"period_detail", Scope::kPeriod, true, "_period_detail_impl", false, false},
    {"period_csv_lines", Scope::kPeriod, true, "_period_csv_lines_impl", false, false},
    {"period_csv", Scope::kPeriod, true, "_period_csv_lines_impl", false, true},
    {"ensure_periods", Scope::kNone, false, "_ensure_periods_impl", false, false},
    {"close_period", Scope::kNone, false, "_close_period_impl", false, false},
    {"close_ended_periods", Scope::kNone, false, "_close_ended_periods_impl", false, false},
    {"mark_invoice", Scope::kNone, false, "_mark_invoice_impl", false, false},
    {"archive_calls", Scope::kNone, false, "_archive_calls_impl", false, false},
};

struct ResolvedApi {
  const ApiSpec* spec;
  std::string name;
  Oid body;
  int argument_count;
  int as_of_argument;  // -1: none
};

// API function OID -> its spec and body, per backend; emptied when any function changes.
std::unordered_map<Oid, ResolvedApi>& resolved_apis() {
  static std::unordered_map<Oid, ResolvedApi> apis;
  return apis;
}

void forget_resolved_apis(Datum, int, uint32) { resolved_apis().clear(); }

const ResolvedApi& resolve_api(Oid function) {
  static bool callback_registered = false;
  if (!callback_registered) {
    call([] { CacheRegisterSyscacheCallback(PROCOID, forget_resolved_apis, 0); });
    callback_registered = true;
  }
  auto found = resolved_apis().find(function);
  if (found != resolved_apis().end()) return found->second;

  const Oid billing_schema = call([] { return get_namespace_oid("billing", false); });
  HeapTuple tuple = call([&] { return SearchSysCache1(PROCOID, ObjectIdGetDatum(function)); });
  if (!HeapTupleIsValid(tuple)) throw BillingError(sqlstate::kInternalError, "company_billing: unknown API function");
  const auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
  const std::string name = NameStr(proc->proname);
  const bool in_billing = proc->pronamespace == billing_schema;
  Oid* types = nullptr;
  char** names = nullptr;
  char* modes = nullptr;
  const int all_count = call([&] { return get_func_arg_info(tuple, &types, &names, &modes); });
  call([&] { ReleaseSysCache(tuple); });

  const ApiSpec* spec = nullptr;
  for (const ApiSpec& candidate : kApis)
    if (name == candidate.name) spec = &candidate;
  if (spec == nullptr || !in_billing)
    throw BillingError(sqlstate::kInternalError, "company_billing: " + name + " is not an API function");

  Oid body_types[FUNC_MAX_ARGS];
  int count = 0;
  int as_of_argument = -1;
  for (int i = 0; i < all_count; ++i) {
    const char mode = modes == nullptr ? PROARGMODE_IN : modes[i];
    if (mode != PROARGMODE_IN && mode != PROARGMODE_INOUT && mode != PROARGMODE_VARIADIC) continue;
    if (names != nullptr && names[i] != nullptr && strcmp(names[i], "as_of") == 0) as_of_argument = count;
    body_types[count++] = types[i];
  }
  const int body_count = count + (spec->passes_projection ? 1 : 0);
  if (spec->passes_projection) body_types[count] = JSONBOID;
  const Oid body = call([&] {
    List* qualified = list_make2(makeString(pstrdup("billing")), makeString(pstrdup(spec->body)));
    return LookupFuncName(qualified, body_count, body_types, false);
  });
  ResolvedApi resolved{spec, name, body, count, as_of_argument};
  return resolved_apis().emplace(function, std::move(resolved)).first->second;
}

void check_as_of(FunctionCallInfo fcinfo, int argument) {
  if (argument < 0) return;
  if (PG_ARGISNULL(argument)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(argument)))
    throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
}

KeptQuery period_company_query(
    "SELECT p.company_id FROM billing.billing_periods p WHERE p.id OPERATOR(pg_catalog.=) $1", {INT8OID});

BillingError period_not_accessible(int64 period) {
  return BillingError(sqlstate::kInsufficientPrivilege, "billing period " + std::to_string(period) + " is not accessible");
}

// The company of the period argument, checked against the caller (and audited for reads). A
// period the caller's row level security hides and one that does not exist are the same error.
void period_scope(FunctionCallInfo fcinfo, const ResolvedApi& api) {
  const std::string* audit_name = api.spec->audited ? &api.name : nullptr;
  const bool viewer = is_viewer();
  spi_connect();
  std::optional<int64> viewer_company;
  if (viewer) {
    // A viewer pays a token before the id is looked up, and a refused probe is audited.
    if (audit_name != nullptr) limit_viewer();
    viewer_company = resolve_company(std::nullopt, nullptr).id;
  }
  const int64 period = PG_GETARG_INT64(0);
  const Datum key = Int64GetDatum(period);
  const bool found = period_company_query.run(&key) > 0;
  const std::optional<int64> company = found ? result_int64(0, 1) : std::nullopt;
  if (viewer) {
    const bool own = company && *company == *viewer_company;
    if (audit_name != nullptr) queue_audit(*viewer_company, own ? *audit_name : *audit_name + " (refused)");
    if (!own) throw period_not_accessible(period);
  } else {
    if (!company) throw period_not_accessible(period);
    (void)resolve_company(*company, audit_name);
  }
  spi_finish();
}

// The running API function's body called through fmgr with `arguments`; the caller's result set
// context (if any) is passed on.
Datum call_body(FunctionCallInfo fcinfo, const ResolvedApi& api, const Datum* arguments, const bool* nulls,
                int count, fmNodePtr resultinfo, bool* result_is_null) {
  RunningApi running(api.spec->name);
  FmgrInfo* body = static_cast<FmgrInfo*>(call([] { return palloc0(sizeof(FmgrInfo)); }));
  call([&] { fmgr_info(api.body, body); });
  auto* body_call = static_cast<FunctionCallInfo>(call([&] { return palloc0(SizeForFunctionCallInfo(count)); }));
  InitFunctionCallInfoData(*body_call, body, count, fcinfo->fncollation, fcinfo->context, resultinfo);
  for (int i = 0; i < count; ++i) {
    body_call->args[i].value = arguments[i];
    body_call->args[i].isnull = nulls[i];
  }
  const Datum result = call([&] { return FunctionCallInvoke(body_call); });
  *result_is_null = body_call->isnull;
  return result;
}

// period_csv: the records of the lines body, each ended by CRLF, as one text.
Datum joined_lines(FunctionCallInfo fcinfo, const ResolvedApi& api, const Datum* arguments, const bool* nulls,
                   int count) {
  ExprContext* econtext = call([] { return CreateStandaloneExprContext(); });
  TupleDesc line_desc = call([] {
    TupleDesc desc = CreateTemplateTupleDesc(1);
    TupleDescInitEntry(desc, 1, "line", TEXTOID, -1, 0);
    return desc;
  });
  ReturnSetInfo* lines = static_cast<ReturnSetInfo*>(call([] { return palloc0(sizeof(ReturnSetInfo)); }));
  lines->type = T_ReturnSetInfo;
  lines->econtext = econtext;
  lines->expectedDesc = line_desc;
  lines->allowedModes = SFRM_Materialize;
  lines->returnMode = SFRM_ValuePerCall;
  bool is_null = false;
  (void)call_body(fcinfo, api, arguments, nulls, count, reinterpret_cast<fmNodePtr>(lines), &is_null);
  if (lines->returnMode != SFRM_Materialize || lines->setResult == nullptr) {
    call([&] { FreeExprContext(econtext, true); });
    fcinfo->isnull = true;
    return 0;
  }
  const Datum joined_text = call([&] {
    StringInfoData joined;
    initStringInfo(&joined);
    TupleTableSlot* slot = MakeSingleTupleTableSlot(lines->setDesc, &TTSOpsMinimalTuple);
    bool line_null = false;
    while (tuplestore_gettupleslot(lines->setResult, true, false, slot)) {
      const Datum line = slot_getattr(slot, 1, &line_null);
      if (!line_null) {
        text* value = DatumGetTextPP(line);
        appendBinaryStringInfo(&joined, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
        appendBinaryStringInfo(&joined, "\r\n", 2);
      }
      ExecClearTuple(slot);
    }
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_end(lines->setResult);
    FreeExprContext(econtext, true);
    return PointerGetDatum(cstring_to_text_with_len(joined.data, joined.len));
  });
  return joined_text;
}

Datum api_call(FunctionCallInfo fcinfo) {
  // A copy: an invalidation during the call empties the cache.
  const ResolvedApi api = resolve_api(fcinfo->flinfo->fn_oid);
  check_as_of(fcinfo, api.as_of_argument);
  Datum arguments[FUNC_MAX_ARGS];
  bool nulls[FUNC_MAX_ARGS];
  for (int i = 0; i < api.argument_count; ++i) {
    arguments[i] = fcinfo->args[i].value;
    nulls[i] = fcinfo->args[i].isnull;
  }
  int count = api.argument_count;
  const std::string* audit_name = api.spec->audited ? &api.name : nullptr;
  if (api.spec->scope == Scope::kCompany) {
    const std::optional<int64> requested = nulls[0] ? std::nullopt : std::optional<int64>(DatumGetInt64(arguments[0]));
    spi_connect();
    const Company company = resolve_company(requested, audit_name);
    // The projection of the company just resolved (and audited), not a second read of its own.
    const std::string projection =
        api.spec->passes_projection
            ? usage_document_for(company, DatumGetTimestampTz(arguments[api.as_of_argument]), true)
            : std::string();
    spi_finish();  // frees what SPI allocated: the jsonb below is made after it
    arguments[0] = Int64GetDatum(company.id);
    nulls[0] = false;
    if (api.spec->passes_projection) {
      arguments[count] = jsonb_datum(projection);
      nulls[count++] = false;
    }
  } else if (api.spec->scope == Scope::kPeriod && !nulls[0]) {
    period_scope(fcinfo, api);
  }
  if (api.spec->joins_lines) return joined_lines(fcinfo, api, arguments, nulls, count);
  bool is_null = false;
  const Datum result = call_body(fcinfo, api, arguments, nulls, count, fcinfo->resultinfo, &is_null);
  fcinfo->isnull = is_null;
  return result;
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_api_call, billing::pg::api_call)
