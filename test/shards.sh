#!/usr/bin/env bash
# Three shards and a router (PL/Proxy, company_billing_router), each a cluster of its own on a
# unix socket, started here, and a single node for comparison:
#   * the demo data and a random data set (COMPANIES companies, every model, many time zones)
#     loaded through the router's API; ingestion through the router is idempotent;
#   * every read of the API returns byte-identical results through the router and on a single
#     node that holds all companies (the shards' companies imported there, ids and all), and the
#     same figures as a single node fed the same API calls directly;
#   * the router's functions have the extension's names, arguments, defaults and results;
#   * a viewer and the application through the router: company scope as on a node;
#   * one shard stopped: its companies fail with a clear error, the others go on; restarted:
#     everything is back;
#   * a company moved to another shard keeps every figure; its calls go to the new shard;
#   * the HTTP gateway on the router, directly and through pgbouncer in transaction mode.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
companies=${COMPANIES:-2000}
source test/shards/cluster.sh
section() { log "$* ($(date +%T))"; }
bouncer_port=64365
status=0
expect() {  # expect NAME ACTUAL PATTERN
  if grep -qE -- "$3" <<<"$2"; then echo "ok     $1"; else echo "FAILED $1"; echo "       got: ${2:0:600}"; status=1; fi
}
same() {  # same NAME FILE_A FILE_B
  if cmp -s "$2" "$3" && [ -s "$2" ]; then
    echo "ok     $1 ($(wc -l <"$2") lines)"
  else
    echo "FAILED $1"; diff "$2" "$3" | head -n 20; status=1
  fi
}

start_shard_cluster

on shard0 billing -At -c "SELECT p.proname || '(' || pg_catalog.pg_get_function_arguments(p.oid) || ') -> ' ||
                                 pg_catalog.pg_get_function_result(p.oid)
                            FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.prokind = 'f'
                             AND p.proname !~ '^_' ORDER BY 1" >"$work/shard_api.txt"
on router billing -At -c "SELECT p.proname || '(' || pg_catalog.pg_get_function_arguments(p.oid) || ') -> ' ||
                                 pg_catalog.pg_get_function_result(p.oid)
                            FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.prokind = 'f'
                            ORDER BY 1" >"$work/router_api.txt"
missing=$(comm -23 <(grep -E '^(usage_|upcoming|billing_history|compare_plans|company_|diagnose|budget|can_consume|period_|plan_for|resolve|current_company|record_|ensure|close_|mark_invoice|set_default|grant_|revoke_|create_api|authenticate|throttle|evaluate|due_|webhook_|archive|audit_flush|runtime|rebuild|verify_|raw_|export_|import_|remove_)' "$work/shard_api.txt" | grep -v '^company_tables(') "$work/router_api.txt")
expect "the router has every API function with the extension's arguments, defaults and result" "${missing:-none}" "^none$"
PGHOST="$work/shard0" PGPORT=$((base_port + 1)) PGUSER=postgres PGDATABASE=billing \
  python3 router/generate.py "$work/generated.sql" >/dev/null
same "router/company_billing_router--1.0.sql is what router/generate.py writes from the extension now" \
  router/company_billing_router--1.0.sql "$work/generated.sql"
grant_list() {  # grant_list NODE: "function(arguments) role" for every EXECUTE a group role has
  on "$1" billing -At -c "SELECT p.oid::regprocedure::text || ' ' || r.rolname FROM pg_catalog.pg_proc p,
      pg_catalog.aclexplode(p.proacl) a JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
     WHERE p.pronamespace = 'billing'::regnamespace AND r.rolname LIKE 'billing%' ORDER BY 1"
}
cut -d'(' -f1 "$work/router_api.txt" | sort -u | sed 's/^/billing./; s/$/(/' >"$work/router_names.txt"
grants=$(diff <(grant_list shard0 | grep -F -f "$work/router_names.txt") \
              <(grant_list router | grep -vE 'shard_count|default_shard|shard_of|shard_for_write|transaction_company_setting|is_viewer_role|routed_company|forwarded_company_setting|token_company|throttle_shard|map_shard|reserve_shard') || true)
expect "... and EXECUTE for the same group roles as on a shard (besides the routing helpers)" "${grants:-none}" "^none$"

section "loading the demo data and $companies random companies through the router (and directly into a single node)"
load_through_router "$companies"
echo "    $calls calls of $((companies + 4)) companies through the router in ${load_seconds}s"
placed=$(on router billing -At -c "SELECT pg_catalog.string_agg(n::text, ' ' ORDER BY s) FROM
            (SELECT s.shard AS s, pg_catalog.count(*) AS n FROM billing.company_shards s GROUP BY 1) x")
expect "every company placed on one of three shards ($placed)" "$placed" "^[0-9]+ [0-9]+ [0-9]+$"
on_shards=$(for n in 0 1 2; do on "shard$n" billing -At -c "SELECT pg_catalog.count(*) FROM billing.calls"; done | awk '{ n += $1 } END { print n }')
expect "the shards hold every call once ($on_shards of $calls)" "$on_shards" "^$calls$"
# A tenth of the calls and appointments again (every tenth statement).
awk 'NR % 10 == 0' "$work/load.usage.sql" >"$work/again.sql"
again=$(on router billing -At -f "$work/again.sql" | awk '$1 == "t" || ($1 ~ /^[0-9]+$/ && $1 + 0 > 0) {n++} END {print n + 0}')
expect "$(wc -l <"$work/again.sql") batches of calls and appointments again through the router: none is new" "$again" "^0$"
on_shards=$(for n in 0 1 2; do on "shard$n" billing -At -c "SELECT pg_catalog.count(*) FROM billing.calls"; done | awk '{ n += $1 } END { print n }')
expect "... and the shards still hold $calls calls" "$on_shards" "^$calls$"
created=$(on router billing -At -c "SELECT billing.ensure_periods('$as_of')")
direct_created=$(on single direct -At -c "SELECT billing.ensure_periods('$as_of')")
expect "ensure_periods through the router: the periods a single node creates ($created)" "$created" "^$direct_created$"
closed_query="SELECT r.status || ' ' || pg_catalog.count(*) FROM billing.close_ended_periods('$as_of') r GROUP BY r.status ORDER BY r.status"
closed=$(on router billing -At -c "$closed_query" | paste -sd' ')
direct_closed=$(on single direct -At -c "$closed_query" | paste -sd' ')
expect "close_ended_periods through the router: as on a single node ($closed)" "$closed" "^$direct_closed$"

section "every read through the router against a single node"
# Every read with row ids (period pages, CSV) for the demo companies and every twelfth other; the
# figures without ids for every sixth.
some_ids=$(on router billing -At -c "SELECT pg_catalog.string_agg(s.company_id::text, ',' ORDER BY s.company_id)
                                       FROM billing.company_shards s WHERE s.company_id < 1000 OR s.company_id % 12 = 0")
ids=$(on router billing -At -c "SELECT pg_catalog.string_agg(s.company_id::text, ',' ORDER BY s.company_id)
                                  FROM billing.company_shards s WHERE s.company_id < 1000 OR s.company_id % 6 = 0")
# A single node holding the compared companies: each exported from the router, imported there
# with its ids.
on single postgres -c "CREATE DATABASE assembled"
on single assembled -c "CREATE EXTENSION company_billing CASCADE" -c "ALTER DATABASE assembled SET billing.audit = off" 2>/dev/null
on single assembled -f demo/plan_catalog.sql
# Ids of its own beyond the shards' ranges, for rows it writes itself.
on single assembled -At -c "SELECT pg_catalog.count(pg_catalog.setval(c.oid::regclass, 9000000000000000)) FROM pg_catalog.pg_class c
                             WHERE c.relnamespace = 'billing'::regnamespace AND c.relkind = 'S'" >/dev/null
on router billing -At -c "SELECT pg_catalog.format('SELECT billing.import_company(%L);', billing.export_company(s.company_id))
                            FROM billing.company_shards s WHERE s.company_id IN ($ids) ORDER BY s.company_id" >"$work/assembled.sql"
on single assembled -f "$work/assembled.sql" >/dev/null
echo "    $(wc -l <"$work/assembled.sql") companies imported into the single node ($(date +%T))"
start=$(date +%s.%N)
on router billing -v ids="$some_ids" -v as_of="$as_of" -v full=1 -f test/shards/figures.sql >"$work/router_full.txt"
read_seconds=$(awk -v from="$start" -v to="$(date +%s.%N)" 'BEGIN { printf "%.1f", to - from }')
on single assembled -v ids="$some_ids" -v as_of="$as_of" -v full=1 -f test/shards/figures.sql >"$work/assembled_full.txt"
same "every API read through the router is byte-identical to a single node holding the same companies" \
  "$work/router_full.txt" "$work/assembled_full.txt"
echo "    $(wc -l <"$work/router_full.txt") reads through the router in ${read_seconds}s"
echo "    ($(date +%T))"
on router billing -v ids="$ids" -v as_of="$as_of" -v full=0 -f test/shards/figures.sql >"$work/router_figures.txt"
echo "    ($(date +%T))"
on single direct -v ids="$ids" -v as_of="$as_of" -v full=0 -f test/shards/figures.sql >"$work/direct_figures.txt"
same "... and every figure equals a single node fed the same API calls directly" "$work/router_figures.txt" "$work/direct_figures.txt"

section "company scope through the router"
shard_of() { on router billing -At -c "SELECT billing.shard_of($1)"; }
on router billing -c "SELECT billing.grant_company_access('shard_viewer', 1)" >/dev/null
on single direct -c "SELECT billing.grant_company_access('shard_viewer', 1)" >/dev/null
reference=$(on router billing -At -c "SELECT billing.usage_current(1, '$as_of')")
out=$(AS_USER=shard_viewer on router billing -At -c "SELECT billing.usage_current(NULL, '$as_of')" 2>&1)
expect "a viewer through the router reads its own company" "$out" "^$(printf '%s' "$reference" | sed 's/[][\.*^$(){}+?|]/\\&/g')$"
out=$(AS_USER=shard_viewer on router billing -At -c "SET billing.company_id = '2'" -c "SELECT billing.usage_current(NULL, '$as_of')->>'pricing_model'" 2>&1)
expect "... whatever it sets (its company is per_minute, company 2's package)" "$out" "^per_minute$"
out=$(AS_USER=shard_viewer on router billing -At -c "SELECT billing.usage_current(2)" 2>&1 || true)
direct=$(AS_USER=shard_viewer on single direct -At -c "SELECT billing.usage_current(2)" 2>&1 || true)
expect "... another company's id: the single node's answer ($direct)" "$out" "ERROR: .*company 2 is not accessible"
expect "... (the single node)" "$direct" "ERROR: .*company 2 is not accessible"
period2=$(on router billing -At -c "SELECT p.period_id FROM billing.period_usage p WHERE p.company_id = 2 ORDER BY 1 LIMIT 1")
out=$(AS_USER=shard_viewer on router billing -At -c "SELECT billing.period_detail($period2)" 2>&1 || true)
expect "... another company's period: refused as on a node" "$out" "ERROR: .*(not accessible|does not exist)"
out=$(AS_USER=shard_viewer on router billing -At -c "SELECT pg_catalog.count(*) FROM billing.period_usage" 2>&1)
direct=$(AS_USER=shard_viewer on single direct -At -c "SELECT pg_catalog.count(*) FROM billing.period_usage" 2>&1)
expect "... the report view over every shard shows its periods only ($out rows)" "$out" "^$direct$"
out=$(AS_USER=shard_viewer on router billing -At -c "SELECT pg_catalog.count(*) FROM billing.company_shards" 2>&1 || true)
expect "... and it cannot read the router's company map" "$out" "permission denied"
out=$(AS_USER=shard_app on router billing -At -c "BEGIN" -c "SET LOCAL billing.company_id = '2'" \
        -c "SELECT billing.usage_current(NULL, '$as_of') = billing.usage_current(2, '$as_of')" -c "COMMIT" 2>&1 || true)
expect "the application through the router: SET LOCAL selects the company" "$out" "^t$"
out=$(AS_USER=shard_app on router billing -At -c "SELECT billing.usage_current()" 2>&1 || true)
expect "... without it: no company selected" "$out" "no company selected"
out=$(AS_USER=shard_app on router billing -At -c "BEGIN" -c "SET LOCAL billing.company_id = '2'" -c "SELECT billing.usage_current(3)" 2>&1 || true)
expect "... another company than its transaction's: refused" "$out" "company 3 is not accessible"
out=$(AS_USER=shard_app on router billing -At -c "SET billing.company_id = '2'" -c "SELECT billing.usage_current()" 2>&1 || true)
expect "... a session-level SET: refused by the router with the node's message" "$out" "must be set with SET LOCAL"
out=$(AS_USER=shard_app on router billing -At -c "SELECT billing.record_call(2, 'app-call', now(), 60)" 2>&1 || true)
expect "... and ingestion stays the administrators' (as on a node)" "$out" "permission denied|42501|not allowed"

section "one shard stopped"
company_on_1=$(on router billing -At -c "SELECT s.company_id FROM billing.company_shards s WHERE s.shard = 1 ORDER BY 1 LIMIT 1")
company_on_0=$(on router billing -At -c "SELECT s.company_id FROM billing.company_shards s WHERE s.shard = 0 ORDER BY 1 LIMIT 1")
before_1=$(on router billing -At -c "SELECT billing.usage_current($company_on_1, '$as_of')")
node_ctl shard1 0 stop
out=$(on router billing -At -v VERBOSITY=verbose -c "SELECT billing.usage_current($company_on_1, '$as_of')" 2>&1 || true)
expect "company $company_on_1 (shard 1, stopped): a clear error naming the shard's connection" "$out" "ERROR: .*PL/Proxy.*(connect|connection)"
echo "    ${out:0:400}"
out=$(on router billing -At -c "SELECT billing.usage_current($company_on_0, '$as_of') IS NOT NULL,
                                        billing.record_call($company_on_0, 'while-shard-1-down', '$as_of'::timestamptz - interval '1 hour', 90)" 2>&1)
expect "company $company_on_0 (shard 0) reads and ingests meanwhile" "$out" "^t\|t$"
node_ctl shard1 0 start
out=$(on router billing -At -c "SELECT billing.usage_current($company_on_1, '$as_of')" 2>&1 || true)
[ "$out" = "$before_1" ] || echo "    the first call after the restart: ${out:0:300}"
[ "$out" = "$before_1" ] || out=$(on router billing -At -c "SELECT billing.usage_current($company_on_1, '$as_of')" 2>&1 || true)
expect "shard 1 restarted: company $company_on_1 reads as before, on the next connection" "$out" "^$(printf '%s' "$before_1" | sed 's/[][\.*^$(){}+?|]/\\&/g')$"
out=$(on router billing -At -c "SELECT billing.usage_current($company_on_1, '$as_of') = '$before_1'::jsonb" 2>&1 || true)
expect "... and on every call after" "$out" "^t$"

section "moving a company to another shard"
mover=$(on router billing -At -c "SELECT s.company_id FROM billing.company_shards s JOIN billing.period_usage p
                                     ON p.company_id = s.company_id AND p.invoice_id IS NOT NULL
                                   WHERE s.shard = 0 ORDER BY 1 LIMIT 1")
on router billing -v ids="$mover" -v as_of="$as_of" -v full=1 -f test/shards/figures.sql >"$work/before_move.txt"
on router billing -c "CALL billing.move_company($mover, 2)"
on router billing -v ids="$mover" -v as_of="$as_of" -v full=1 -f test/shards/figures.sql >"$work/after_move.txt"
same "company $mover moved from shard 0 to 2: every read identical" "$work/before_move.txt" "$work/after_move.txt"
out=$(on shard0 billing -At -c "SELECT pg_catalog.count(*) FROM billing.calls WHERE company_id = $mover" \
        -c "SELECT pg_catalog.count(*) FROM billing.invoices WHERE company_id = $mover" | paste -sd' ')
expect "... nothing of it left on shard 0" "$out" "^0 0$"
out=$(on router billing -At -c "SELECT billing.shard_of($mover), s.source_removed FROM billing.company_moves s WHERE s.company_id = $mover")
expect "... the map says shard 2, the move is recorded" "$out" "^2\|t$"
existing=$(on shard2 billing -At -c "SELECT external_id FROM billing.calls WHERE company_id = $mover ORDER BY id LIMIT 1")
out=$(on router billing -At -c "SELECT billing.record_call($mover, '$existing', '$as_of'::timestamptz - interval '1 day', 60),
                                       billing.record_call($mover, 'after-move', '$as_of'::timestamptz - interval '1 hour', 60)")
expect "... a call stored before the move is not new, a new one is" "$out" "^f\|t$"
out=$(on shard2 billing -At -c "SELECT pg_catalog.count(*) FROM billing.calls WHERE company_id = $mover AND external_id = 'after-move'")
expect "... and lands on shard 2" "$out" "^1$"
out=$(on router billing -At -c "CALL billing.move_company($mover, 2)" 2>&1 || true)
expect "moving it to the shard it is on: refused" "$out" "is on shard 2 already"
out=$(on router billing -At -c "CALL billing.move_company($mover, 7)" 2>&1 || true)
expect "moving it to a shard that does not exist: refused" "$out" "shard 7 does not exist"

section "the HTTP gateway on the router, and pgbouncer in front of it"
build_gateway
token=$(on router billing -At -c "SELECT token FROM billing.create_api_token(1, 'router test')")
build/cmake/billing-gateway --database "host=$work/router port=$((base_port + 4)) dbname=billing user=gateway_login" \
  --port 0 --port-file "$work/gateway.port" --pool-size 2 --webhook-interval-ms 0 >"$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 100); do [ -s "$work/gateway.port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/gateway.port")"
get() { curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$url$1"; }
code=$(get /api/billing/usage/current)
expect "GET /api/billing/usage/current through the router: 200" "$code" "^200$"
out=$(python3 -c "import json,sys; d=json.load(open('$work/body'))['data']; print(d['pricing_model'], d['calls']['total'] > 0)" 2>&1 || cat "$work/body")
expect "... company 1's card" "$out" "^per_minute True$"
code=$(get /api/billing/history)
period=$(python3 -c "import json; print(json.load(open('$work/body'))['data'][0]['period_id'])" 2>&1 || cat "$work/body")
expect "GET /api/billing/history: 200 with the period of each invoice ($period)" "$code $period" "^200 [0-9]+$"
code=$(get "/api/billing/period/$period")
expect "GET /api/billing/period/$period: 200" "$code" "^200$"
code=$(get "/api/billing/period/$period/download")
expect "... its CSV: 200, with the header" "$code $(head -c 40 "$work/body")" "^200 [a-z_]+,"
csv_router=$(md5sum <"$work/body")
csv_shard=$(on router billing -At -c "SELECT pg_catalog.md5(billing.period_csv($period))")
expect "... byte for byte the period's CSV lines" "$csv_router" "^${csv_shard%% *} "
code=$(get "/api/billing/period/$period2")
expect "another company's period through the router: 404" "$code" "^404$"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer 1|not-a-token" "$url/api/billing/usage/current")
expect "a wrong token through the router: 401" "$code" "^401$"
cat >"$work/pgbouncer.ini" <<INI
[databases]
billing = host=$work/router port=$((base_port + 4)) dbname=billing
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = 1
ignore_startup_parameters = extra_float_digits
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
printf '"shard_app" ""\n"shard_viewer" ""\n' >"$work/userlist.txt"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work/pgbouncer.ini" "$work/userlist.txt"
token_1=$(on router billing -At -c "SELECT token FROM billing.create_api_token($company_on_1, 'router test')")
token_0=$(on router billing -At -c "SELECT token FROM billing.create_api_token($company_on_0, 'router test')")
node_ctl shard1 0 stop
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token_1" "$url/api/billing/usage/current")
expect "shard 1 stopped: its company's token gets 503 with a JSON error" "$code $(head -c 60 "$work/body")" '^503 \{"success": ?false'
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token_0" "$url/api/billing/usage/current")
expect "... a company of shard 0 gets 200 (its token's limit lives on its shard)" "$code" "^200$"
node_ctl shard1 0 start
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token_1" "$url/api/billing/usage/current")
[ "$code" = 200 ] || code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token_1" "$url/api/billing/usage/current")
expect "... shard 1 back: 200 again" "$code" "^200$"
as_cluster_owner pgbouncer -d "$work/pgbouncer.ini"
for _ in $(seq 1 50); do [ -s "$work/pgbouncer.pid" ] && break; sleep 0.1; done
bounce() { command psql -X -q -At -h 127.0.0.1 -p "$bouncer_port" -U "$1" -d billing -c "$2" 2>&1 || true; }
out=$(bounce shard_app "BEGIN; SET LOCAL billing.company_id = '2'; SELECT billing.usage_current()->>'pricing_model'; COMMIT;")
expect "pgbouncer in front of the router: SET LOCAL per transaction" "$out" "^package$"
bounce shard_app "SET billing.company_id = '2'" >/dev/null
out=$(bounce shard_app "SELECT billing.usage_current()")
expect "... another client's session SET: refused, naming the pooler's earlier client" "$out" "by an earlier client"
bounce shard_app "RESET billing.company_id" >/dev/null
out=$(bounce shard_viewer "SELECT billing.usage_current()->>'pricing_model'")
expect "... a viewer stays pinned" "$out" "^per_minute$"

[ "$status" -eq 0 ] && echo "shards: every check passed"
exit "$status"
