// billing.throttle(key text, per_minute integer, as_of timestamptz) -> boolean
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

bool take_rate_token(const std::string& key, int64 per_minute, TimestampTz now, int64* retry_after_us) {
  const SharedState* shared = shared_state();
  if (shared == nullptr)
    throw BillingError("55000", "the rate limiter needs company_billing in shared_preload_libraries");
  if (per_minute < 1 || per_minute > kMaxPerMinute)
    throw BillingError(sqlstate::kInvalidParameterValue, "per_minute must be between 1 and 1000000");
  const uint64 hashed = hash_bytes_extended(reinterpret_cast<const unsigned char*>(key.data()),
                                            static_cast<int>(key.size()), 0x62696c6c);
  const int64 now_us = static_cast<int64>(now);
  bool admitted = true;
  bool table_full = false;
  call([&] {
    LWLockAcquire(shared->limiter_lock, LW_EXCLUSIVE);
    bool found = false;
    auto* entry = static_cast<LimiterEntry*>(
        hash_search(shared->limiter, &hashed, HASH_ENTER_NULL, &found));
    if (entry == nullptr) {
      table_full = true;
    } else {
      if (!found) entry->bucket = new_bucket(per_minute, now_us);
      admitted = take_token(entry->bucket, per_minute, now_us, retry_after_us);
    }
    LWLockRelease(shared->limiter_lock);
  });
  if (table_full)
    throw BillingError("53400", "the rate limiter tracks billing.rate_limit_keys keys and is full");
  return admitted;
}

void enforce_rate_limit(const std::string& key, int64 per_minute) {
  if (shared_state() == nullptr) return;
  int64 retry_after_us = 0;
  if (take_rate_token(key, per_minute, GetCurrentTimestamp(), &retry_after_us)) return;
  char detail[128];
  snprintf(detail, sizeof detail, "Retry after %.1f seconds.",
           static_cast<double>(retry_after_us) / 1e6);
  throw BillingError(kRateLimitExceeded,
                     "rate limit of " + std::to_string(per_minute) + " calls a minute exceeded",
                     detail);
}

namespace {

Datum throttle(FunctionCallInfo fcinfo) {
  const std::string key = text_arg(fcinfo, 0);
  const int64 per_minute = PG_GETARG_INT32(1);
  const TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(2);
  if (TIMESTAMP_NOT_FINITE(as_of))
    throw BillingError("22008", "as_of must be a finite timestamp");
  return BoolGetDatum(take_rate_token(key, per_minute, as_of, nullptr));
}

}  // namespace
}  // namespace billing::pg

BILLING_SQL_FUNCTION(billing_throttle, billing::pg::throttle)
