#include "core/period.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace billing {
namespace {

int64_t day(int64_t year, int month, int day_of_month) { return day_number(CivilDate{year, month, day_of_month}); }

TEST(CivilDate, CountsFromPostgresEpoch) {
  EXPECT_EQ(day(2000, 1, 1), 0);
  EXPECT_EQ(day(2026, 11, 24), 9824);
  EXPECT_EQ(day(2024, 2, 29), 8825);
  EXPECT_EQ(day(1999, 12, 31), -1);
  EXPECT_EQ(day(1, 1, 1), -730119);
  EXPECT_EQ(day(0, 3, 1), -730425);        // 0001-03-01 BC
  EXPECT_EQ(day(-4713, 11, 24), -2451545);  // PostgreSQL's first date, 4714-11-24 BC
}

TEST(CivilDate, RoundTripsEveryDayOverTenThousandYears) {
  for (int64_t n = day(-4713, 11, 24); n < day(5874897, 12, 31); n += 1) {
    const CivilDate date = civil_date(n);
    ASSERT_EQ(day_number(date), n);
    ASSERT_GE(date.month, 1);
    ASSERT_LE(date.month, 12);
    ASSERT_GE(date.day, 1);
    ASSERT_LE(date.day, 31);
    if (n > day(12000, 1, 1)) n += 997;  // sparser far out; the cycle repeats every 400 years
  }
}

TEST(DerivedPeriod, StartsOnTheAnchorDayOfTheMonth) {
  const DayRange period = derived_period(day(2026, 11, 24), 1, std::nullopt, std::nullopt);
  EXPECT_EQ(period.first, day(2026, 11, 1));
  EXPECT_EQ(period.last, day(2026, 11, 30));
}

TEST(DerivedPeriod, BeforeTheAnchorDayBelongsToTheMonthBefore) {
  const DayRange january = derived_period(day(2027, 1, 10), 15, std::nullopt, std::nullopt);
  EXPECT_EQ(january.first, day(2026, 12, 15));
  EXPECT_EQ(january.last, day(2027, 1, 14));
  const DayRange february = derived_period(day(2024, 3, 27), 28, std::nullopt, std::nullopt);
  EXPECT_EQ(february.first, day(2024, 2, 28));
  EXPECT_EQ(february.last, day(2024, 3, 27));
  const DayRange on_anchor = derived_period(day(2024, 12, 28), 28, std::nullopt, std::nullopt);
  EXPECT_EQ(on_anchor.first, day(2024, 12, 28));
  EXPECT_EQ(on_anchor.last, day(2025, 1, 27));
}

TEST(DerivedPeriod, IsClippedByStoredPeriodsReachingIntoIt) {
  const DayRange clipped = derived_period(day(2025, 8, 2), 1, day(2025, 7, 31), day(2025, 8, 5));
  EXPECT_EQ(clipped.first, day(2025, 8, 1));
  EXPECT_EQ(clipped.last, day(2025, 8, 4));
  const DayRange late_start = derived_period(day(2025, 8, 20), 1, day(2025, 8, 10), day(2025, 9, 3));
  EXPECT_EQ(late_start.first, day(2025, 8, 11));
  EXPECT_EQ(late_start.last, day(2025, 8, 31));
}

TEST(DerivedPeriod, RefusesAnAnchorDayNotInEveryMonth) {
  EXPECT_THROW(derived_period(0, 29, std::nullopt, std::nullopt), BillingError);
  EXPECT_THROW(derived_period(0, 0, std::nullopt, std::nullopt), BillingError);
}

TEST(ParseIsoDate, AcceptsCalendarDatesOnly) {
  const std::optional<CivilDate> leap = parse_iso_date("2024-02-29");
  ASSERT_TRUE(leap);
  EXPECT_EQ(leap->year, 2024);
  EXPECT_EQ(leap->month, 2);
  EXPECT_EQ(leap->day, 29);
  EXPECT_TRUE(parse_iso_date("0001-01-01"));
  EXPECT_TRUE(parse_iso_date("9999-12-31"));
  for (const char* bad : {"2025-02-29", "2100-02-29", "2025-02-30", "2025-04-31", "2025-13-01", "2025-00-10",
                          "2025-01-00", "0000-01-01", "2025-1-01", "2025-01-1", "20250101", "2025/01/01",
                          "+025-01-01", "2025-01-01 ", " 2025-01-01", "2025-0a-01", "", "2025-01-01T00"})
    EXPECT_FALSE(parse_iso_date(bad)) << bad;
}

}  // namespace
}  // namespace billing
