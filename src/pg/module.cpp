// The library's identity for PostgreSQL's loader.
#include "pg/pg_includes.h"

extern "C" {
PG_MODULE_MAGIC;
}
