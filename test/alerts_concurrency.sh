#!/usr/bin/env bash
# Alerts under real concurrency (pgbench, 8 clients on one company), checked against an
# independent computation from the raw calls with numeric:
#   1. growth only: 200 one-minute calls cross ten included-minute thresholds and three budget
#      thresholds; each is recorded once, with one event;
#   2. growth and corrections at once (calls recorded and deleted for 5 s): at the end every
#      threshold is firing exactly when the usage reaches it, and each alert's events alternate
#      fired, resolved, fired ... with times_fired the number of fired events;
#   3. one INSERT of calls for 7,000 companies beside the writers: each crosses once.
# Runs against the cluster of PGHOST/PGPORT (the test command's regression cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
db=alerts_concurrency
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
psql -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql <<'SQL'
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Growth', 'Europe/Berlin'), (2, 'Corrections', 'America/New_York');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49.00, 100, 0.15, 2.00, '2020-01-01'), (2, 'per_minute', 49.00, 100, 0.15, 2.00, '2020-01-01');
INSERT INTO billing.alert_settings (company_id, included_thresholds, monthly_budget, alert_on_projection)
VALUES (1, '{10,20,30,40,50,60,70,80,90,100}', 60.00, true), (2, '{10,20,30,40,50,60,70,80,90,100}', 60.00, false);
-- Company 2 starts at 60 minutes, so that corrections have something to take back.
SELECT billing.record_calls(2, array_agg('seed-' || g), array_agg(now() - g * interval '1 second'), array_agg(60))
  FROM generate_series(1, 60) AS g;
SQL
mkdir -p build
cat >build/alerts_growth.sql <<'SQL'
SELECT billing.record_call(1, 'g-' || :client_id || '-' || :scale || '-' || random()::text, now(), 60);
SQL
cat >build/alerts_corrections.sql <<'SQL'
\set action random(1, 10)
SELECT CASE WHEN :action <= 6 THEN billing.record_call(2, 'c-' || :client_id || '-' || random()::text, now(), 60) END;
DELETE FROM billing.calls WHERE :action > 6 AND id = (SELECT k.id FROM billing.calls k WHERE k.company_id = 2
                                                      ORDER BY k.external_id COLLATE "C" OFFSET (:action * 7) LIMIT 1);
SQL
failed=0
report() {  # report NAME OK DETAIL
  if [ "$2" = t ]; then echo "ok     $1"; else echo "FAILED $1   $3"; failed=$((failed + 1)); fi
}
pgbench_run() {
  "$(pg_bindir)/pgbench" -n -c 8 -j 2 "$@" "$db" >build/alerts_pgbench.log 2>&1 || true
  grep -q "number of failed transactions: 0\|actually processed" build/alerts_pgbench.log &&
    ! grep -qi "aborted\|deadlock\|ERROR" build/alerts_pgbench.log
}
if pgbench_run -t 25 -f build/alerts_growth.sql; then ok=t; else ok=f; fi
report "growth: 8 clients x 25 calls without an error or a deadlock" $ok "$(tail -n 5 build/alerts_pgbench.log)"
growth=$(psql -At <<'SQL'
WITH raw AS (SELECT pg_catalog.sum(duration_sec) / 60.0 AS minutes FROM billing.calls WHERE company_id = 1),
expected AS (
    SELECT 'included_minutes' AS kind, t::numeric AS threshold FROM raw, generate_series(10, 100, 10) AS t WHERE 100 * minutes / 100 >= t
    UNION ALL
    SELECT 'budget', t FROM raw, unnest(ARRAY[50, 80, 100]) AS t
     WHERE 100 * (49 + round(greatest(minutes - 100, 0) * 0.15, 2)) / 60 >= t),
recorded AS (SELECT kind, threshold, times_fired, (SELECT count(*) FROM billing.alert_events e WHERE e.alert_id = a.id) AS events
               FROM billing.alerts a WHERE company_id = 1 AND kind <> 'projected_budget')
SELECT (SELECT count(*) FROM expected) || ' expected, ' || (SELECT count(*) FROM recorded) || ' recorded, '
       || (SELECT count(*) FROM recorded WHERE times_fired <> 1 OR events <> 1) || ' not exactly once, '
       || (SELECT count(*) FROM (SELECT kind, threshold FROM expected EXCEPT SELECT kind, threshold FROM recorded) x) || ' missing'
SQL
)
report "growth: every threshold reached recorded exactly once ($growth)" \
  "$([[ "$growth" =~ ^13\ expected,\ 13\ recorded,\ 0\ not\ exactly\ once,\ 0\ missing$ ]] && echo t || echo f)" "$growth"
projected=$(psql -At -c "SELECT count(*) || ':' || coalesce(max(times_fired), 0) FROM billing.alerts WHERE company_id = 1 AND kind = 'projected_budget'")
report "growth: the projection alert once ($projected)" "$([ "$projected" = "1:1" ] && echo t || echo f)" "$projected"

if pgbench_run -T 5 -f build/alerts_corrections.sql; then ok=t; else ok=f; fi
report "corrections: 8 clients recording and deleting for 5 s without an error or a deadlock" $ok "$(tail -n 5 build/alerts_pgbench.log)"
final=$(psql -At <<'SQL'
WITH raw AS (SELECT COALESCE(pg_catalog.sum(duration_sec), 0) / 60.0 AS minutes FROM billing.calls WHERE company_id = 2),
thresholds AS (
    SELECT 'included_minutes' AS kind, t::numeric AS threshold, 100 * minutes / 100 >= t AS reached
      FROM raw, generate_series(10, 100, 10) AS t
    UNION ALL
    SELECT 'budget', t, 100 * (49 + round(greatest(minutes - 100, 0) * 0.15, 2)) / 60 >= t
      FROM raw, unnest(ARRAY[50, 80, 100]) AS t),
events AS (
    SELECT a.kind, a.threshold, a.state, a.times_fired,
           pg_catalog.string_agg(e.event, ',' ORDER BY e.id) AS sequence,
           pg_catalog.count(*) FILTER (WHERE e.event = 'alert.fired') AS fired
      FROM billing.alerts a JOIN billing.alert_events e ON e.alert_id = a.id
     WHERE a.company_id = 2 AND a.period_start = (SELECT start_date FROM billing.period_for(2, (now() AT TIME ZONE 'America/New_York')::date))
     GROUP BY 1, 2, 3, 4)
SELECT (SELECT round(minutes, 2) FROM raw) || ' minutes; '
       || (SELECT count(*) FROM thresholds t LEFT JOIN events e USING (kind, threshold)
            WHERE t.reached IS DISTINCT FROM (e.state = 'firing') AND NOT (NOT t.reached AND e.state IS NULL)) || ' states wrong, '
       || (SELECT count(*) FROM events WHERE times_fired <> fired
              OR sequence !~ '^alert\.fired(,alert\.resolved,alert\.fired)*(,alert\.resolved)?$'
              OR (state = 'firing') <> (sequence ~ 'alert\.fired$')) || ' histories wrong, '
       || (SELECT coalesce(sum(fired), 0) FROM events) || ' firings'
SQL
)
report "corrections: every threshold firing exactly when the raw usage reaches it, histories alternate ($final)" \
  "$([[ "$final" =~ \ 0\ states\ wrong,\ 0\ histories\ wrong, ]] && echo t || echo f)" "$final"
# 3. One INSERT of calls for 7,000 companies, each crossing 80%, while 8 writers record calls of
# company 1: one lock for all of them (not 7,000 in a lock table of 6,400), each alert once.
psql <<'SQL'
INSERT INTO billing.companies (id, name, timezone) SELECT 1000 + i, 'Bulk ' || i, 'Asia/Tokyo' FROM generate_series(1, 7000) AS i;
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
SELECT 1000 + i, 'per_minute', 10.00, 10, 0.15, 2.00, '2020-01-01' FROM generate_series(1, 7000) AS i;
SQL
"$(pg_bindir)/pgbench" -n -c 8 -j 2 -T 4 -f build/alerts_growth.sql "$db" >build/alerts_pgbench_bulk.log 2>&1 &
writers=$!
bulk_ok=t
psql -c "INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
         SELECT 1000 + i, 'bulk-' || i, now(), 480, 'completed' FROM generate_series(1, 7000) AS i" >build/alerts_bulk.log 2>&1 || bulk_ok=f
wait "$writers" || true
report "bulk: one INSERT for 7,000 companies commits beside 8 writers" "$bulk_ok" "$(cat build/alerts_bulk.log)"
bulk=$(psql -At -c "SELECT count(*) || ' alerts, ' || count(*) FILTER (WHERE times_fired <> 1) || ' not once'
                      FROM billing.alerts WHERE company_id > 1000 AND kind = 'included_minutes'")
report "bulk: 7,000 alerts at 80%, each once ($bulk)" "$([ "$bulk" = "7000 alerts, 0 not once" ] && echo t || echo f)" "$bulk"
writers_ok=$(grep -qi "aborted\|deadlock\|ERROR" build/alerts_pgbench_bulk.log && echo f || echo t)
report "bulk: the writers beside it without an error" "$writers_ok" "$(tail -n 5 build/alerts_pgbench_bulk.log)"
rollup=$(psql -At -c "SELECT count(*) FROM billing.verify_usage_daily()")
report "the rollup equals the raw rows" "$([ "$rollup" = 0 ] && echo t || echo f)" "$rollup rows differ"
[ "${KEEP:-}" ] || dropdb "$db"
echo "$((8 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
