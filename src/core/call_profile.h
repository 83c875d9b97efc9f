// The shape of a company's calls over a day, for the analytics (billing.usage_analytics): calls
// and seconds per company-local hour, and completed calls per call length bucket. The rollup
// trigger keeps one such profile per company, local day and slot (billing.usage_profile); the
// buckets are fixed here, once, so that a median is exact to its bucket: "at least 2:00 and
// below 2:05" is a true statement about the calls, where an interpolated 2:02 would be a guess.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/pure.h"

namespace billing {

constexpr int kHoursPerDay = 24;

// Call lengths in seconds, [from, below): 5 s steps below 2 minutes, 15 s steps to 10 minutes,
// 1 minute steps to 30 minutes, 5 minute steps to an hour, then one bucket up to the longest
// call a row may hold (604,800 s, a week).
struct LengthRange {
  int64_t from;
  int64_t below;
};
constexpr int kCallLengthBuckets = 24 + 32 + 20 + 6 + 1;
constexpr int64_t kLongestCallSeconds = 604800;

// The bucket of a call of `seconds` (0 to kLongestCallSeconds); nullopt outside that range.
std::optional<int> call_length_bucket(int64_t seconds);
LengthRange call_length_range(int bucket);  // bucket in [0, kCallLengthBuckets)

// Where the median of the counted calls lies: with n calls, the lower middle one (rank
// floor((n + 1) / 2)) is at least `from` and the upper middle one (rank floor(n / 2) + 1) is
// below `below`; nullopt when nothing is counted. Negative counts are treated as zero.
std::optional<LengthRange> median_length_range(const std::array<int64_t, kCallLengthBuckets>& counts);

}  // namespace billing
