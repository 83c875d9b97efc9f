#include "core/local_day.h"

#include <gtest/gtest.h>

namespace billing {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// A local midnight far from the epoch; the rules are plain arithmetic, so any will do.
constexpr int64_t kMidnight = 20000 * kDay;
constexpr int64_t kLongAgo = kMidnight - 5 * kDay;

// The brute-force answer: every second from two days before to three days after, read on the
// clock the segments describe.
LocalDayBounds by_every_second(const std::vector<OffsetSegment>& segments, int64_t midnight) {
  auto local = [&](int64_t t) {
    int64_t offset = segments.front().offset_seconds;
    for (const OffsetSegment& segment : segments)
      if (segment.from <= t) offset = segment.offset_seconds;
    return t + offset;
  };
  auto local_day = [&](int64_t t) {
    const int64_t clock = local(t);
    return clock >= 0 ? clock / kDay : (clock - kDay + 1) / kDay;
  };
  const int64_t day = midnight / kDay;
  int64_t first = INT64_MAX, after_last = INT64_MIN;
  for (int64_t t = midnight - 2 * kDay; t < midnight + 3 * kDay; t += 60) {
    if (first == INT64_MAX && local_day(t) >= day) first = t;
    if (local_day(t) <= day) after_last = t + 60;
  }
  if (after_last < first) after_last = first;
  return {first, after_last};
}

void expect_bounds(const std::vector<OffsetSegment>& segments, int64_t first, int64_t after_last) {
  const LocalDayBounds bounds = local_day_bounds(segments, kMidnight);
  EXPECT_EQ(bounds.first, first);
  EXPECT_EQ(bounds.after_last, after_last);
  const LocalDayBounds brute = by_every_second(segments, kMidnight);
  EXPECT_EQ(bounds.first, brute.first);
  EXPECT_EQ(bounds.after_last, brute.after_last);
}

TEST(LocalDayBounds, FixedOffsetIsMidnightToMidnight) {
  expect_bounds({{kLongAgo, 2 * kHour}}, kMidnight - 2 * kHour, kMidnight + kDay - 2 * kHour);
  expect_bounds({{kLongAgo, -5 * kHour}}, kMidnight + 5 * kHour, kMidnight + kDay + 5 * kHour);
}

TEST(LocalDayBounds, MidnightThatRepeatsStartsAtTheFirstOne) {
  // America/Havana: at 01:00 (UTC-4) the clock goes back to 00:00 (UTC-5).
  const int64_t change = kMidnight + 1 * kHour + 4 * kHour;
  expect_bounds({{kLongAgo, -4 * kHour}, {change, -5 * kHour}}, kMidnight + 4 * kHour, kMidnight + kDay + 5 * kHour);
}

TEST(LocalDayBounds, ClockBackAcrossMidnightOverlapsTheDayBefore) {
  // America/St_Johns until 2011: at 00:01 (UTC-2:30) back to 23:01 of the day before (UTC-3:30).
  const int64_t change = kMidnight + 60 + 2 * kHour + 30 * 60;
  const std::vector<OffsetSegment> segments = {{kLongAgo, -(2 * kHour + 30 * 60)}, {change, -(3 * kHour + 30 * 60)}};
  expect_bounds(segments, kMidnight + 2 * kHour + 30 * 60, kMidnight + kDay + 3 * kHour + 30 * 60);
  // The day before ends after its repeated hour, later than this day's start.
  const LocalDayBounds before = local_day_bounds(segments, kMidnight - kDay);
  EXPECT_EQ(before.after_last, kMidnight + 3 * kHour + 30 * 60);
}

TEST(LocalDayBounds, GapOverMidnightStartsAtTheChange) {
  // At 23:30 (UTC+1) forward to 00:30 (UTC+2): the day starts at the change.
  const int64_t change = kMidnight - 30 * 60 - kHour;
  expect_bounds({{kLongAgo, kHour}, {change, 2 * kHour}}, change, kMidnight + kDay - 2 * kHour);
}

TEST(LocalDayBounds, MidnightThatNeverHappensStartsAtTheChange) {
  // At 00:00 (UTC-4) forward to 01:00 (UTC-3).
  const int64_t change = kMidnight + 4 * kHour;
  expect_bounds({{kLongAgo, -4 * kHour}, {change, -3 * kHour}}, change, kMidnight + kDay + 3 * kHour);
}

TEST(LocalDayBounds, SkippedDayHasNoInstant) {
  // Pacific/Apia, 29 December 2011 24:00 (UTC-10) became 31 December 00:00 (UTC+14).
  const int64_t change = kMidnight + 10 * kHour;
  expect_bounds({{kLongAgo, -10 * kHour}, {change, 14 * kHour}}, change, change);
}

TEST(LocalDayBounds, DayTwiceAsLongWhenTheClockGoesBackADay) {
  // Kwajalein the other way: 24 hours back at noon.
  const int64_t change = kMidnight + 12 * kHour;
  expect_bounds({{kLongAgo, 0}, {change, -24 * kHour}}, kMidnight, kMidnight + 2 * kDay);
}

TEST(LocalDayBounds, AgreesWithEverySecondOnRandomClocks) {
  uint64_t state = 42;
  auto next = [&](int64_t limit) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(limit));
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<OffsetSegment> segments = {{kLongAgo, (next(29) - 14) * kHour}};
    int64_t at = kMidnight - kDay - 12 * kHour;
    for (int changes = next(4); changes > 0; --changes) {
      at += next(30) * kHour + next(4) * 15 * 60 + next(2) * 60;
      segments.push_back({at, segments.back().offset_seconds + (next(5) - 2) * 30 * 60});
    }
    const LocalDayBounds bounds = local_day_bounds(segments, kMidnight);
    const LocalDayBounds brute = by_every_second(segments, kMidnight);
    ASSERT_EQ(bounds.first, brute.first) << "round " << round;
    ASSERT_EQ(bounds.after_last, brute.after_last) << "round " << round;
  }
}

}  // namespace
}  // namespace billing
