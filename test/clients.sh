#!/usr/bin/env bash
# The README's client examples in four languages (clients/: Python with psycopg 3, Node with pg,
# PHP with PDO, Java with JDBC), each through pgbouncer in transaction mode, as the application
# for each demo company and as a viewer: the usage card's amounts, the trends, the history with
# its exact sum, and a period's CSV (its SHA-256). Every output must equal the one psql computes
# directly from the database, character for character (money as exact decimals in all four).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
bouncer_port=64336
start_pooled_demo clients 54336 "$bouncer_port" pooler_app pooler_viewer
[ -d clients/node/node_modules/pg ] || (cd clients/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

expected() {  # expected COMPANY: what every client must print, computed by psql on the database
  command psql -X -q -At -d clients -v company="$1" <<'SQL'
BEGIN;
SELECT set_config('billing.company_id', :'company', true) \g /dev/null
SELECT format('usage total_cost=%s calls.cost=%s appointments.cost=%s base_fee=%s currency=%s', u->>'total_cost',
              u->'calls'->>'cost', u->'appointments'->>'cost', u->>'base_fee', u->>'currency')
  FROM billing.usage_current() AS u;
SELECT format('trend %s calls=%s minutes=%s cost=%s', month, calls, minutes, coalesce(cost::text, 'null'))
  FROM billing.usage_trends();
SELECT format('history %s total=%s status=%s', number, total, status) FROM billing.billing_history();
SELECT 'history_sum=' || coalesce(sum(total), 0) FROM billing.billing_history();
SELECT format('csv records=%s sha256=%s', count(*),
              encode(sha256(convert_to(coalesce(string_agg(line || E'\r\n', '' ORDER BY n), ''), 'UTF8')), 'hex'))
  FROM billing.period_csv_lines((SELECT id FROM billing.billing_periods WHERE status = 'closed' AND company_id = :'company'
                                  ORDER BY start_date DESC LIMIT 1)) WITH ORDINALITY AS t(line, n);
COMMIT;
SQL
}

export PGHOST=127.0.0.1 PGPORT=$bouncer_port PGDATABASE=clients
declare -A run=(
  [python]="/usr/bin/python3 clients/python/usage_card.py"
  [node]="node clients/node/usage_card.mjs"
  [php]="php clients/php/usage_card.php"
  [java]="java -cp /usr/share/java/postgresql.jar clients/java/UsageCard.java"
)
mkdir -p build/clients
status=0
for target in 1 2 3 4 viewer; do
  if [ "$target" = viewer ]; then user=pooler_viewer; company=1; else user=pooler_app; company=$target; fi
  PGHOST=$CLUSTER_DIR PGPORT=${CLUSTER_PORT:-54336} expected "$company" >"build/clients/expected_$target.txt"
  for language in python node php java; do
    # shellcheck disable=SC2086  # the command and its arguments, split on purpose
    if PGUSER=$user ${run[$language]} "$target" >"build/clients/${language}_$target.txt" 2>&1 &&
       diff -u "build/clients/expected_$target.txt" "build/clients/${language}_$target.txt" >"build/clients/${language}_$target.diff"; then
      echo "ok     $language as ${target/viewer/the viewer of company 1}: $(wc -l <"build/clients/${language}_$target.txt") lines equal psql's"
    else
      echo "FAILED $language as $target:"; head -n 20 "build/clients/${language}_$target.diff" "build/clients/${language}_$target.txt"
      status=1
    fi
  done
done
head -n 3 build/clients/expected_1.txt
exit $status
