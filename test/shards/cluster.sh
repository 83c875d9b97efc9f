# Sourced by test/shards.sh and bench/shards.sh: three shards, a router and a single node, each a
# cluster of its own under a temporary directory (unix sockets only), stopped and removed when the
# calling shell exits. "on NODE DB ..." runs psql there (as AS_USER, default postgres).
base_port=54360               # single 54360, shards 54361-54363, router 54364
work=$(mktemp -d /tmp/company_billing.shards.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
clusters=()
cleanup() {
  [ -n "${gateway_pid:-}" ] && kill "$gateway_pid" 2>/dev/null
  [ -s "$work/pgbouncer.pid" ] && kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null
  for dir in "${clusters[@]}"; do
    as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
start_node() {  # start_node NAME PORT [settings...]
  local name=$1 port=$2 dir="$work/$1"
  shift 2
  as_cluster_owner mkdir -p "$dir"
  as_cluster_owner "$(pg_bindir)/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
  echo "-c listen_addresses='' -c unix_socket_directories=$dir -c port=$port -c fsync=off -c max_connections=60 -c shared_buffers=64MB $*" \
    >"$work/$name.options"
  as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$(cat "$work/$name.options")" \
    start >/dev/null || { cat "$dir/server.log"; return 1; }
  clusters+=("$dir")
}
node_ctl() {  # node_ctl NAME PORT stop|start
  local dir="$work/$1"
  if [ "$3" = stop ]; then
    as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
  else
    as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$(cat "$work/$1.options")" start >/dev/null
  fi
}
on() {  # on NAME DB [psql args...]: psql as postgres on that node
  local name=$1 db=$2 port
  shift 2
  case $name in single) port=$base_port ;; shard0) port=$((base_port + 1)) ;; shard1) port=$((base_port + 2)) ;;
                shard2) port=$((base_port + 3)) ;; router) port=$((base_port + 4)) ;; esac
  command psql -X -q -v ON_ERROR_STOP=1 -h "$work/$name" -p "$port" -U "${AS_USER:-postgres}" -d "$db" "$@"
}
start_shard_cluster() {
  log "clusters: a single node, three shards, the router"
  preload=(-c shared_preload_libraries=company_billing -c billing.database=billing)
  start_node single "$base_port" "${preload[@]}"
  for n in 0 1 2; do start_node "shard$n" $((base_port + 1 + n)) "${preload[@]}"; done
  start_node router $((base_port + 4))
  for node in single shard0 shard1 shard2; do
    on "$node" postgres -c "CREATE DATABASE billing"
    on "$node" billing -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
    on "$node" billing -f demo/plan_catalog.sql
  done
  for db in stage direct; do
    on single postgres -c "CREATE DATABASE $db"
    on single "$db" -c "CREATE EXTENSION company_billing CASCADE" -c "ALTER DATABASE $db SET billing.audit = off" 2>/dev/null
  done
  on single direct -f demo/plan_catalog.sql
  on router postgres -c "CREATE DATABASE billing"
  on router billing <<SQL
  CREATE EXTENSION company_billing_router CASCADE;
  CREATE SERVER billing_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1',
      p0 'host=$work/shard0 port=$((base_port + 1)) dbname=billing',
      p1 'host=$work/shard1 port=$((base_port + 2)) dbname=billing',
      p2 'host=$work/shard2 port=$((base_port + 3)) dbname=billing');
  CREATE USER MAPPING FOR PUBLIC SERVER billing_shards;
  GRANT USAGE ON FOREIGN SERVER billing_shards TO billing_viewer, billing_app, billing_admin;
  SELECT billing.reserve_shard_ids();
SQL
  for node in single shard0 shard1 shard2 router; do
    on "$node" postgres -c "CREATE ROLE shard_app LOGIN IN ROLE billing_app" \
      -c "CREATE ROLE shard_viewer LOGIN IN ROLE billing_viewer" -c "CREATE ROLE shard_admin LOGIN IN ROLE billing_admin" \
      -c "CREATE ROLE gateway_login LOGIN IN ROLE billing_app"
  done
}

# load_through_router COMPANIES: the demo data and COMPANIES random companies (staging database
# "stage" on the single node) loaded through the router's API, and the same API calls into the
# single node's database "direct". Sets as_of (the loading time), load_seconds (the router's
# load) and calls.
load_through_router() {
  on single stage -f demo/demo_data.sql >/dev/null
  on single stage -v companies="$1" -f test/shards/random_data.sql >/dev/null
  on single stage -v out="$work/load" -f test/shards/api_calls.sql
  as_of=$(on single stage -At -c "SELECT pg_catalog.now()")
  start=$(date +%s.%N)
  on router billing -f "$work/load.companies.sql" >/dev/null
  on router billing -f "$work/load.usage.sql" >/dev/null
  load_seconds=$(awk -v from="$start" -v to="$(date +%s.%N)" 'BEGIN { printf "%.1f", to - from }')
  on single direct -f "$work/load.companies.sql" >/dev/null
  on single direct -f "$work/load.usage.sql" >/dev/null
  calls=$(on single stage -At -c "SELECT pg_catalog.count(*) FROM billing.calls")
}
