// The rate limiter's arithmetic: a token bucket of `per_minute` tokens that refills at
// per_minute tokens a minute. Integer micro-tokens, so the state is a plain struct that can live
// in PostgreSQL shared memory and behaves identically on every backend.
#pragma once

#include <cstdint>

#include "core/pure.h"

namespace billing {

struct TokenBucket {
  int64_t micro_tokens;    // tokens * 1,000,000
  int64_t last_refill_us;  // the instant of the last refill, microseconds
};

inline constexpr int64_t kMicroPerToken = 1000000;
inline constexpr int64_t kMaxPerMinute = 1000000;

// A full bucket for a key seen for the first time at `now_us`.
TokenBucket new_bucket(int64_t per_minute, int64_t now_us);

// Refills the bucket up to `now_us` (time never runs backwards: an earlier instant refills
// nothing) and takes one token if there is one. On refusal, `retry_after_us` (if given) is how
// long until the next token. `per_minute` must be within [1, kMaxPerMinute].
bool take_token(TokenBucket& bucket, int64_t per_minute, int64_t now_us, int64_t* retry_after_us);

// True when the bucket has refilled to its capacity by `now_us`: it then holds no state that a
// new bucket would not (the limiter may forget it). A bucket last touched after `now_us` is not.
bool bucket_is_full(const TokenBucket& bucket, int64_t per_minute, int64_t now_us);

}  // namespace billing
