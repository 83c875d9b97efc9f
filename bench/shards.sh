#!/usr/bin/env bash
# The cost of routing: the same API calls through the shard router (3 shards, PL/Proxy) and on a
# single node holding every company, with pgbench, in one run on this machine (each a cluster of
# its own, the audit off everywhere so that both sides do the same work):
#   * SELECT 1, the baseline of each connection;
#   * usage_current of a random company (a read routed to one shard);
#   * record_call of a new call of a random company (ingestion routed to one shard);
#   * the report over all companies (count and sum of billing.period_usage: every shard in
#     parallel, merged on the router).
# Reports transactions per second and the ratio router / single node.
#   bash bench/shards.sh [SECONDS] [CLIENTS] [COMPANIES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds=${1:-10}
clients=${2:-4}
companies=${3:-1000}
ensure_packages
build_and_install
source test/shards/cluster.sh
start_shard_cluster >/dev/null
for node in shard0 shard1 shard2; do on "$node" billing -c "ALTER DATABASE billing SET billing.audit = off"; done
log "loading $companies companies through the router and into the single node"
load_through_router "$companies"
on router billing -At -c "SELECT billing.ensure_periods('$as_of')" >/dev/null
on single direct -At -c "SELECT billing.ensure_periods('$as_of')" >/dev/null
echo "    $calls calls"

cat >"$work/select1.sql" <<'SQL'
SELECT 1;
SQL
cat >"$work/read.sql" <<SQL
\set company random(1001, $((1000 + companies)))
SELECT billing.usage_current(:company);
SQL
cat >"$work/ingest.sql" <<SQL
\set company random(1001, $((1000 + companies)))
\set call random(1, 1000000000000)
SELECT billing.record_call(:company, 'bench-' || :client_id || '-' || :call, now() - interval '1 hour', 60);
SQL
cat >"$work/report.sql" <<'SQL'
SELECT pg_catalog.count(*), pg_catalog.sum(total_cost) FROM billing.period_usage;
SQL
tps() {  # tps NODE DB SCRIPT CLIENTS
  local port
  case $1 in single) port=$base_port ;; router) port=$((base_port + 4)) ;; esac
  "$(pg_bindir)/pgbench" -n -h "$work/$1" -p "$port" -U postgres -c "$4" -j 2 -T "$seconds" -f "$3" "$2" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
log "pgbench, $clients clients, ${seconds}s each (report: 1 client)"
printf '| %-44s | %12s | %12s | %6s |\n' "call" "single node" "router" "ratio"
printf '| %-44s | %12s | %12s | %6s |\n' "---" "---:" "---:" "---:"
for row in "SELECT 1|select1|$clients" "usage_current(random company)|read|$clients" \
           "record_call(random company, new call)|ingest|$clients" "report: count, sum over billing.period_usage|report|1"; do
  IFS='|' read -r name script n <<<"$row"
  single=$(tps single direct "$work/$script.sql" "$n")
  router=$(tps router billing "$work/$script.sql" "$n")
  printf '| %-44s | %12.0f | %12.0f | %6.3f |\n' "$name" "$single" "$router" \
    "$(awk -v a="$router" -v b="$single" 'BEGIN { print a / b }')"
done
periods=$(on router billing -At -c "SELECT pg_catalog.count(*) FROM billing.period_usage")
echo "    the report covers $periods periods of $((companies + 4)) companies"
