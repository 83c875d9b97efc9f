// The audit of API reads (src/pg/audit.cpp).
#pragma once

#include <string>

#include "pg/pg_includes.h"

namespace billing::pg {

// What happens to an API read in the current database.
enum class AuditMode {
  kAudited,      // queued for the audit writer
  kRefused,      // the audit writer serves another database: the read is refused
  kOff,          // billing.audit = off: not audited
  kUnavailable,  // the library is not preloaded: not audited
};
AuditMode audit_mode();
const char* audit_mode_name(AuditMode mode);

// A viewer's call costs a token of its rate limit (RL429 when there is none left).
void limit_viewer();

// Refuses the read with 55000 where it could not be audited, else queues an audit entry for the
// read of `company` through `function_name` (nothing when the audit is off or unavailable). No
// write in the caller's transaction.
void queue_audit(int64 company, const std::string& function_name);

}  // namespace billing::pg
