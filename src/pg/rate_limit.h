// The shared-memory token-bucket limiter (needs the library in shared_preload_libraries).
#pragma once

#include <string>

#include "pg/pg_includes.h"

namespace billing::pg {

// Takes a token for the billing.throttle() key `key` at `per_minute` as of `now`; false when
// the bucket is empty, with the wait until the next token in `retry_after_us`; `remaining` (if
// given) receives the whole tokens left. Throws when the limiter is not available.
bool take_rate_token(const std::string& key, int64 per_minute, TimestampTz now, int64* retry_after_us,
                     int64* remaining = nullptr);

// Raises SQLSTATE RL429 ("rate limit exceeded", detail: when to retry) when the viewer role
// `role` is over its limit. Does nothing when the library is not preloaded (the limiter is off).
// Viewer buckets are kept apart from throttle()'s keys.
void enforce_viewer_rate_limit(Oid role, int64 per_minute);

}  // namespace billing::pg
