// Included by every header of src/core/. The core is plain C++ that must build and be tested
// without a PostgreSQL server: the build compiles src/core/ without the server's include path
// (so `#include "postgres.h"` fails there), and this guard catches a core header that is
// included after postgres.h from a file that pulled server headers in on its own.
#pragma once

#if defined(PG_VERSION_NUM) && !defined(BILLING_PG_GLUE)
#error "src/core/ must not depend on postgres.h; put PostgreSQL code in src/pg/"
#endif
