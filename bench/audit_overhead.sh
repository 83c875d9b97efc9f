#!/usr/bin/env bash
# Throughput of billing.usage_current() with the audit on and off, measured in one run
# (pgbench, prepared statements, 2 clients, alternating 3 rounds of each).
# Usage: bash bench/audit_overhead.sh [seconds per round, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds=${1:-10}

ensure_packages
build_and_install
start_cluster audit-bench -c shared_preload_libraries=company_billing -c billing.database=bench
createdb bench
export PGDATABASE=bench
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q <<'SQL'
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Bench Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49, 500, 0.15, 2, '2025-01-01');
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 1, 'c' || i, timestamptz '2025-06-01 08:00 Europe/Berlin' + i * interval '7 minutes', 30 + i % 300, 'completed'
  FROM generate_series(1, 500) AS i;
VACUUM ANALYZE;
SQL
echo "SELECT billing.usage_current(1, '2025-06-15 12:00 Europe/Berlin');" >build/audit_bench.sql

tps() {  # tps AUDIT(on|off)
  PGOPTIONS="-c billing.audit=$1" "$(pg_bindir)/pgbench" -n -M prepared -c 2 -j 2 -T "$seconds" \
    -f build/audit_bench.sql bench 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
declare -a on off
for round in 1 2 3; do
  off+=("$(tps off)")
  on+=("$(tps on)")
  echo "round $round: audit off ${off[-1]} tps, audit on ${on[-1]} tps"
done
psql -X -At -c "SELECT billing.audit_flush_wait('30 seconds')" >/dev/null
written=$(psql -X -At -c "SELECT sum(reads) FROM billing.audit_log")
python3 - "${off[@]}" "${on[@]}" "$written" <<'PY'
import statistics, sys
values = [float(v) for v in sys.argv[1:7]]
off, on = values[:3], values[3:]
print(f"median tps: audit off {statistics.median(off):.0f}, audit on {statistics.median(on):.0f}, "
      f"ratio {statistics.median(on) / statistics.median(off):.2f}; reads audited: {sys.argv[7]}")
PY
