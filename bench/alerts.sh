#!/usr/bin/env bash
# The cost of the alert check on ingestion: record_call with 8 clients on one company, with the
# alert trigger (billing.usage_daily's usage_daily_alerts) enabled and disabled in turn, for a
# company past every threshold and for one far below them, three rounds; then can_consume()
# calls a second against SELECT 1. Every alert is checked to be recorded once.
#   bash bench/alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds=${BENCH_SECONDS:-10}
ensure_packages
build_and_install
CLUSTER_PORT=54341 start_cluster bench_alerts -c shared_preload_libraries=company_billing -c billing.database=alerts \
  -c fsync=off -c synchronous_commit=off
createdb alerts
export PGDATABASE=alerts
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
INSERT INTO billing.companies (id, name, timezone) VALUES (3, 'Past its thresholds', 'Europe/Berlin'),
    (4, 'Far below its thresholds', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (3, 'per_minute', 49.00, 500, 0.15, 2.00, '2020-01-01'), (4, 'per_minute', 49.00, 100000000, 0.15, 2.00, '2020-01-01');
SELECT billing.ensure_periods();
SELECT billing.record_calls(3, array_agg('old' || g), array_agg(now() - g * interval '1 second'), array_agg(60))
  FROM generate_series(1, 20000) AS g;
SQL
mkdir -p build/bench
for company in 3 4; do
  printf '%s\n' '\set n random(1, 1000000000000)' \
    "SELECT billing.record_call($company, 'ingest-' || :n, now(), 60, 'completed');" >build/bench/alerts_$company.sql
done
echo "SELECT * FROM billing.can_consume(3, 5);" >build/bench/can_consume.sql
echo "SELECT 1;" >build/bench/alerts_select1.sql
tps() {
  "$(pg_bindir)/pgbench" -n -M prepared -c "$2" -j 2 -T "$seconds" -f "build/bench/$1.sql" alerts 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
trigger() { psql -X -q -c "ALTER TABLE billing.usage_daily $1 TRIGGER usage_daily_alerts"; }
declare -A r
for round in 1 2 3; do
  for company in 3 4; do
    trigger "ENABLE ALWAYS"; r[on_${company}_$round]=$(tps alerts_$company 8)
    trigger DISABLE; r[off_${company}_$round]=$(tps alerts_$company 8)
    echo "    round $round company $company: with alerts ${r[on_${company}_$round]}, without ${r[off_${company}_$round]} tps"
  done
done
trigger "ENABLE ALWAYS"
r[select1]=$(tps alerts_select1 2); r[can_consume]=$(tps can_consume 2)
once=$(psql -X -At -c "SELECT pg_catalog.count(*) = 2 AND bool_and(times_fired = 1) FROM billing.alerts WHERE company_id = 3")
python3 - "$once" "${r[select1]}" "${r[can_consume]}" \
  "${r[on_3_1]}" "${r[on_3_2]}" "${r[on_3_3]}" "${r[off_3_1]}" "${r[off_3_2]}" "${r[off_3_3]}" \
  "${r[on_4_1]}" "${r[on_4_2]}" "${r[on_4_3]}" "${r[off_4_1]}" "${r[off_4_2]}" "${r[off_4_3]}" <<'PY'
import sys
once, select1, consume = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
v = [float(x) for x in sys.argv[4:]]
mean = lambda xs: sum(xs) / len(xs)
print(f"alerts recorded once each: {once}")
print(f"{'scenario':56} {'tps':>9}  ratio")
for name, on, off in (("record_call, company past its thresholds", v[0:3], v[3:6]),
                      ("record_call, company far below its thresholds", v[6:9], v[9:12])):
    print(f"{name + ', with alerts':56} {mean(on):9.0f}  {mean(on) / mean(off):.3f} x without")
    print(f"{name + ', without':56} {mean(off):9.0f}")
print(f"{'SELECT 1, 2 clients (baseline)':56} {select1:9.0f}")
print(f"{'can_consume(3, 5), 2 clients':56} {consume:9.0f}  {consume / select1:.3f} x SELECT 1")
PY
