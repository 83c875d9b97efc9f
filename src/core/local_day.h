// The instants of a company-local calendar day. A call belongs to the local date of its start
// (docs/design.md, "Billing rules"); the reads that select raw rows by time need that day as a
// range of instants. Where clocks go back across midnight (America/Havana and Atlantic/Azores
// from 01:00 to 00:00) the day begins at the first of two midnights; where they go back from
// 00:01 to 23:01 (America/St_Johns until 2011) a day's first minute comes before the repeated
// last hour of the day before; where a day is skipped (Pacific/Apia, 30 December 2011) it has no
// instant at all. Instants are seconds since 1970-01-01 UTC; local times are the same count on
// the local clock.
#pragma once

#include <cstdint>
#include <vector>

#include "core/pure.h"

namespace billing {

// From `from` on, until the next segment's `from`, the local clock reads UTC + offset_seconds.
struct OffsetSegment {
  int64_t from;
  int64_t offset_seconds;
};

struct LocalDayBounds {
  int64_t first;       // the earliest instant whose local date is the day or later
  int64_t after_last;  // just after the latest instant whose local date is the day or earlier
};

// `segments` are ordered by `from`; the first one must start at least 26 hours before the day's
// local midnight and the last one must reach 50 hours past it, so that no clock in between is
// missing. `local_midnight` is the day's 00:00 in local seconds.
// An instant t belongs to the day exactly when its local date is the day; every such instant
// lies in [first, after_last), and for every day whose clock never goes back across its
// midnights, the range holds nothing else and after_last equals the next day's first.
LocalDayBounds local_day_bounds(const std::vector<OffsetSegment>& segments, int64_t local_midnight);

}  // namespace billing
