# company_billing: the PostgreSQL extension, built with PGXS.
#   make && make install         build and install into the pg_config found on PATH
#   make installcheck            pg_regress suite against a running server (see scripts/test.sh)
# company_billing_router (router/): the shard router's API on PL/Proxy, SQL only.
EXTENSION = company_billing company_billing_router
MODULE_big = company_billing
# The current version's install script is built from extension/src/ (one area a file); the
# released scripts (and the upgrade scripts to this version) are in extension/history/.
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" company_billing.control)
CURRENT_SCRIPT = extension/company_billing--$(EXTVERSION).sql
DATA = $(wildcard extension/history/*.sql) $(wildcard router/company_billing_router--*.sql)
DATA_built = $(CURRENT_SCRIPT)
EXTRA_CLEAN = $(CURRENT_SCRIPT)

CORE_OBJS = $(patsubst %.cpp,%.o,$(wildcard src/core/*.cpp))
GLUE_OBJS = $(patsubst %.cpp,%.o,$(wildcard src/pg/*.cpp))
OBJS = $(CORE_OBJS) $(GLUE_OBJS)

# The pg_regress suite: test/regress/sql/<name>.sql against test/regress/expected/<name>.out, in
# the order of test/regress/schedule.
REGRESS = $(shell sed -e '/^\#/d' test/regress/schedule)
REGRESS_OPTS = --inputdir=test/regress --load-extension=btree_gist
# Isolation specs (test/isolation/specs/, test/isolation/expected/): concurrent ingestion,
# closing and reading.
ISOLATION = $(basename $(notdir $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=btree_gist --load-extension=company_billing

PG_CPPFLAGS = -I$(srcdir)/src
# -Wno-register: PostgreSQL 15's atomics headers use `register`, which C++17 dropped.
PG_CXXFLAGS = -std=c++17 -fvisibility=hidden -Wno-maybe-uninitialized -Wno-register
SHLIB_LINK = -lstdc++

# Debian's PostgreSQL is built --with-llvm, so PGXS would also compile every file to LLVM
# bitcode for JIT inlining. That needs clang++ and brings nothing here: our functions are
# called through fmgr, never inlined into JIT-compiled expressions. Switched off on purpose.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# src/core/ is compiled WITHOUT the server's include directories, so an
# `#include "postgres.h"` there is a compile error: the core stays pure C++.
src/core/%.o: src/core/%.cpp
	$(CXX) $(filter-out -I%,$(CPPFLAGS)) -I$(srcdir)/src $(CXXFLAGS) -c -o $@ $<

$(OBJS): $(wildcard src/core/*.h src/pg/*.h)

$(CURRENT_SCRIPT): $(sort $(wildcard extension/src/*.sql)) company_billing.control
	cat $(sort $(wildcard extension/src/*.sql)) >$@
