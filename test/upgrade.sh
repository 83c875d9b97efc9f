#!/usr/bin/env bash
# Installs every released version (each V of extension/company_billing--V.sql and of
# company_billing--V--W.sql: PostgreSQL installs V through its upgrade path), updates it to the newest
# with ALTER EXTENSION ... UPDATE, and compares the resulting objects with a fresh install of the
# newest version: no difference allowed. Runs against the cluster in PGHOST/PGPORT.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=$(sed -n "s/^default_version = '\(.*\)'/\1/p" company_billing.control)
schema_of() {
  # (\restrict lines carry a random key per dump)
  pg_dump --schema-only --no-owner -d "$1" | grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' | sed '/^$/d'
}
dropdb --if-exists upgrade_fresh 2>/dev/null
createdb upgrade_fresh
psql -X -q -d upgrade_fresh -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
schema_of upgrade_fresh >build/upgrade_fresh.sql
status=0
versions=$(for script in extension/company_billing--*.sql; do
  basename "$script" .sql | sed -e 's/^company_billing--//' -e 's/--.*//'
done | sort -u -V)
for version in $versions; do
  dropdb --if-exists "upgrade_from_$version" 2>/dev/null
  createdb "upgrade_from_$version"
  psql -X -q -d "upgrade_from_$version" -c "CREATE EXTENSION company_billing VERSION '$version' CASCADE" 2>/dev/null
  psql -X -q -d "upgrade_from_$version" -c "ALTER EXTENSION company_billing UPDATE TO '$newest'"
  schema_of "upgrade_from_$version" >"build/upgrade_from_$version.sql"
  if diff -u build/upgrade_fresh.sql "build/upgrade_from_$version.sql" >"build/upgrade_from_$version.diff"; then
    echo "$version -> $newest: identical to a fresh $newest"
  else
    echo "$version -> $newest differs from a fresh $newest:"; head -n 50 "build/upgrade_from_$version.diff"; status=1
  fi
done
exit $status
