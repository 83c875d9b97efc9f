#!/usr/bin/env bash
# The call profile's cost and the analytics read, on a throwaway cluster (preloaded, audit on):
#   1. ingest: record_call with 8 clients into a database still on version 1.6 (the same library
#      keeps no call profile there) and into one on the current version, against a plain INSERT
#      into a table with the same columns and keys, all three alternating over three rounds;
#   2. read: usage_analytics() of a company with 1,000,000 calls in its current period (latency
#      of one client; throughput of two against SELECT 1), and the same heatmap and median
#      computed from the raw calls (the query one would write without the profile).
#   bash bench/analytics.sh            BENCH_SECONDS (default 10) per pgbench run
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds=${BENCH_SECONDS:-10}
big_calls=${BENCH_BIG_CALLS:-1000000}
ensure_packages
build_and_install
CLUSTER_PORT=54339 start_cluster bench_analytics -c shared_preload_libraries=company_billing \
  -c billing.database=analytics -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min
mkdir -p build/bench_analytics_scripts
scripts=build/bench_analytics_scripts
createdb analytics
createdb noprofile
psql -X -q -d analytics -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -d noprofile -c "CREATE EXTENSION company_billing VERSION '1.6' CASCADE" 2>/dev/null
for db in analytics noprofile; do
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Big Praxis', 'Europe/Vienna'), (3, 'Ingest Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49, 500, 0.15, 2, '2020-01-01'), (3, 'per_minute', 49, 500, 0.15, 2, '2020-01-01');
CREATE TABLE plain_calls (LIKE billing.calls INCLUDING DEFAULTS INCLUDING INDEXES);
SQL
done
log "loading $big_calls calls of company 1 into its current period"
psql -X -q -v ON_ERROR_STOP=1 -d analytics <<SQL
SELECT setseed(0.25);
\set big_calls $big_calls
\i bench/big_company.sql
INSERT INTO billing.appointments (company_id, external_id, booked_at)
SELECT company_id, 'a-' || id, started_at FROM billing.calls WHERE id % 3 = 0;
VACUUM ANALYZE;
CHECKPOINT;
SQL
exact=$(psql -X -At -d analytics <<'SQL'
WITH doc AS (SELECT billing.usage_analytics(1) AS d),
raw AS (SELECT count(*) AS calls, percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_sec) FILTER (WHERE status = 'completed') AS median
          FROM billing.calls WHERE company_id = 1 AND started_at <= now())
SELECT (d #>> '{calls,total}')::bigint = raw.calls
       AND (SELECT sum(c::bigint) FROM jsonb_array_elements(d -> 'heatmap') AS w, jsonb_array_elements_text(w -> 'calls') AS c) = raw.calls
       AND raw.median >= (d #>> '{call_length,median_seconds,at_least}')::int
       AND raw.median < (d #>> '{call_length,median_seconds,below}')::int
       AND NOT EXISTS (SELECT 1 FROM billing.verify_usage_profile(1))
  FROM doc, raw;
SQL
)
echo "    usage_analytics equals a recomputation from the raw calls, profile verified: $exact"

echo "SELECT 1;" >"$scripts/select1.sql"
echo "SELECT billing.usage_analytics(1);" >"$scripts/analytics.sql"
cat >"$scripts/raw_analytics.sql" <<'SQL'
SELECT (SELECT json_agg(h) FROM (SELECT EXTRACT(isodow FROM started_at AT TIME ZONE 'Europe/Vienna') AS weekday,
                                        EXTRACT(hour FROM started_at AT TIME ZONE 'Europe/Vienna') AS hour,
                                        count(*) AS calls, sum(duration_sec) AS seconds
                                   FROM billing.calls
                                  WHERE company_id = 1 AND started_at >= date_trunc('month', now() AT TIME ZONE 'Europe/Vienna') AT TIME ZONE 'Europe/Vienna'
                                    AND started_at <= now()
                                  GROUP BY 1, 2) AS h),
       (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_sec) FROM billing.calls
         WHERE company_id = 1 AND status = 'completed' AND started_at <= now()
           AND started_at >= date_trunc('month', now() AT TIME ZONE 'Europe/Vienna') AT TIME ZONE 'Europe/Vienna');
SQL
cat >"$scripts/record_call.sql" <<'SQL'
\set n random(1, 1000000000000)
\set d random(0, 900)
SELECT billing.record_call(3, 'ingest-' || :n, now(), :d, 'completed');
SQL
cat >"$scripts/plain_insert.sql" <<'SQL'
\set n random(1, 1000000000000)
\set d random(0, 900)
INSERT INTO plain_calls (company_id, external_id, started_at, duration_sec, status)
VALUES (3, 'ingest-' || :n, now(), :d, 'completed') ON CONFLICT DO NOTHING;
SQL
pgbench_run() {  # pgbench_run DATABASE SCRIPT CLIENTS [extra]: prints "tps latency_ms"
  "$(pg_bindir)/pgbench" -n -M prepared -c "$3" -j 2 -T "$seconds" -f "$scripts/$2.sql" "$1" 2>/dev/null |
    awk '/^latency average/ {l = $4} /^tps = / {t = $3} END {print t, l}'
}
log "pgbench, $seconds s per run"
declare -A r
for round in 1 2 3; do
  r[plain_$round]=$(pgbench_run analytics plain_insert 8 | cut -d' ' -f1)
  r[noprofile_$round]=$(pgbench_run noprofile record_call 8 | cut -d' ' -f1)
  r[profile_$round]=$(pgbench_run analytics record_call 8 | cut -d' ' -f1)
  echo "    round $round: plain INSERT ${r[plain_$round]}, record_call on 1.6 ${r[noprofile_$round]}, with the profile ${r[profile_$round]} tps"
done
lost=$(psql -X -At -d analytics -c "SELECT count(*) FROM billing.verify_usage_profile(3)")
for round in 1 2 3; do
  r[select1_$round]=$(pgbench_run analytics select1 2 | cut -d' ' -f1)
  r[analytics_$round]=$(pgbench_run analytics analytics 2 | cut -d' ' -f1)
done
r[latency]=$(pgbench_run analytics analytics 1 | cut -d' ' -f2)
r[raw_latency]=$("$(pg_bindir)/pgbench" -n -M prepared -c 1 -t 5 -f "$scripts/raw_analytics.sql" analytics 2>/dev/null |
  awk '/^latency average/ {print $4}')
python3 - "$lost" "$big_calls" <<PY
import sys
lost, big = sys.argv[1:]
r = {$(for k in "${!r[@]}"; do printf '"%s": %s, ' "$k" "${r[$k]}"; done)}
mean = lambda name: sum(r[f"{name}_{i}"] for i in (1, 2, 3)) / 3
plain, noprofile, profile = mean("plain"), mean("noprofile"), mean("profile")
print(f"{'scenario':52} {'per second':>11}  ratio")
print(f"{'plain INSERT, 8 clients (baseline)':52} {plain:11.0f}")
print(f"{'record_call on 1.6 (no call profile), 8 clients':52} {noprofile:11.0f}  {noprofile / plain:.2f} x INSERT")
print(f"{'record_call with the call profile, 8 clients':52} {profile:11.0f}  {profile / plain:.2f} x INSERT, {profile / noprofile:.3f} x 1.6")
for i in (1, 2, 3):
    print(f"  round {i}: with / without the profile {r[f'profile_{i}'] / r[f'noprofile_{i}']:.3f}")
s1, an = mean("select1"), mean("analytics")
print(f"{'SELECT 1, 2 clients (baseline)':52} {s1:11.0f}")
print(f"{f'usage_analytics, {int(big):,} calls, 2 clients':52} {an:11.0f}  {an / s1:.2f} x SELECT 1")
print(f"usage_analytics latency, one client: {r['latency']:.2f} ms; the same figures from the raw calls: {r['raw_latency']:.0f} ms "
      f"({r['raw_latency'] / r['latency']:.0f} x)")
print(f"profile days of the ingest company differing from a recomputation after the run: {lost}")
PY
