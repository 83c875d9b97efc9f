// The audit of API reads (src/pg/audit.cpp).
#pragma once

#include <string>

#include "pg/pg_includes.h"

namespace billing::pg {

// Rate-limits `throttle_key` (a viewer role; nullptr: not limited) at billing.viewer_rate_limit,
// raising RL429 when it is over, then queues an audit entry for the read of `company` through
// `function_name`. No write in the caller's transaction.
void audit_read(int64 company, const std::string& function_name, const std::string* throttle_key);

}  // namespace billing::pg
