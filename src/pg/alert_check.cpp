// Usage alerts in the transaction of the usage (docs/alerts.md):
//   billing._check_alerts()          deferred constraint trigger on usage_daily and alert_settings
//   billing._alert_settings_changed() statement trigger: the shared alert entries are stale at commit
//   billing.evaluate_alerts(company, as_of)  the same exact check, on demand
//   billing.can_consume(company, minutes, as_of)  the spend cap for call routing
//
// Exactly once under concurrency. The check runs at commit (the trigger is INITIALLY DEFERRED).
// An exact check holds the company's alert lock in exclusive mode until its transaction ends and
// reads the usage in a snapshot taken after the lock is granted, so it sees every transaction
// that checked before it; it records each threshold crossed (and each one no longer crossed)
// with the unique key of billing.alerts. That alone would serialize every commit of a company.
// So the exact check also leaves in shared memory how much more usage leaves every threshold as
// it is (core/alerts.h alert_headroom); a later transaction whose usage only grows takes the lock
// in share mode, adds its growth to the usage in flight and, when committed plus in flight still
// stay within that room, commits without a check: it cannot cross anything, and the share locks
// of such transactions never wait for each other. The next exact check waits for them (its
// exclusive lock conflicts with their share locks), so it sees them all.
#include "pg/alert_check.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/alerts.h"
#include "core/currency.h"
#include "core/decimal.h"
#include "core/errors.h"
#include "core/json_writer.h"
#include "pg/company_scope.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/index_lookup.h"
#include "pg/kept_query.h"
#include "pg/local_day.h"
#include "pg/shared_state.h"
#include "pg/usage_document.h"

extern "C" {
#include "access/xact.h"
#include "commands/trigger.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace billing::pg {
namespace {

constexpr int64 kUnbounded = std::numeric_limits<int64>::max();
// The advisory locks' fourth field: pg_advisory_lock() uses 1 and 2, so ours never collide.
constexpr uint16 kCompanyLockField = 0xB1;  // one company's alert lock
constexpr uint16 kAllLockField = 0xB2;      // every company's: share for most, exclusive for bulk
// A transaction that changed more companies checks them all under the exclusive lock of every
// company instead of one lock each: the server's lock table holds max_locks_per_transaction x
// max_connections locks in all, and a COPY of 20,000 companies' calls would fill it.
constexpr size_t kMostCompanyLocks = 256;

struct DayDelta {
  int64 seconds = 0;
  int64 appointments = 0;
};

struct PendingCompany {
  std::map<DateADT, DayDelta> days;
  bool force = false;  // the settings changed: check exactly
};

// This transaction's changes not yet checked, by company.
std::map<int64, PendingCompany> pending;
// Skipped checks: their growth is in flight until the transaction ends.
struct Reservation {
  AlertEntry* entry;  // shared entries never move nor go away
  int64 seconds, appointments;
};
std::vector<Reservation> reservations;
// Exact checks: what they leave in the shared entry when the transaction commits.
struct EntryUpdate {
  AlertEntry* entry;
  uint64 generation;
  DateADT start, end;
  TimestampTz valid_until;
  int64 seconds, appointments, limit_seconds, limit_appointments;
};
std::vector<EntryUpdate> updates;
bool settings_changed = false;
// A savepoint rolled back after an exact check may have taken its alert rows with it: its entry
// updates are then dropped (the entries made stale), never applied.
bool subtransaction_aborted = false;

int64 saturating_add(int64 a, int64 b) {
  if (b > 0 && a > kUnbounded - b) return kUnbounded;
  return a + b;
}

// The shared entry of a company, created when missing; nullptr without shared memory or when
// the table is full (then every check is exact).
AlertEntry* entry_of(int64 company) {
  const SharedState* shared = shared_state();
  if (shared == nullptr) return nullptr;
  LWLockAcquire(shared->alerts_lock, LW_SHARED);
  auto* entry = static_cast<AlertEntry*>(hash_search(shared->alerts, &company, HASH_FIND, nullptr));
  LWLockRelease(shared->alerts_lock);
  if (entry != nullptr) return entry;
  LWLockAcquire(shared->alerts_lock, LW_EXCLUSIVE);
  bool found = false;
  entry = static_cast<AlertEntry*>(hash_search(shared->alerts, &company, HASH_ENTER_NULL, &found));
  if (entry != nullptr && !found) {
    SpinLockInit(&entry->mutex);
    entry->valid = false;
    entry->generation = 0;
    entry->committed_seconds = entry->committed_appointments = 0;
    entry->inflight_seconds = entry->inflight_appointments = 0;
    entry->limit_seconds = entry->limit_appointments = 0;
  }
  LWLockRelease(shared->alerts_lock);
  return entry;
}

uint64 current_generation() {
  const SharedState* shared = shared_state();
  return shared == nullptr ? 0 : pg_atomic_read_u64(shared->alert_generation);
}

LOCKTAG alert_lock_tag(int64 company, uint16 field) {
  LOCKTAG tag;
  SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(static_cast<uint64>(company) >> 32),
                       static_cast<uint32>(company), field);
  return tag;
}

void lock_company(int64 company, LOCKMODE mode) {
  const LOCKTAG tag = alert_lock_tag(company, kCompanyLockField);
  call([&] { (void)LockAcquire(&tag, mode, false, false); });
}

void unlock_company(int64 company, LOCKMODE mode) {
  const LOCKTAG tag = alert_lock_tag(company, kCompanyLockField);
  call([&] { (void)LockRelease(&tag, mode, false); });
}

void lock_all_companies(LOCKMODE mode) {
  const LOCKTAG tag = alert_lock_tag(0, kAllLockField);
  call([&] { (void)LockAcquire(&tag, mode, false, false); });
}

// How the companies of a transaction are locked: each by its own lock (under every company's in
// share mode), or all at once by every company's in exclusive mode.
enum class Locking { kEachCompany, kAllCompanies };

// ---- The exact check ----------------------------------------------------------------------

// A company's settings (or the defaults without a row). Read-only: in the caller's snapshot,
// which the exact check takes fresh.
KeptQuery settings_query(R"SQL(
SELECT s.included_thresholds::pg_catalog.text[], s.monthly_budget::pg_catalog.text,
       s.budget_thresholds::pg_catalog.text[], s.alert_on_projection, s.cap_amount::pg_catalog.text,
       s.cap_minutes::pg_catalog.text
  FROM billing.alert_settings s WHERE s.company_id OPERATOR(pg_catalog.=) $1
)SQL",
                         {INT8OID});

KeptQuery firing_query(R"SQL(
SELECT a.kind, a.threshold::pg_catalog.text FROM billing.alerts a
 WHERE a.company_id OPERATOR(pg_catalog.=) $1 AND a.period_start OPERATOR(pg_catalog.=) $2
   AND a.state OPERATOR(pg_catalog.=) 'firing'
)SQL",
                       {INT8OID, DATEOID}, KeptQuery::Access::kWrites);

// What follows every change of an alert's state, in the statement that changes it (CTE `a`, the
// changed row; $5 the instant): its event for the outbox, a delivery for the company's webhook,
// and a notification for the gateway.
#define BILLING_ALERT_OUTBOX_SQL \
  "), e AS (\n" \
  "    INSERT INTO billing.alert_events (company_id, alert_id, event, created_at, body)\n" \
  "    SELECT a.company_id, a.id, v.event, $5, billing._alert_event_body(v.event, a)\n" \
  "      FROM a, LATERAL (SELECT CASE a.state WHEN 'firing' THEN 'alert.fired' ELSE 'alert.resolved' END AS event) v\n" \
  "    RETURNING id, company_id\n" \
  "), d AS (\n" \
  "    INSERT INTO billing.webhook_deliveries (event_id, company_id, url, next_attempt_at)\n" \
  "    SELECT e.id, e.company_id, s.webhook_url, $5 FROM e JOIN billing.alert_settings s ON s.company_id OPERATOR(pg_catalog.=) e.company_id\n" \
  "     WHERE s.webhook_url IS NOT NULL\n" \
  ")\n" \
  "SELECT pg_catalog.pg_notify('billing_alerts', e.company_id::pg_catalog.text) FROM e\n"

// An alert fires: new, or again after its resolution. $1 company, $2 period start, $3 kind,
// $4 threshold, $5 instant, $6 value, $7 period end.
KeptQuery fire_query(R"SQL(
WITH a AS (
    INSERT INTO billing.alerts AS x (company_id, period_start, period_end, kind, threshold, state, value, fired_at)
    VALUES ($1, $2, $7, $3, $4::pg_catalog.numeric, 'firing', $6::pg_catalog.numeric, $5)
    ON CONFLICT (company_id, period_start, kind, threshold) DO UPDATE
       SET state = 'firing', value = excluded.value, fired_at = excluded.fired_at, resolved_at = NULL,
           times_fired = x.times_fired OPERATOR(pg_catalog.+) 1
     WHERE x.state OPERATOR(pg_catalog.=) 'resolved'
    RETURNING x.*
)SQL" BILLING_ALERT_OUTBOX_SQL,
                     {INT8OID, DATEOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, DATEOID}, KeptQuery::Access::kWrites);

// A firing alert is resolved: the same parameters ($7 unused).
KeptQuery resolve_query(R"SQL(
WITH a AS (
    UPDATE billing.alerts x SET state = 'resolved', resolved_at = $5, value = $6::pg_catalog.numeric
     WHERE x.company_id OPERATOR(pg_catalog.=) $1 AND x.period_start OPERATOR(pg_catalog.=) $2
       AND x.kind OPERATOR(pg_catalog.=) $3 AND x.threshold OPERATOR(pg_catalog.=) $4::pg_catalog.numeric
       AND x.state OPERATOR(pg_catalog.=) 'firing'
    RETURNING x.*
)SQL" BILLING_ALERT_OUTBOX_SQL,
                        {INT8OID, DATEOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, DATEOID}, KeptQuery::Access::kWrites);

std::vector<Rational> decimal_list(uint64 row, int column) {
  bool is_null = false;
  const Datum value = result_datum(row, column, &is_null);
  std::vector<Rational> list;
  if (is_null) return list;
  Datum* elements = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  call([&] { deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count); });
  for (int i = 0; i < count; ++i)
    if (!nulls[i]) list.push_back(parse_decimal(call([&] { return TextDatumGetCString(elements[i]); }), "threshold"));
  return list;
}

struct CompanySettings {
  AlertSettings alerts;
  SpendCap cap;
};

CompanySettings settings_of(int64 company) {
  CompanySettings settings;
  const Datum key = Int64GetDatum(company);
  if (settings_query.run(&key) == 0) return settings;
  settings.alerts.included_thresholds = decimal_list(0, 1);
  if (const auto budget = result_text(0, 2)) settings.alerts.monthly_budget = parse_decimal(*budget, "monthly_budget");
  settings.alerts.budget_thresholds = decimal_list(0, 3);
  bool is_null = false;
  settings.alerts.alert_on_projection = DatumGetBool(result_datum(0, 4, &is_null));
  if (const auto amount = result_text(0, 5)) settings.cap.amount = parse_decimal(*amount, "cap_amount");
  if (const auto minutes = result_text(0, 6)) settings.cap.minutes = parse_decimal(*minutes, "cap_minutes");
  return settings;
}

PeriodFacts period_facts(DateADT start, DateADT end, DateADT today) {
  const DateADT clipped = std::min(std::max(today, start), end);
  return PeriodFacts{date_iso(start, "start"), date_iso(end, "end"), clipped - start + 1, end - clipped};
}

// What an exact check of a period found: its usage and the headroom left.
struct PeriodCheck {
  UsageFacts usage;
  Headroom room;
};

// Checks one period of the company exactly and records every change of state.
PeriodCheck check_period(const Company& company, const PeriodPlan& period, DateADT today, TimestampTz as_of,
                      const AlertSettings& settings) {
  const UsageFacts usage = usage_up_to(company.id, company.timezone, period.start, period.end, as_of);
  if (!period.config) return {usage, {kUnbounded, kUnbounded}};
  const PeriodFacts facts = period_facts(period.start, period.end, today);
  const std::vector<ThresholdState> states = evaluate_thresholds(*period.config, facts, usage, settings);
  const Datum keys[2] = {Int64GetDatum(company.id), DateADTGetDatum(period.start)};
  std::vector<std::pair<std::string, Rational>> firing;
  const uint64 rows = firing_query.run(keys);
  for (uint64 row = 0; row < rows; ++row)
    firing.emplace_back(*result_text(row, 1), parse_decimal(*result_text(row, 2), "threshold"));
  for (const ThresholdState& state : states) {
    const std::string kind(alert_kind_name(state.kind));
    const bool is_firing = std::any_of(firing.begin(), firing.end(), [&](const auto& alert) {
      return alert.first == kind && alert.second == state.threshold;
    });
    if (state.crossed == is_firing) continue;
    const Datum values[7] = {keys[0], keys[1], text_datum(kind), text_datum(format_exact(state.threshold)),
                             TimestampTzGetDatum(as_of), text_datum(format_fixed(state.value, 2)),
                             DateADTGetDatum(period.end)};
    (state.crossed ? fire_query : resolve_query).run(values);
  }
  return {usage, alert_headroom(*period.config, facts, usage, settings)};
}

// The exact check of a company: every period its pending days fall in (none in the future),
// and its current period. Holds the company's lock in exclusive mode until the transaction ends.
// Without `as_of`, the clock once the lock is granted: a writer that started while this one
// waited, and committed first, recorded its calls at a later now(), and they count.
void check_exactly(int64 company_id, const PendingCompany& changes, std::optional<TimestampTz> requested_as_of,
                   Locking locking) {
  if (locking == Locking::kEachCompany) lock_company(company_id, ExclusiveLock);
  const TimestampTz as_of = requested_as_of ? *requested_as_of : GetCurrentTimestamp();
  const uint64 generation = current_generation();
  // Granted after the transactions it waited for committed: a new snapshot sees them (in READ
  // COMMITTED, the default; a REPEATABLE READ transaction sees its own snapshot, see docs).
  // The command counter first: the snapshot then also sees this transaction's own last changes
  // (an UPDATE of alert_settings checked at its commit reads the new row, not the old one).
  call([] {
    CommandCounterIncrement();
    PushActiveSnapshot(GetTransactionSnapshot());
  });
  const std::optional<Company> company = company_by_id(company_id);
  if (company) {
    const AlertSettings settings = settings_of(company_id).alerts;
    const DateADT today = local_date(as_of, company->timezone);
    const PeriodPlan current = period_plan_for(*company, today);
    std::vector<DateADT> starts;
    for (const auto& [day, delta] : changes.days) {
      if (day >= current.start && day <= current.end) continue;
      if (day > current.end) continue;  // a future period: nothing to alert yet
      // An ended period is priced under the plan in force by its last day, as close_period()
      // bills it, whichever of its days was written.
      const PeriodPlan period = period_plan_for(*company, day, /*by_period_end=*/true);
      if (std::find(starts.begin(), starts.end(), period.start) != starts.end()) continue;
      starts.push_back(period.start);
      (void)check_period(*company, period, today, as_of, settings);
    }
    const auto [usage, room] = check_period(*company, current, today, as_of, settings);
    // The room counts from the usage as of now; what the skipped writers add to is everything the
    // period's rollup holds, calls dated later in the period too (they count once their time
    // comes, without a write): an upper bound at every later instant.
    const UsageFacts held = usage_up_to(company_id, company->timezone, current.start, current.end, DT_NOEND);
    const int64 seconds = static_cast<int64>(usage.total_seconds);
    AlertEntry* entry = entry_of(company_id);
    if (entry != nullptr)
      updates.push_back({entry, generation, current.start, current.end,
                         local_day_instants(current.end, company->timezone).after_last,
                         static_cast<int64>(held.total_seconds), held.appointments,
                         saturating_add(seconds, room.extra_seconds),
                         saturating_add(usage.appointments, room.extra_appointments)});
  }
  call([] { PopActiveSnapshot(); });
}

// Whether the change can commit without an exact check: it only grows usage, the company's
// entry is current, and committed plus in flight plus this change stay within the headroom.
// Takes the share lock first, so that no exact check runs between the test and the commit.
bool skip_check(int64 company, const PendingCompany& changes, TimestampTz now, Locking locking) {
  if (changes.force) return false;
  AlertEntry* entry = entry_of(company);
  if (entry == nullptr) return false;
  if (locking == Locking::kEachCompany) lock_company(company, ShareLock);
  const uint64 generation = current_generation();
  bool skipped = false;
  SpinLockAcquire(&entry->mutex);
  if (entry->valid && entry->generation == generation && now < entry->valid_until) {
    int64 seconds = 0, appointments = 0;
    bool grows = true;
    for (const auto& [day, delta] : changes.days) {
      if (day < entry->start) {
        grows = false;  // an earlier period: checked exactly
        break;
      }
      if (day > entry->end) continue;
      grows = grows && delta.seconds >= 0 && delta.appointments >= 0;
      seconds += delta.seconds;
      appointments += delta.appointments;
    }
    if (grows && saturating_add(saturating_add(entry->committed_seconds, entry->inflight_seconds), seconds) <=
                     entry->limit_seconds &&
        saturating_add(saturating_add(entry->committed_appointments, entry->inflight_appointments), appointments) <=
            entry->limit_appointments) {
      entry->inflight_seconds += seconds;
      entry->inflight_appointments += appointments;
      skipped = true;
      reservations.push_back({entry, seconds, appointments});
    }
  }
  SpinLockRelease(&entry->mutex);
  if (!skipped && locking == Locking::kEachCompany) unlock_company(company, ShareLock);
  return skipped;
}

void check_pending(TimestampTz now) {
  const Locking locking = pending.size() > kMostCompanyLocks ? Locking::kAllCompanies : Locking::kEachCompany;
  lock_all_companies(locking == Locking::kAllCompanies ? ExclusiveLock : ShareLock);
  // In company order, as every transaction takes the locks: no deadlock between two checks.
  while (!pending.empty()) {
    const auto first = pending.begin();
    const int64 company = first->first;
    const PendingCompany changes = std::move(first->second);
    pending.erase(first);
    if (!skip_check(company, changes, now, locking)) check_exactly(company, changes, std::nullopt, locking);
  }
}

// ---- Transaction end ------------------------------------------------------------------------

void at_transaction_end(XactEvent event, void*) {
  if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PREPARE &&
      event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
    return;
  const SharedState* shared = shared_state();
  const bool committed = event == XACT_EVENT_COMMIT;
  if (shared != nullptr) {
    for (const Reservation& reservation : reservations) {
      AlertEntry* entry = reservation.entry;
      SpinLockAcquire(&entry->mutex);
      entry->inflight_seconds -= reservation.seconds;
      entry->inflight_appointments -= reservation.appointments;
      if (committed) {
        entry->committed_seconds = saturating_add(entry->committed_seconds, reservation.seconds);
        entry->committed_appointments = saturating_add(entry->committed_appointments, reservation.appointments);
      } else if (event == XACT_EVENT_PREPARE) {
        entry->valid = false;  // its outcome is decided elsewhere
      }
      SpinLockRelease(&entry->mutex);
    }
    if (committed)
      for (const EntryUpdate& update : updates) {
        AlertEntry* entry = update.entry;
        SpinLockAcquire(&entry->mutex);
        if (subtransaction_aborted) {
          entry->valid = false;
          SpinLockRelease(&entry->mutex);
          continue;
        }
        entry->generation = update.generation;
        entry->valid = true;
        entry->start = update.start;
        entry->end = update.end;
        entry->valid_until = update.valid_until;
        entry->committed_seconds = update.seconds;
        entry->committed_appointments = update.appointments;
        entry->limit_seconds = update.limit_seconds;
        entry->limit_appointments = update.limit_appointments;
        SpinLockRelease(&entry->mutex);
      }
    // A committed change of settings or plans makes every entry stale; checks after it read the
    // new ones.
    if (committed && settings_changed) pg_atomic_fetch_add_u64(shared->alert_generation, 1);
  }
  pending.clear();
  reservations.clear();
  updates.clear();
  settings_changed = false;
  subtransaction_aborted = false;
}

void at_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB) subtransaction_aborted = true;
}

// ---- SQL entry points -----------------------------------------------------------------------

int64 row_company(const TriggerData* trigger) {
  HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
  const TupleDesc descriptor = RelationGetDescr(trigger->tg_relation);
  const AttrNumber column = column_number(descriptor, "company_id");
  bool is_null = false;
  const Datum value = call([&] { return heap_getattr(tuple, column, descriptor, &is_null); });
  return is_null ? 0 : DatumGetInt64(value);
}

Datum check_alerts_trigger(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw BillingError("39P01", "company_billing: the alert check must be called as a trigger");
  const TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_FOR_ROW(trigger->tg_event) || !TRIGGER_FIRED_AFTER(trigger->tg_event))
    throw BillingError("39P01", "company_billing: the alert check must fire AFTER ... FOR EACH ROW");
  const char* table = call([&] { return RelationGetRelationName(trigger->tg_relation); });
  if (std::string(table) == "alert_settings") pending[row_company(trigger)].force = true;
  if (pending.empty()) return PointerGetDatum(nullptr);
  spi_connect();
  // The clock at commit, not the transaction start: calls recorded at now() by transactions that
  // started later and committed first are part of the usage.
  check_pending(GetCurrentTimestamp());
  spi_finish();
  return PointerGetDatum(nullptr);
}

Datum settings_changed_trigger(FunctionCallInfo fcinfo) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw BillingError("39P01", "company_billing: must be called as a trigger");
  settings_changed = true;
  return PointerGetDatum(nullptr);
}

// billing.evaluate_alerts(company bigint, as_of timestamptz) -> void (admin)
Datum evaluate_alerts(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) throw BillingError(sqlstate::kNullValueNotAllowed, "company must not be NULL");
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  const int64 company = PG_GETARG_INT64(0);
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
  if (TIMESTAMP_NOT_FINITE(as_of)) throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  spi_connect();
  if (!company_by_id(company))
    throw BillingError(sqlstate::kInvalidParameterValue, "company " + std::to_string(company) + " does not exist");
  PendingCompany changes;
  changes.force = true;
  lock_all_companies(ShareLock);
  check_exactly(company, changes, as_of, Locking::kEachCompany);
  spi_finish();
  PG_RETURN_VOID();
}

// billing.can_consume(company, minutes, as_of) -> (allowed, reason, marginal_cost, total_after,
// minutes_left, amount_left, currency)
Datum can_consume(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "minutes must not be NULL");
  if (PG_ARGISNULL(2)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  const std::optional<int64> requested = PG_ARGISNULL(0) ? std::nullopt : std::optional<int64>(PG_GETARG_INT64(0));
  const Rational minutes = numeric_arg(fcinfo, 1, "minutes");
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(2);
  if (TIMESTAMP_NOT_FINITE(as_of)) throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  spi_connect();
  const Company company = resolve_company(requested, nullptr);
  const DateADT today = local_date(as_of, company.timezone);
  const PeriodPlan period = period_plan_for(company, today);
  if (!period.config)
    throw BillingError(sqlstate::kNoDataFound, "company " + std::to_string(company.id) + " has no pricing plan valid on " +
                                                   date_iso(today, "day"));
  const SpendCap cap = settings_of(company.id).cap;
  const UsageFacts usage = usage_up_to(company.id, company.timezone, period.start, period.end, as_of);
  const ConsumeDecision decision = consume_decision(*period.config, usage, cap, minutes);
  const int minor_unit = currency_minor_unit(period.config->currency);
  Datum values[7];
  bool nulls[7] = {false, false, false, false, false, false, false};
  values[0] = BoolGetDatum(decision.allowed);
  values[1] = text_datum(decision.reason);
  values[2] = numeric_datum(format_fixed(decision.marginal_cost, minor_unit));
  values[3] = numeric_datum(format_fixed(decision.total_after, minor_unit));
  if (decision.minutes_left) values[4] = numeric_datum(format_exact(*decision.minutes_left));
  else nulls[4] = true;
  if (decision.amount_left) values[5] = numeric_datum(format_fixed(*decision.amount_left, minor_unit));
  else nulls[5] = true;
  values[6] = text_datum(period.config->currency);
  const Datum result = record_datum(fcinfo, values, nulls);
  spi_finish();
  return result;
}

// billing.budget_status(company, as_of) -> jsonb: the dashboard's budget card.
Datum budget_status_sql(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(1)) throw BillingError(sqlstate::kNullValueNotAllowed, "as_of must not be NULL");
  const std::optional<int64> requested = PG_ARGISNULL(0) ? std::nullopt : std::optional<int64>(PG_GETARG_INT64(0));
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
  if (TIMESTAMP_NOT_FINITE(as_of)) throw BillingError(sqlstate::kDatetimeFieldOverflow, "as_of must be a finite timestamp");
  static const std::string api_name = "budget_status";
  spi_connect();
  const Company company = resolve_company(requested, &api_name);
  const DateADT today = local_date(as_of, company.timezone);
  const PeriodPlan period = period_plan_for(company, today);
  if (!period.config)
    throw BillingError(sqlstate::kNoDataFound, "company " + std::to_string(company.id) + " has no pricing plan valid on " +
                                                   date_iso(today, "day"));
  const CompanySettings settings = settings_of(company.id);
  const UsageFacts usage = usage_up_to(company.id, company.timezone, period.start, period.end, as_of);
  const PeriodFacts facts = period_facts(period.start, period.end, today);
  const BudgetStatus status = budget_status(*period.config, facts, usage, settings.alerts.monthly_budget);
  const int minor_unit = currency_minor_unit(period.config->currency);
  const auto money = [&](const std::optional<Rational>& amount) {
    return amount ? format_fixed(*amount, minor_unit) : std::string("null");
  };
  const auto percent = [](const std::optional<Rational>& value) {
    return value ? format_fixed(*value, 2) : std::string("null");
  };
  const std::string document = json_object({
      {"period", json_object({{"start", json_string(facts.start)}, {"end", json_string(facts.end)}})},
      {"currency", json_string(period.config->currency)},
      {"monthly_budget", money(settings.alerts.monthly_budget)},
      {"total_cost", money(status.total_cost)},
      {"projected_total", money(status.projected_total)},
      {"used_percent", percent(status.used_percent)},
      {"projected_percent", percent(status.projected_percent)},
      {"budget_run_out", status.run_out_day
                             ? json_string(date_iso(static_cast<DateADT>(period.start + *status.run_out_day - 1), "day"))
                             : std::string("null")},
      {"cap_amount", money(settings.cap.amount)},
      {"cap_minutes", settings.cap.minutes ? format_exact(*settings.cap.minutes) : std::string("null")},
  });
  spi_finish();
  return jsonb_datum(document);
}

}  // namespace

void note_usage_change(int64 company, DateADT day, int64 seconds, int64 appointments) {
  DayDelta& delta = pending[company].days[day];
  delta.seconds += seconds;
  delta.appointments += appointments;
}

void register_alert_callbacks() {
  RegisterXactCallback(at_transaction_end, nullptr);
  RegisterSubXactCallback(at_subtransaction_end, nullptr);
}

}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_check_alerts, billing::pg::check_alerts_trigger)
BILLING_SQL_FUNCTION(billing_alert_settings_changed, billing::pg::settings_changed_trigger)
BILLING_SQL_FUNCTION(billing_evaluate_alerts, billing::pg::evaluate_alerts)
BILLING_SQL_FUNCTION(billing_can_consume, billing::pg::can_consume)
BILLING_SQL_FUNCTION(billing_budget_status, billing::pg::budget_status_sql)
