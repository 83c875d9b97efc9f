#include "core/period.h"

#include <string>

#include "core/errors.h"

namespace billing {
namespace {

// Day numbers of 0000-03-01 and 2000-01-01 counted from 0000-03-01 (starting years in March puts
// the leap day last), and the days of a 400-year cycle.
constexpr int64_t kDaysToEpoch = 730425;
constexpr int64_t kDaysPerCycle = 146097;

int64_t floor_div(int64_t value, int64_t divisor) {
  return value / divisor - (value % divisor != 0 && (value < 0) != (divisor < 0));
}

CivilDate month_later(CivilDate date, int months) {
  const int64_t index = date.year * 12 + (date.month - 1) + months;
  date.year = floor_div(index, 12);
  date.month = static_cast<int>(index - date.year * 12) + 1;
  return date;
}

}  // namespace

int64_t day_number(const CivilDate& date) {
  const int64_t year = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t cycle = floor_div(year, 400);
  const int64_t year_of_cycle = year - cycle * 400;
  const int64_t month_from_march = (date.month + 9) % 12;
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + date.day - 1;
  const int64_t day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
  return cycle * kDaysPerCycle + day_of_cycle - kDaysToEpoch;
}

CivilDate civil_date(int64_t day_number) {
  const int64_t days = day_number + kDaysToEpoch;
  const int64_t cycle = floor_div(days, kDaysPerCycle);
  const int64_t day_of_cycle = days - cycle * kDaysPerCycle;
  const int64_t year_of_cycle =
      (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;
  const int64_t day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;
  CivilDate date;
  date.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  date.month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  date.year = year_of_cycle + cycle * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

std::optional<CivilDate> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int64_t fields[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f)
    for (size_t i = starts[f]; i < starts[f] + lengths[f]; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      fields[f] = fields[f] * 10 + (text[i] - '0');
    }
  const CivilDate date{fields[0], static_cast<int>(fields[1]), static_cast<int>(fields[2])};
  if (date.year < 1 || date.month < 1 || date.month > 12 || date.day < 1 || date.day > 31) return std::nullopt;
  const CivilDate round_trip = civil_date(day_number(date));  // 2025-02-30 comes back as March 2
  if (round_trip.year != date.year || round_trip.month != date.month || round_trip.day != date.day) return std::nullopt;
  return date;
}

DayRange derived_period(int64_t day, int anchor_day, std::optional<int64_t> previous_stored_end,
                        std::optional<int64_t> next_stored_start) {
  if (anchor_day < 1 || anchor_day > 28)
    throw BillingError(sqlstate::kInvalidParameterValue,
                       "billing anchor day must be between 1 and 28, not " + std::to_string(anchor_day));
  CivilDate start = civil_date(day);
  if (start.day < anchor_day) start = month_later(start, -1);
  start.day = anchor_day;
  DayRange period{day_number(start), day_number(month_later(start, 1)) - 1};
  if (previous_stored_end && *previous_stored_end >= period.first) period.first = *previous_stored_end + 1;
  if (next_stored_start && *next_stored_start <= period.last) period.last = *next_stored_start - 1;
  return period;
}

}  // namespace billing
