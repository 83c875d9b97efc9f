// billing.throttle(key text, per_minute integer, as_of timestamptz) -> boolean,
// billing.throttle_detail(...) -> (admitted, remaining, retry_after_seconds), and the automatic
// per-viewer limit of the read API.
#include "pg/rate_limit.h"

#include <cstdio>

#include "core/errors.h"
#include "core/token_bucket.h"
#include "pg/convert.h"
#include "pg/guard.h"
#include "pg/shared_state.h"

extern "C" {
#include "common/hashfn.h"
}

namespace billing::pg {

inline constexpr const char* kRateLimitExceeded = "RL429";

namespace {

// Forgets every bucket of `table` that has refilled by `now_us` (under the exclusive lock).
void evict_full_buckets(HTAB* table, int64 now_us) {
  HASH_SEQ_STATUS scan;
  hash_seq_init(&scan, table);
  while (auto* entry = static_cast<LimiterEntry*>(hash_seq_search(&scan))) {
    if (bucket_is_full(entry->bucket, entry->per_minute, now_us))
      (void)hash_search(table, &entry->key, HASH_REMOVE, nullptr);
  }
}

// Takes a token of `key` in `table`; false when refused. Raises 53400 when the table is full of
// buckets that still carry state.
bool take_from(HTAB* table, uint64 key, int64 per_minute, int64 now_us, int64* retry_after_us,
               int64* remaining = nullptr) {
  const SharedState* shared = shared_state();
  bool admitted = true;
  bool table_full = false;
  call([&] {
    LWLockAcquire(shared->limiter_lock, LW_EXCLUSIVE);
    bool found = false;
    auto* entry = static_cast<LimiterEntry*>(hash_search(table, &key, HASH_ENTER_NULL, &found));
    if (entry == nullptr) {
      evict_full_buckets(table, now_us);
      entry = static_cast<LimiterEntry*>(hash_search(table, &key, HASH_ENTER_NULL, &found));
    }
    if (entry == nullptr) {
      table_full = true;
    } else {
      if (!found) entry->bucket = new_bucket(per_minute, now_us);
      entry->per_minute = per_minute;
      admitted = take_token(entry->bucket, per_minute, now_us, retry_after_us);
      if (remaining != nullptr) *remaining = entry->bucket.micro_tokens / kMicroPerToken;
    }
    LWLockRelease(shared->limiter_lock);
  });
  if (table_full)
    throw BillingError("53400", "the rate limiter tracks billing.rate_limit_keys keys, and every one was used within the last minute",
                       {}, "Raise billing.rate_limit_keys, or use fewer distinct keys.");
  return admitted;
}

void check_per_minute(int64 per_minute) {
  if (per_minute < 1 || per_minute > kMaxPerMinute)
    throw BillingError(sqlstate::kInvalidParameterValue, "per_minute must be between 1 and 1000000");
}

}  // namespace

bool take_rate_token(const std::string& key, int64 per_minute, TimestampTz now, int64* retry_after_us,
                     int64* remaining) {
  const SharedState* shared = shared_state();
  if (shared == nullptr)
    throw BillingError("55000", "the rate limiter needs company_billing in shared_preload_libraries");
  check_per_minute(per_minute);
  const uint64 hashed = hash_bytes_extended(reinterpret_cast<const unsigned char*>(key.data()),
                                            static_cast<int>(key.size()), 0x62696c6c);
  return take_from(shared->limiter, hashed, per_minute, static_cast<int64>(now), retry_after_us, remaining);
}

void enforce_viewer_rate_limit(Oid role, int64 per_minute) {
  const SharedState* shared = shared_state();
  if (shared == nullptr) return;
  check_per_minute(per_minute);
  int64 retry_after_us = 0;
  if (take_from(shared->viewer_limiter, role, per_minute, static_cast<int64>(GetCurrentTimestamp()), &retry_after_us))
    return;
  char detail[128];
  snprintf(detail, sizeof detail, "Retry after %.1f seconds.", static_cast<double>(retry_after_us) / 1e6);
  throw BillingError(kRateLimitExceeded,
                     "rate limit of " + std::to_string(per_minute) + " calls a minute exceeded", detail);
}

namespace {

// The arguments of throttle() and throttle_detail(): (key text, per_minute integer, as_of).
struct ThrottleArguments {
  std::string key;
  int64 per_minute;
  TimestampTz as_of;
};

ThrottleArguments throttle_arguments(FunctionCallInfo fcinfo) {
  ThrottleArguments arguments{text_arg(fcinfo, 0), PG_GETARG_INT32(1), PG_GETARG_TIMESTAMPTZ(2)};
  if (TIMESTAMP_NOT_FINITE(arguments.as_of)) throw BillingError("22008", "as_of must be a finite timestamp");
  return arguments;
}

Datum throttle(FunctionCallInfo fcinfo) {
  const ThrottleArguments arguments = throttle_arguments(fcinfo);
  return BoolGetDatum(take_rate_token(arguments.key, arguments.per_minute, arguments.as_of, nullptr));
}

Datum throttle_detail(FunctionCallInfo fcinfo) {
  const ThrottleArguments arguments = throttle_arguments(fcinfo);
  int64 retry_after_us = 0;
  int64 remaining = 0;
  const bool admitted =
      take_rate_token(arguments.key, arguments.per_minute, arguments.as_of, &retry_after_us, &remaining);
  // Whole seconds, rounded up: an HTTP Retry-After of 0 would invite an immediate retry.
  const int64 retry_after_seconds = admitted ? 0 : (retry_after_us + USECS_PER_SEC - 1) / USECS_PER_SEC;
  const Datum values[3] = {BoolGetDatum(admitted), Int32GetDatum(static_cast<int32>(remaining)),
                           Int32GetDatum(static_cast<int32>(retry_after_seconds))};
  const bool nulls[3] = {false, false, false};
  return record_datum(fcinfo, values, nulls);
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_throttle, billing::pg::throttle)
BILLING_SQL_FUNCTION(billing_throttle_detail, billing::pg::throttle_detail)
