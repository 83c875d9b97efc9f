// The audit of API reads (src/pg/audit.cpp).
#pragma once

#include <optional>
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

// The same for a token authentication (src/pg/api_tokens.cpp): `company` is empty when the
// presented token id does not exist; `api_token` 0 when none is named.
void queue_audit(std::optional<int64> company, const std::string& function_name, int64 api_token);

// The API token this transaction authenticated: the audited reads that follow in the same
// transaction name it (and, through it, the end user). 0 when none.
void remember_authenticated_token(int64 api_token);

// Counts a failed token authentication in shared memory (runtime_status().token_failures),
// audited or not; nothing without preload.
void count_token_failure();
int64 authenticated_token();

}  // namespace billing::pg
