// Billing periods derived from a company's anchor day (docs/design.md), as
// billing.period_for() computes them where no stored period contains the day. Dates are day
// numbers counted from 2000-01-01, PostgreSQL's date epoch, so the glue passes DateADT values as
// they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/pure.h"

namespace billing {

// A proleptic Gregorian date; year 0 is 1 BC, as PostgreSQL counts internally.
struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

int64_t day_number(const CivilDate& date);
CivilDate civil_date(int64_t day_number);

// A calendar date written "YYYY-MM-DD" (a date in a URL), year 1 to 9999, a day its month has;
// nothing for anything else.
std::optional<CivilDate> parse_iso_date(std::string_view text);

struct DayRange {
  int64_t first;  // inclusive
  int64_t last;   // inclusive
};

// The period containing `day` when no stored period does: from the anchor day of day's month (of
// the month before, when day comes earlier in the month) to the day before the next month's
// anchor day, starting after `previous_stored_end` and ending before `next_stored_start` where
// those stored periods reach into it. `anchor_day` must be within 1..28, so every month has it.
DayRange derived_period(int64_t day, int anchor_day, std::optional<int64_t> previous_stored_end,
                        std::optional<int64_t> next_stored_start);

}  // namespace billing
