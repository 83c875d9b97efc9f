#!/usr/bin/env bash
# Bulk ingestion into billing.calls against the same rows into a table with the same columns,
# idempotency key, CHECKs and foreign key but no partitions, keys table or rollup (checked_calls,
# bench/baseline_tables.sql), on a throwaway cluster:
#   1. COPY of BULK_ROWS calls (default 1,000,000) of one company, and of 2,000 companies;
#   2. record_calls() in batches of 1,000 against an INSERT ... SELECT of the same 1,000 rows
#      into checked_calls (pgbench, one client).
# Each COPY runs twice, alternating with its baseline; the table shows rows per second.
#   bash bench/bulk_ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
rows=${BULK_ROWS:-1000000}
seconds=${BENCH_SECONDS:-10}
ensure_packages
build_and_install
CLUSTER_PORT=54340 start_cluster bench_bulk -c shared_preload_libraries=company_billing -c billing.database=bulk \
  -c shared_buffers=512MB -c max_wal_size=8GB -c checkpoint_timeout=30min
work="$CLUSTER_DIR/files"
as_cluster_owner mkdir -p "$work"
createdb bulk
export PGDATABASE=bulk
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO billing.companies (id, name, timezone)
SELECT i, 'Company ' || i, (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC'])[1 + i % 4]
  FROM generate_series(1, 6001) AS i;
-- The baseline: billing.calls before 1.10, one table with the unique key, CHECKs and foreign key.
\i bench/baseline_tables.sql
-- The month's partitions.
SELECT billing.ensure_periods('2025-06-15 12:00+00') >= 0 AS partitions;
-- The files: one company's calls, and the same number spread over 2,000 companies; a month of
-- start times, 0 to 900 s, 7% missed. Company ids are shifted per run by the COPY below.
SELECT setseed(0.3);
COPY (SELECT 0 AS company_offset, 'bulk-' || i, timestamptz '2025-06-01 00:00+00' + random() * interval '30 days',
             (random() * 900)::int, CASE WHEN random() < 0.93 THEN 'completed' ELSE 'missed' END
        FROM generate_series(1, $rows) AS i) TO '$work/one.tsv';
COPY (SELECT i % 2000 AS company_offset, 'bulk-' || i, timestamptz '2025-06-01 00:00+00' + random() * interval '30 days',
             (random() * 900)::int, CASE WHEN random() < 0.93 THEN 'completed' ELSE 'missed' END
        FROM generate_series(1, $rows) AS i) TO '$work/many.tsv';
CREATE TEMP TABLE x ();
SQL
# copy_rate TABLE FILE FIRST_COMPANY: rows per second of one COPY (through a staging-free
# PROGRAM that rewrites the company offset), the table's new rows counted.
copy_rate() {
  local table=$1 file=$2 first=$3
  psql -X -q -c "CHECKPOINT" >/dev/null
  local start end
  start=$(date +%s.%N)
  psql -X -q -v ON_ERROR_STOP=1 -c "COPY $table (company_id, external_id, started_at, duration_sec, status)
    FROM PROGRAM 'awk -F \"\\t\" -v OFS=\"\\t\" \"{ \\\$1 = \\\$1 + $first; print }\" $work/$file'" >/dev/null
  end=$(date +%s.%N)
  python3 -c "print(round($rows / ($end - $start)))"
}
log "COPY of $rows calls"
declare -A r
r[checked_one_1]=$(copy_rate checked_calls one.tsv 1); psql -X -q -c "TRUNCATE checked_calls"
r[billing_one_1]=$(copy_rate billing.calls one.tsv 1)
r[checked_many_1]=$(copy_rate checked_calls many.tsv 2); psql -X -q -c "TRUNCATE checked_calls"
r[billing_many_1]=$(copy_rate billing.calls many.tsv 2)
r[billing_one_2]=$(copy_rate billing.calls one.tsv 2002)
r[checked_one_2]=$(copy_rate checked_calls one.tsv 2002); psql -X -q -c "TRUNCATE checked_calls"
r[billing_many_2]=$(copy_rate billing.calls many.tsv 2003)
r[checked_many_2]=$(copy_rate checked_calls many.tsv 2003); psql -X -q -c "TRUNCATE checked_calls"
exact=$(psql -X -At -c "SELECT NOT EXISTS (SELECT 1 FROM billing.verify_usage_daily()) AND NOT EXISTS (SELECT 1 FROM billing.verify_usage_profile())
                          AND (SELECT count(*) FROM billing.calls) = 4 * $rows")
echo "    rollup and profile equal a recomputation after the COPYs, every row stored: $exact"

mkdir -p build/bench_bulk
cat >build/bench_bulk/record_calls.sql <<'SQL'
\set n random(1, 1000000000000)
SELECT billing.record_calls(6001, array_agg('r-' || :n || '-' || i), array_agg(now() - i * interval '1 second'),
                            array_agg(i % 600), NULL) FROM generate_series(1, 1000) AS i;
SQL
cat >build/bench_bulk/insert_select.sql <<'SQL'
\set n random(1, 1000000000000)
INSERT INTO checked_calls (company_id, external_id, started_at, duration_sec, status)
SELECT 6001, 'r-' || :n || '-' || i, now() - i * interval '1 second', i % 600, 'completed'
  FROM generate_series(1, 1000) AS i ON CONFLICT DO NOTHING;
SQL
tps() { "$(pg_bindir)/pgbench" -n -M prepared -c 1 -T "$seconds" -f "build/bench_bulk/$1.sql" bulk 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
log "batches of 1,000, $seconds s each"
r[insert_select]=$(tps insert_select)
r[record_calls]=$(tps record_calls)
python3 - <<PY
r = {$(for k in "${!r[@]}"; do printf '"%s": %s, ' "$k" "${r[$k]}"; done)}
mean = lambda k: (r[k + "_1"] + r[k + "_2"]) / 2
rows = [("COPY, one company: same table without rollup (baseline)", mean("checked_one"), ""),
        ("COPY, one company: billing.calls", mean("billing_one"), f"{mean('billing_one') / mean('checked_one'):.2f} x baseline"),
        ("COPY, 2,000 companies: same table without rollup (baseline)", mean("checked_many"), ""),
        ("COPY, 2,000 companies: billing.calls", mean("billing_many"), f"{mean('billing_many') / mean('checked_many'):.2f} x baseline"),
        ("INSERT ... SELECT of 1,000 rows, without rollup (baseline)", r["insert_select"] * 1000, ""),
        ("record_calls, batches of 1,000", r["record_calls"] * 1000, f"{r['record_calls'] / r['insert_select']:.2f} x baseline")]
print(f"{'scenario':62} {'rows per second':>16}  ratio")
for name, value, ratio in rows:
    print(f"{name:62} {value:16,.0f}  {ratio}")
for k in ("checked_one", "billing_one", "checked_many", "billing_many"):
    print(f"  {k}: {r[k + '_1']:,} and {r[k + '_2']:,} rows/s")
PY
