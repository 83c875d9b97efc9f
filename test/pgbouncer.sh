#!/usr/bin/env bash
# pgbouncer (Debian) in transaction mode in front of the extension, on a cluster of its own, one
# server connection shared by consecutive clients: the company lives in one transaction; a
# session-level SET by one client is refused for the next, with a message that says it may come
# from another client of the pooler, and never shows another company; a viewer stays pinned;
# psycopg 3 with prepare_threshold=None; the gateway through the pooler.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
bouncer_port=64335
start_pooled_demo pooler 54335 "$bouncer_port" pooler_app pooler_viewer gateway_login postgres
command psql -X -q -d pooler -c "CREATE ROLE gateway_login LOGIN IN ROLE billing_app" 2>/dev/null || true
# psql through the pooler: as ROLE, one script, errors shown as "ERROR: ..." lines.
through() {  # through ROLE SQL
  command psql -X -q -At -h 127.0.0.1 -p "$bouncer_port" -U "$1" -d pooler -c "$2" 2>&1 || true
}
status=0
expect() {  # expect NAME ACTUAL PATTERN
  if grep -qE -- "$3" <<<"$2"; then
    echo "ok     $1"
  else
    echo "FAILED $1"; echo "       got: $2"; status=1
  fi
}
not_expect() {  # not_expect NAME ACTUAL PATTERN
  if grep -qE -- "$3" <<<"$2"; then
    echo "FAILED $1"; echo "       got: $2"; status=1
  else
    echo "ok     $1"
  fi
}

pid_a=$(through pooler_app "SELECT pg_backend_pid()")
pid_b=$(through pooler_app "SELECT pg_backend_pid()")
expect "consecutive clients share one server connection (pid $pid_a)" "$pid_b" "^$pid_a\$"

out=$(through pooler_app "BEGIN; SET LOCAL billing.company_id = '1'; SELECT billing.usage_current()->>'currency', billing.current_company(); COMMIT;")
expect "SET LOCAL: the transaction reads company 1" "$out" "^EUR\|1$"
out=$(through pooler_app "SELECT coalesce(billing.current_company()::text, 'none'); SELECT billing.usage_current();")
expect "the next client has no company (the SET LOCAL ended with its transaction)" "$out" "^none"
expect "... and its read is refused: no company selected" "$out" "no company selected"

through pooler_app "SET billing.company_id = '2'" >/dev/null
out=$(command psql -X -q -At -h 127.0.0.1 -p "$bouncer_port" -U pooler_app -d pooler -v VERBOSITY=verbose \
        -c "SELECT billing.usage_current()" 2>&1 || true)
expect "after another client's session SET: the read is refused (42501)" "$out" "42501"
expect "... with a message that names the pooler's earlier client" "$out" "by an earlier client"
not_expect "... and shows nothing of company 2" "$out" "Kanzlei|package|99.00"
out=$(through pooler_app "SELECT count(*) FROM billing.calls")
expect "direct SELECTs fail closed too (row level security refuses the session value)" "$out" "ERROR"
out=$(through pooler_app "BEGIN; SET LOCAL billing.company_id = '1'; SELECT billing.current_company(), (SELECT count(DISTINCT company_id) FROM billing.calls), billing.usage_current()->>'pricing_model'; COMMIT;")
expect "a client that sets its own company with SET LOCAL gets only that company" "$out" "^1\|1\|per_minute$"
through pooler_app "RESET billing.company_id" >/dev/null
out=$(through pooler_app "SELECT coalesce(current_setting('billing.company_id', true), '')")
expect "RESET billing.company_id clears the session value for the next clients" "$out" "^$"

out=$(through pooler_viewer "BEGIN; SET LOCAL billing.company_id = '2'; SELECT billing.current_company(), billing.usage_current()->>'pricing_model'; COMMIT;")
expect "a viewer behind the pooler stays pinned to its company whatever it sets" "$out" "^1\|per_minute$"
out=$(through pooler_viewer "SELECT billing.usage_current(2)")
expect "a viewer asking for another company: 42501 as for an unknown one" "$out" "company 2 is not accessible"

out=$(PGHOST=127.0.0.1 PGPORT=$bouncer_port PGUSER=pooler_app PGDATABASE=pooler /usr/bin/python3 - <<'PY' 2>&1 || true
import psycopg
# 20 parameterized reads in 20 transactions: with prepare_threshold=None nothing is prepared, so
# it does not matter which server connection each transaction lands on.
with psycopg.connect(prepare_threshold=None) as connection:
    models = set()
    for i in range(20):
        with connection.transaction():
            company = str(1 + i % 4)
            connection.execute("SELECT set_config('billing.company_id', %s, true)", (company,))
            models.add(connection.execute("SELECT billing.usage_current(%s::bigint)->>'pricing_model'", (company,)).fetchone()[0])
print("models", sorted(models))
PY
)
expect "psycopg 3 with prepare_threshold=None through the pooler: 20 transactions, four companies" "$out" \
  "models \['combined', 'package', 'per_appointment', 'per_minute'\]"

# The gateway through the pooler: each request's company is its token's.
build_gateway
token_1=$(command psql -X -At -d pooler -c "SELECT token FROM billing.create_api_token(1, 'pooler')")
token_2=$(command psql -X -At -d pooler -c "SELECT token FROM billing.create_api_token(2, 'pooler')")
rm -f build/pooler_gateway.port
build/cmake/billing-gateway --database "host=127.0.0.1 port=$bouncer_port dbname=pooler user=gateway_login" \
  --port 0 --port-file build/pooler_gateway.port --pool-size 4 >build/pooler_gateway.log 2>&1 &
gateway_pid=$!
trap 'kill $gateway_pid 2>/dev/null; stop_pgbouncer; stop_cluster' EXIT
for _ in $(seq 1 100); do [ -s build/pooler_gateway.port ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat build/pooler_gateway.port)"
through gateway_login "SET billing.company_id = '3'" >/dev/null   # left behind on the shared connection
wrong=0
for i in $(seq 1 20); do
  model=$(curl -s -H "Authorization: Bearer ${token_1}" "$url/api/billing/usage/current" | grep -o '"pricing_model": "[a-z_]*"')
  [ "$model" = '"pricing_model": "per_minute"' ] || wrong=$((wrong + 1))
  model=$(curl -s -H "Authorization: Bearer ${token_2}" "$url/api/billing/usage/current" | grep -o '"pricing_model": "[a-z_]*"')
  [ "$model" = '"pricing_model": "package"' ] || wrong=$((wrong + 1))
done
expect "the gateway through the pooler: 40 interleaved requests of two companies, each its own (a session SET left on the connection changes nothing)" "$wrong" "^0$"
exit $status
