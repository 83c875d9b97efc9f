#!/usr/bin/env bash
# The storage at scale, on a throwaway cluster: 20,000 companies, calls spread over the 24 UTC
# months before now (the largest company, company 1, has 2% of them), grown step by step to each
# size in SCALE_STEPS (default 10,000,000 and 20,000,000: about 35 GB of disk and 40 minutes on
# two cores; 100,000,000 would need about 60 GB and three hours). The calls are spread at random
# over 20,000 companies and 730 days, the rollup's worst case: almost every call opens a
# (company, day) row of its own until the days fill. After each step:
#   * load rate (rows per second of INSERT ... SELECT statements of 1,000,000 calls into
#     billing.calls, the path of a COPY: keys, rollup and profile kept);
#   * bytes per call: the partitions, the keys, the rollup and the profile, over the calls;
#   * usage_current of the largest company against SELECT 1 (pgbench, 2 clients);
#   * the report of last month over every company, from billing.period_usage, against a
#     REFRESH MATERIALIZED VIEW of the same query and a read of that view.
#   bash bench/scale.sh            SCALE_STEPS="10000000 100000000" bash bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
steps=${SCALE_STEPS:-10000000 20000000}
seconds=${BENCH_SECONDS:-10}
companies=20000
ensure_packages
build_and_install
CLUSTER_PORT=54346 start_cluster bench_scale -c shared_preload_libraries=company_billing -c billing.database=scale \
  -c shared_buffers=2GB -c max_wal_size=4GB -c checkpoint_timeout=30min -c work_mem=64MB -c maintenance_work_mem=1GB
createdb scale
export PGDATABASE=scale
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO billing.companies (id, name, timezone)
SELECT i, 'Company ' || i, (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC'])[1 + i % 4]
  FROM generate_series(1, $companies) AS i;
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
SELECT i, 'per_minute', 49, 500, 0.15, 2, (date_trunc('month', now()) - interval '25 months')::date
  FROM generate_series(1, $companies) AS i;
-- Every month's partition ahead of the load, so that no row waits in the default partition.
SELECT count(*) FILTER (WHERE billing._ensure_raw_partition('calls', m::date)) AS partitions
  FROM generate_series(date_trunc('month', now()) - interval '25 months', date_trunc('month', now()) + interval '2 months',
                       interval '1 month') AS m;
-- The periods (calendar months: the plans start on the 1st), stored directly: ensure_periods()
-- walks them one by one per company.
INSERT INTO billing.billing_periods (company_id, start_date, end_date)
SELECT c, m::date, (m + interval '1 month' - interval '1 day')::date
  FROM generate_series(1, $companies) AS c,
       generate_series(date_trunc('month', now()) - interval '25 months', date_trunc('month', now()), interval '1 month') AS m;
CREATE MATERIALIZED VIEW last_month_report AS
SELECT * FROM billing.period_usage WHERE start_date = (date_trunc('month', now()) - interval '1 month')::date;
SQL
mkdir -p build/bench_scale
echo "SELECT 1;" >build/bench_scale/select1.sql
echo "SELECT billing.usage_current(1);" >build/bench_scale/usage_big.sql
tps() { "$(pg_bindir)/pgbench" -n -M prepared -c 2 -j 2 -T "$seconds" -f "build/bench_scale/$1.sql" scale 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
ms() {  # ms SQL: milliseconds of one run of SQL (the second of two)
  psql -X -q -c "$1" >/dev/null
  local start end
  start=$(date +%s.%N); psql -X -q -c "$1" >/dev/null; end=$(date +%s.%N)
  python3 -c "print(round(($end - $start) * 1000))"
}
loaded=0
previous=0
results=()
for target in $steps; do
  log "growing to $target calls"
  start=$(date +%s.%N)
  while [ "$loaded" -lt "$target" ]; do
    n=$(( target - loaded < 1000000 ? target - loaded : 1000000 ))
    psql -X -q -v ON_ERROR_STOP=1 -c "
      INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
      SELECT CASE WHEN random() < 0.02 THEN 1 ELSE 2 + (random() * ($companies - 2))::int END, 's-' || ($loaded + i),
             now() - random() * interval '730 days', (random() * 900)::int,
             CASE WHEN random() < 0.93 THEN 'completed' ELSE 'missed' END
        FROM generate_series(1, $n) AS i"
    loaded=$(( loaded + n ))
  done
  end=$(date +%s.%N)
  psql -X -q -c "VACUUM ANALYZE" -c "CHECKPOINT"
  rate=$(python3 -c "print(round(($target - $previous) / ($end - $start)))")
  previous=$target
  bytes=$(psql -X -At -c "
    SELECT round((sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname ~ '^calls_')
                  + pg_total_relation_size('billing.call_keys') + pg_total_relation_size('billing.usage_daily')
                  + pg_total_relation_size('billing.usage_profile')) / (SELECT count(*) FROM billing.calls))
      FROM pg_class c WHERE c.relnamespace = 'billing'::regnamespace")
  exact=$(psql -X -At -c "SELECT NOT EXISTS (SELECT FROM billing.verify_usage_daily(1))")
  s1=$(tps select1); ub=$(tps usage_big)
  report=$(ms "SELECT count(*), sum(total_cost) FROM billing.period_usage WHERE start_date = (date_trunc('month', now()) - interval '1 month')::date")
  refresh=$(ms "REFRESH MATERIALIZED VIEW last_month_report")
  mv_read=$(ms "SELECT count(*), sum(total_cost) FROM last_month_report")
  results+=("$target $rate $bytes $s1 $ub $report $refresh $mv_read $exact")
  echo "    ${results[-1]}"
done
python3 - "${results[@]}" <<'PY'
import sys
print()
print("| calls | load, rows/s | bytes per call | SELECT 1 tps | usage_current(largest) tps | ratio | report ms | REFRESH ms | read of the view ms | rollup exact |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for line in sys.argv[1:]:
    calls, rate, size, s1, ub, report, refresh, mv, exact = line.split()
    print(f"| {int(calls):,} | {int(rate):,} | {size} | {float(s1):,.0f} | {float(ub):,.0f} | {float(ub) / float(s1):.3f} | {report} | {refresh} | {mv} | {exact} |")
PY
