# Shared by scripts/demo.sh and scripts/test.sh: packages, build, and a throwaway cluster.
# Source it; it defines functions only.

# Debian packages the build and the tests need.
BILLING_PACKAGES=(make g++ cmake postgresql-15 postgresql-contrib postgresql-server-dev-15
                  libboost-dev nlohmann-json3-dev libgtest-dev
                  clang libclang-rt-14-dev sqlsmith libbenchmark-dev postgresql-15-cron python3-psycopg2
                  libcpp-httplib-dev libpq-dev pkg-config curl wrk chromium fonts-dejavu-core
                  pgbouncer python3-psycopg php-cli php-pgsql php-bcmath default-jdk-headless
                  libpostgresql-jdbc-java postgresql-15-plproxy)

log() { printf '\n==> %s\n' "$*"; }

# Installs whatever of BILLING_PACKAGES is missing (as root, with apt-get update first).
ensure_packages() {
  local missing=()
  for package in "${BILLING_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The npm packages, exactly as the lock files say: the dashboard's (Chart.js, playwright-core)
# into web/node_modules, the Node client example's (pg) into clients/node/node_modules. Node.js and npm come from Debian when the machine has none.
install_web_packages() {
  if ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  (cd clients/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# The gateway binary (build/cmake/billing-gateway).
build_gateway() {
  cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build/cmake -j2 --target billing-gateway >/dev/null
}

pg_bindir() { echo "$(pg_config --bindir)"; }

build_and_install() {
  log "building and installing the extension"
  make -s -j2 >/dev/null
  if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi
}

# PostgreSQL refuses to run as root: the cluster then belongs to the postgres user.
as_cluster_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_cluster NAME [extra postgres -c settings...]
# Starts a throwaway cluster under build/NAME in the checkout (or under /tmp when the checkout
# is not reachable by the postgres user), listening on a unix socket only (port CLUSTER_PORT,
# 54329 unless set, so that a test can run a second cluster beside the first). Sets PGHOST, PGPORT,
# PGUSER, PGDATABASE and CLUSTER_DIR, and stops the cluster when the calling shell exits.
start_cluster() {
  local name=$1
  shift
  CLUSTER_DIR="$PWD/build/$name"
  mkdir -p "$PWD/build"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PWD/build"; then
    CLUSTER_DIR=$(mktemp -d "/tmp/company_billing.$name.XXXXXX")
  fi
  rm -rf "$CLUSTER_DIR"
  mkdir -p "$CLUSTER_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$CLUSTER_DIR"
  local bindir
  bindir=$(pg_bindir)
  as_cluster_owner "$bindir/initdb" -D "$CLUSTER_DIR/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1 ||
    { cat "$CLUSTER_DIR/initdb.log"; return 1; }
  local settings=(-c listen_addresses='' -c unix_socket_directories="$CLUSTER_DIR"
                  -c port="${CLUSTER_PORT:-54329}" -c fsync=off -c max_connections=40 "$@")
  as_cluster_owner "$bindir/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w \
    -o "${settings[*]}" start >/dev/null ||
    { cat "$CLUSTER_DIR/server.log"; return 1; }
  export CLUSTER_DIR PGHOST="$CLUSTER_DIR" PGPORT="${CLUSTER_PORT:-54329}" PGUSER=postgres PGDATABASE=postgres
  trap stop_cluster EXIT
}

stop_cluster() {
  [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ] &&
    as_cluster_owner "$(pg_bindir)/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1
  return 0
}

# start_pgbouncer PORT USER...: pgbouncer in transaction mode on 127.0.0.1:PORT in front of the
# cluster in PGHOST/PGPORT (every database), trusting the given users, one server connection
# per database and user (so that consecutive clients share it, as behind a busy pooler). Stops
# it when the calling shell exits (with the cluster). Sets PGBOUNCER_DIR.
start_pgbouncer() {
  local port=$1
  shift
  PGBOUNCER_DIR=$(mktemp -d /tmp/company_billing.pgbouncer.XXXXXX)
  for user in "$@"; do printf '"%s" ""\n' "$user"; done >"$PGBOUNCER_DIR/userlist.txt"
  cat >"$PGBOUNCER_DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PGHOST port=$PGPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $PGBOUNCER_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = $PGBOUNCER_DIR/pgbouncer.log
pidfile = $PGBOUNCER_DIR/pgbouncer.pid
INI
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PGBOUNCER_DIR"
  as_cluster_owner pgbouncer -d "$PGBOUNCER_DIR/pgbouncer.ini"
  for _ in $(seq 1 50); do [ -s "$PGBOUNCER_DIR/pgbouncer.pid" ] && break; sleep 0.1; done
  export PGBOUNCER_DIR
  trap 'stop_pgbouncer; stop_cluster' EXIT
}

stop_pgbouncer() {
  [ -n "${PGBOUNCER_DIR:-}" ] && [ -s "$PGBOUNCER_DIR/pgbouncer.pid" ] &&
    kill "$(cat "$PGBOUNCER_DIR/pgbouncer.pid")" 2>/dev/null
  return 0
}

# start_pooled_demo DB CLUSTER_PORT BOUNCER_PORT USER...: a cluster of its own (preloaded, audit
# in DB) holding database DB with the extension, the demo data, the roles pooler_app and
# pooler_viewer (test/pooler_setup.sql), and pgbouncer on 127.0.0.1:BOUNCER_PORT for USER...
start_pooled_demo() {
  local db=$1 cluster_port=$2 bouncer_port=$3
  shift 3
  CLUSTER_PORT=$cluster_port start_cluster "$db" -c shared_preload_libraries=company_billing -c billing.database="$db"
  command psql -X -q -d postgres -c "CREATE DATABASE $db"
  command psql -X -q -d "$db" -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
  command psql -X -q -d "$db" -f test/pooler_setup.sql >/dev/null
  start_pgbouncer "$bouncer_port" "$@"
}
