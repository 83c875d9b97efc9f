#include "core/token_bucket.h"

namespace billing {
namespace {
constexpr int64_t kMicrosPerMinute = 60LL * 1000 * 1000;
}  // namespace

TokenBucket new_bucket(int64_t per_minute, int64_t now_us) {
  return TokenBucket{per_minute * kMicroPerToken, now_us};
}

bool take_token(TokenBucket& bucket, int64_t per_minute, int64_t now_us, int64_t* retry_after_us) {
  const int64_t capacity = per_minute * kMicroPerToken;
  if (now_us > bucket.last_refill_us) {
    // per_minute tokens a minute are per_minute micro-tokens every 60 microseconds. A full
    // minute or more refills everything, so the product below stays far from overflow.
    const int64_t elapsed = now_us - bucket.last_refill_us;
    const int64_t whole_minutes = elapsed / kMicrosPerMinute;
    const int64_t rest = elapsed % kMicrosPerMinute;
    if (whole_minutes >= 1) {
      bucket.micro_tokens = capacity;
    } else {
      bucket.micro_tokens += rest * per_minute / 60;
      if (bucket.micro_tokens > capacity) bucket.micro_tokens = capacity;
    }
    bucket.last_refill_us = now_us;
  }
  if (bucket.micro_tokens > capacity) bucket.micro_tokens = capacity;  // the limit was lowered
  if (bucket.micro_tokens >= kMicroPerToken) {
    bucket.micro_tokens -= kMicroPerToken;
    return true;
  }
  if (retry_after_us != nullptr) {
    const int64_t missing = kMicroPerToken - bucket.micro_tokens;
    // Time for `missing` micro-tokens at per_minute tokens a minute, rounded up.
    *retry_after_us = (missing * 60 + per_minute - 1) / per_minute;
  }
  return false;
}

bool bucket_is_full(const TokenBucket& bucket, int64_t per_minute, int64_t now_us) {
  if (now_us < bucket.last_refill_us) return false;
  TokenBucket refilled = bucket;
  // Refilling is take_token's first step; a probe copy shows what taking one token leaves.
  if (!take_token(refilled, per_minute, now_us, nullptr)) return false;
  return refilled.micro_tokens + kMicroPerToken >= per_minute * kMicroPerToken;
}

}  // namespace billing
