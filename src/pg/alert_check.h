// Usage alerts evaluated in the transaction that changes the usage (docs/alerts.md).
#pragma once

#include "pg/pg_includes.h"

namespace billing::pg {

// The rollup trigger reports each company-day's net change of the statement: the alert check
// at commit looks at the companies changed.
void note_usage_change(int64 company, DateADT day, int64 seconds, int64 appointments);

// Registers the transaction callbacks (from _PG_init).
void register_alert_callbacks();

}  // namespace billing::pg
