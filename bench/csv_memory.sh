#!/usr/bin/env bash
# Measures the backend's peak private memory (RssAnon, sampled every 20 ms from /proc) while it
# exports a period of N calls (default 1,000,000) as CSV, three ways:
#   lines   SELECT count(*) FROM billing.period_csv_lines(...)     (streamed through a tuplestore)
#   copy    COPY (SELECT * FROM billing.period_csv_lines(...)) TO STDOUT   (what a download does)
#   text    SELECT length(billing.period_csv(...))                  (the whole file as one text)
#   nojit   lines, with jit = off
# Usage: bash bench/csv_memory.sh [calls]       (Linux, run as root or the cluster owner)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
calls=${1:-1000000}

ensure_packages
build_and_install
start_cluster csv-memory -c shared_buffers=256MB -c work_mem=4MB
createdb bench
export PGDATABASE=bench
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
log "loading $calls calls into one period"
psql -X -q <<SQL
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Big Caller', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (1, 'combined', 0.10, 2.00, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-06-01', '2025-06-30');
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 1, 'call-' || i, timestamptz '2025-06-01 00:00 Europe/Berlin' + (i * (2592000.0 / $calls)) * interval '1 second',
       30 + i % 600, CASE WHEN i % 10 = 0 THEN 'missed' ELSE 'completed' END
  FROM generate_series(1, $calls) AS i;
VACUUM ANALYZE billing.calls;
SQL

# measure NAME SQL: runs SQL in a fresh backend and prints its peak RssAnon in kB.
measure() {
  local name=$1 sql=$2 pid peak=0 rss
  psql -X -q -c "SET application_name = 'csv_memory'; $sql" >/dev/null &
  local client=$!
  pid=""
  for _ in $(seq 1 200); do
    pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'csv_memory' LIMIT 1")
    [ -n "$pid" ] && break
    sleep 0.01
  done
  local start=$SECONDS
  while kill -0 "$client" 2>/dev/null; do
    if [ -n "$pid" ] && rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null); then
      [ -n "$rss" ] && [ "$rss" -gt "$peak" ] && peak=$rss
    fi
    sleep 0.02
  done
  wait "$client"
  printf '%-6s %10d kB peak RssAnon  %4d s   %s\n' "$name" "$peak" $((SECONDS - start)) "$sql"
}

log "peak backend memory while exporting $calls calls"
measure idle "SELECT pg_sleep(1)"
measure lines "SELECT count(*) FROM billing.period_csv_lines(1)"
# JIT (on by default, used above 100,000 estimated rows) loads LLVM: a fixed ~10 MB, not per row.
measure nojit "SET jit = off; SELECT count(*) FROM billing.period_csv_lines(1)"
measure copy "COPY (SELECT * FROM billing.period_csv_lines(1)) TO STDOUT"
measure text "SELECT length(billing.period_csv(1))"
psql -X -At -c "SELECT 'csv size: ' || pg_size_pretty(sum(length(l) + 2)) FROM billing.period_csv_lines(1) l"
