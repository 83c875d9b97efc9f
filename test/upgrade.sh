#!/usr/bin/env bash
# For every released version V (extension/history/): install V, load the demo data through V's
# own API (companies, plans, calls, appointments, payment methods, closed periods with invoices,
# a late call, a viewer mapping, audit rows), ALTER EXTENSION ... UPDATE to the newest, and
# compare with a fresh install of the newest loaded with the same data:
#   * every object of the extension (test/upgrade/catalog_fingerprint.sql: definitions,
#     privileges, policies, constraints, triggers, comments, row level security): identical;
#   * every figure (test/upgrade/figures.sql: usage documents, trends, history, period details,
#     CSV, rollup verification, viewer mappings): identical, and again once the rows have moved
#     from the default partitions into their monthly ones.
# Runs against the cluster in PGHOST/PGPORT.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(sed -n "s/^default_version = '\(.*\)'/\1/p" company_billing.control)
load() {  # load DB: the demo data, then what only an upgrade test needs
  psql -X -q -d "$1" -c "ALTER DATABASE \"$1\" SET billing.audit = off" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f demo/demo_data.sql >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f test/upgrade/extra_data.sql >/dev/null
}
fingerprint() { psql -X -q -d "$1" -f test/upgrade/catalog_fingerprint.sql; }
figures() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f test/upgrade/figures.sql; }
fresh_install() {
  dropdb --if-exists "$1" 2>/dev/null; createdb "$1"
  psql -X -q -d "$1" -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
}
fresh_install upgrade_fresh
fingerprint upgrade_fresh >build/upgrade_fresh.schema
load upgrade_fresh
figures upgrade_fresh >build/upgrade_fresh.figures
status=0
versions=$(for script in extension/history/company_billing--*.sql; do
  basename "$script" .sql | sed -e 's/^company_billing--//' -e 's/--.*//'
done | sort -u -V)
for version in $versions; do
  db="upgrade_from_$version"
  dropdb --if-exists "$db" 2>/dev/null; createdb "$db"
  psql -X -q -d "$db" -c "CREATE EXTENSION company_billing VERSION '$version' CASCADE" 2>/dev/null
  load "$db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER EXTENSION company_billing UPDATE TO '$newest'"
  fingerprint "$db" >"build/$db.schema"
  figures "$db" >"build/$db.figures"
  # The rows wait in the default partitions until ensure_periods() moves them into their
  # months (the partitions alone here: ensure_periods() would also store newer periods).
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SELECT billing._ensure_raw_partitions(now())" >/dev/null
  figures "$db" >"build/$db.moved.figures"
  for kind in schema figures moved.figures; do
    if diff -u "build/upgrade_fresh.${kind#moved.}" "build/$db.$kind" >"build/$db.$kind.diff"; then
      echo "$version -> $newest: $kind identical to a fresh $newest ($(wc -l <"build/$db.$kind") lines)"
    else
      echo "$version -> $newest: $kind differs from a fresh $newest:"; head -n 40 "build/$db.$kind.diff"; status=1
    fi
  done
done
exit $status
