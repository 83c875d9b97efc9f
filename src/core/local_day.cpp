#include "core/local_day.h"

#include <algorithm>
#include <limits>

namespace billing {

LocalDayBounds local_day_bounds(const std::vector<OffsetSegment>& segments, int64_t local_midnight) {
  constexpr int64_t kDay = 86400;
  constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();
  const int64_t next_midnight = local_midnight + kDay;
  int64_t first = kOpen;
  int64_t after_last = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < segments.size(); ++i) {
    const int64_t from = segments[i].from, offset = segments[i].offset_seconds;
    const int64_t until = i + 1 < segments.size() ? segments[i + 1].from : kOpen;
    if (until <= from) continue;
    // Within a segment the local clock only moves forward: its first instant at or past the
    // midnight, and its last instant before the next midnight.
    if (first == kOpen) {
      if (from + offset >= local_midnight)
        first = from;
      else if (local_midnight - offset < until)
        first = local_midnight - offset;
    }
    if (from + offset < next_midnight) after_last = std::max(after_last, std::min(until, next_midnight - offset));
  }
  if (first == kOpen) first = after_last;  // unreachable with segments that cover the window
  // A day without instants: both bounds at the jump over it.
  if (after_last < first) after_last = first;
  return {first, after_last};
}

}  // namespace billing
