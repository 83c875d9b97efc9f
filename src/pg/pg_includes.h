// The one place that includes PostgreSQL's server headers into C++.
#pragma once

// PostgreSQL 15 leaves PGDLLEXPORT empty on Linux; the library is built with hidden
// visibility, so the entry points and the module magic must be exported explicitly.
#define PGDLLEXPORT __attribute__((visibility("default")))
// Lets glue files include core headers after the server headers (see core/pure.h).
#define BILLING_PG_GLUE 1

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}
