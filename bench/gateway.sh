#!/usr/bin/env bash
# The HTTP gateway against the same SQL through pgbench, in one run, on a throwaway cluster
# (preloaded, audit on): company 1 with 1,000,000 calls in its current period.
#   bash bench/gateway.sh            BENCH_SECONDS (10) per scenario, BENCH_CLIENTS (32) connections
# Scenarios:
#   wrk  GET /healthz                            the HTTP process alone (no database)
#   wrk  GET /api/billing/usage/current          the whole request: token, limit, read, envelope
#   pgbench, the gateway's own two statements    what the gateway asks the database, without HTTP
#   pgbench, SELECT billing.usage_current(1)     the bare read, as an administrator
# Prints requests (transactions) a second, p50 and p99 latency, and the ratios of usage over
# HTTP to the gateway's SQL through pgbench and to /healthz; then downloads the big period's CSV
# and prints the gateway's peak memory before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
seconds=${BENCH_SECONDS:-10}
clients=${BENCH_CLIENTS:-32}
calls=${BENCH_CALLS:-1000000}

ensure_packages
build_and_install
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j2 --target billing-gateway >/dev/null
CLUSTER_PORT=54333 start_cluster bench_gateway -c shared_preload_libraries=company_billing \
  -c billing.database=bench_gateway -c shared_buffers=256MB -c max_connections=100
createdb bench_gateway
export PGDATABASE=bench_gateway
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
log "company 1 with $calls calls in its current period"
psql -X -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Big Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49, 500, 0.15, 2, date_trunc('month', now() - interval '1 month')::date);
DO \$\$
BEGIN
  FOR b IN 0..($calls - 1) / 100000 LOOP
    INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
    SELECT 1, 'big-' || n,
           now() - random() * (now() - (date_trunc('month', now() AT TIME ZONE 'Europe/Berlin') AT TIME ZONE 'Europe/Berlin')),
           (30 + random() * 400)::int, 'completed'
      FROM generate_series(b * 100000 + 1, least((b + 1) * 100000, $calls)) AS n;
  END LOOP;
END
\$\$;
SELECT billing.ensure_periods();
CREATE ROLE bench_gateway_login LOGIN IN ROLE billing_app;
VACUUM ANALYZE;
CHECKPOINT;
SQL
sync
token=$(psql -X -At -c "SELECT token FROM billing.create_api_token(1, 'bench')")
psql -X -At -c "SELECT 'calls: ' || (billing.usage_current(1)->'calls'->>'total')"

rm -f build/bench_gateway.port
# The limiter's highest limit (1,000,000 a minute) so that the benchmark measures reads, not 429s.
build/cmake/billing-gateway --database "host=$PGHOST port=$PGPORT dbname=bench_gateway user=bench_gateway_login" \
  --port 0 --port-file build/bench_gateway.port --pool-size "${BENCH_POOL:-0}" --threads "${BENCH_THREADS:-$((clients * 2))}" \
  --rate-limit 1000000 >/dev/null 2>build/bench_gateway.log &
gateway_pid=$!
trap 'kill "$gateway_pid" 2>/dev/null; stop_cluster' EXIT
for _ in $(seq 1 100); do [ -s build/bench_gateway.port ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat build/bench_gateway.port)"
curl -sf -H "Authorization: Bearer $token" "$url/api/billing/usage/current" >/dev/null

# wrk: requests a second, p50 and p99 (its --latency table), and the non-2xx count.
run_wrk() {  # run_wrk NAME PATH [HEADER]
  local output
  output=$(wrk -t2 -c"$clients" -d"${seconds}s" --latency ${3:+-H "$3"} "$url$2")
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$output")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$output")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$output")
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$output")
  printf '%s|%s|%s|%s|%s\n' "$1" "$rps" "$p50" "$p99" "${bad:-0}"
}

# pgbench: transactions a second, and p50/p99 from its per-transaction log (microseconds).
run_pgbench() {  # run_pgbench NAME SCRIPT ROLE
  local dir
  dir=$(mktemp -d)
  chmod 777 "$dir"
  local output
  local script="$PWD/$2"
  output=$(cd "$dir" && "$(pg_bindir)/pgbench" -n -M simple -c "$clients" -j 2 -T "$seconds" -U "$3" -l \
             --log-prefix="$dir/tx" -f "$script" 2>&1)
  local tps p50 p99
  tps=$(awk '/^tps/ {print $3}' <<<"$output")
  read -r p50 p99 < <(cat "$dir"/tx* | awk '{print $3}' | sort -n |
    awk '{v[NR] = $1} END {printf "%.2fms %.2fms\n", v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000}')
  rm -rf "$dir"
  printf '%s|%s|%s|%s|%s\n' "$1" "$tps" "$p50" "$p99" "-"
}

# The gateway's two round trips, as it sends them (src/gateway/api.cpp).
cat >build/bench_gateway_sql.pgbench <<PGB
BEGIN READ ONLY \\; SET LOCAL search_path = pg_catalog, pg_temp \\; SET LOCAL TimeZone = 'UTC' \\; SELECT a.token_id, a.company_active, 'view_billing' OPERATOR(pg_catalog.=) ANY (a.abilities), r.admitted, r.remaining, r.retry_after_seconds, pg_catalog.set_config('billing.company_id', a.company_id::pg_catalog.text, true) FROM billing.authenticate_token('$token') AS a CROSS JOIN LATERAL billing.throttle_detail('api_token:' OPERATOR(pg_catalog.||) a.token_id::pg_catalog.text, 1000000) AS r;
SELECT billing.usage_current() \\; COMMIT;
PGB
echo "SELECT billing.usage_current(1);" >build/bench_gateway_bare.pgbench

log "measuring: $seconds s per scenario, $clients connections"
rows=()
rows+=("$(run_wrk "HTTP GET /healthz (wrk)" /healthz)")
rows+=("$(run_wrk "HTTP GET /api/billing/usage/current (wrk)" /api/billing/usage/current "Authorization: Bearer $token")")
rows+=("$(run_pgbench "the gateway's SQL through pgbench" build/bench_gateway_sql.pgbench bench_gateway_login)")
rows+=("$(run_pgbench "SELECT billing.usage_current(1) through pgbench" build/bench_gateway_bare.pgbench postgres)")

healthz=$(cut -d'|' -f2 <<<"${rows[0]}")
http=$(cut -d'|' -f2 <<<"${rows[1]}")
gateway_sql=$(cut -d'|' -f2 <<<"${rows[2]}")
printf '\n| scenario (%s connections, %s s) | per second | p50 | p99 | non-2xx |\n| --- | ---: | ---: | ---: | ---: |\n' \
  "$clients" "$seconds"
for row in "${rows[@]}"; do
  IFS='|' read -r name rate p50 p99 bad <<<"$row"
  printf '| %s | %.0f | %s | %s | %s |\n' "$name" "$rate" "$p50" "$p99" "$bad"
done
log "the CSV of the $calls-call period through the gateway (streamed; peak memory of the gateway process)"
period=$(psql -X -At -c "SELECT id FROM billing.billing_periods WHERE company_id = 1 ORDER BY start_date DESC LIMIT 1")
peak_before=$(awk '/VmHWM/ {print $2}' "/proc/$gateway_pid/status")
transfer=$(curl -sS -o build/bench_gateway.csv -w '%{size_download} bytes in %{time_total} s' \
  -H "Authorization: Bearer $token" "$url/api/billing/period/$period/download")
peak_after=$(awk '/VmHWM/ {print $2}' "/proc/$gateway_pid/status")
echo "    $transfer, $(($(wc -l <build/bench_gateway.csv) - 1)) records; gateway peak RSS ${peak_before} kB before, ${peak_after} kB after"
rm -f build/bench_gateway.csv

awk -v h="$http" -v s="$gateway_sql" -v z="$healthz" 'BEGIN {
  printf "\nusage over HTTP / the same SQL through pgbench: %.2f (target at least 0.40)\n", h / s
  printf "usage over HTTP / /healthz of the same process: %.2f\n", h / z }'
