// The instants of a company-local day (core/local_day.h), from PostgreSQL's time zone rules.
#pragma once

#include <string>

#include "pg/pg_includes.h"

namespace billing::pg {

struct DayInstants {
  TimestampTz first;       // the earliest instant whose local date is the day or later
  TimestampTz after_last;  // just after the latest instant whose local date is the day or earlier
};

// Every instant whose local date (as `at AT TIME ZONE zone`) is `day` lies in
// [first, after_last); readers that need exactly the day also compare the local date.
DayInstants local_day_instants(DateADT day, const std::string& zone);

}  // namespace billing::pg
