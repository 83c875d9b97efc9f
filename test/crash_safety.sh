#!/usr/bin/env bash
# Crash safety: SIGKILL a backend (the server then restarts every backend and recovers from
# WAL) during heavy ingestion and during close_period(). Afterwards every acknowledged call is
# stored, every figure equals a recomputation from the raw rows, and the interrupted close left
# nothing half-written. Runs against the cluster in PGHOST/PGPORT/CLUSTER_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d crash "$@"; }
wait_for_server() {
  for _ in $(seq 1 100); do
    psql -X -q -At -d crash -c "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server did not come back"; return 1
}
dropdb --if-exists crash 2>/dev/null
createdb crash
# The audit writer serves the regression database: reads here are unaudited on purpose.
psql -X -q -d postgres -c "ALTER DATABASE crash SET billing.audit = off"
q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
q <<'SQL'
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Crash Praxis', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (1, 'per_minute', 49, 100, 0.15, 2, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-06-01', '2025-06-30');
SQL

# 1. Two writers ingest calls, each acknowledging a call only after its COMMIT returned.
writer() {  # writer NAME
  local name=$1
  {
    for i in $(seq 1 100000); do
      echo "BEGIN;"
      echo "SELECT billing.record_call(1, '$name-$i', timestamptz '2025-06-01 08:00+00' + interval '$((i % 600)) minutes', $((30 + i % 300)), 'completed');"
      echo "SELECT billing.record_appointment(1, 'appt-$name-$i', timestamptz '2025-06-02 08:00+00' + interval '$((i % 600)) minutes') WHERE $i % 3 = 0;"
      echo "COMMIT;"
      echo "\\echo ack $name-$i"
    done
  } | psql -X -q -At -v ON_ERROR_STOP=1 -d crash 2>/dev/null | grep '^ack ' >"build/crash_acks_$name.txt" || true
}
writer w1 & w1=$!
writer w2 & w2=$!
sleep 3
# A writer's last statement is often BEGIN or COMMIT: look until one is caught inside an ingestion.
victim=""
for _ in $(seq 1 100); do
  victim=$(q -c "SELECT pid FROM pg_stat_activity WHERE datname = 'crash' AND query LIKE '%record_%' AND pid <> pg_backend_pid() LIMIT 1")
  [ -n "$victim" ] && break
  sleep 0.05
done
echo "killing backend $victim during ingestion (SIGKILL)"
kill -9 "$victim"
wait "$w1" "$w2" || true
wait_for_server
acked=$(cat build/crash_acks_w1.txt build/crash_acks_w2.txt | wc -l)
cat build/crash_acks_w1.txt build/crash_acks_w2.txt | sed 's/^ack //' >build/crash_acked_ids.txt
q -c "CREATE TEMP TABLE acked (external_id text)" -c "\\copy acked FROM 'build/crash_acked_ids.txt'" \
  -c "SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM billing.calls c WHERE c.company_id = 1 AND c.external_id = a.external_id)" \
  >build/crash_missing.txt
missing=$(tail -n 1 build/crash_missing.txt)
echo "acknowledged calls: $acked, missing after recovery: $missing"
[ "$acked" -gt 0 ] && [ "$missing" = "0" ]

# Every figure equals a recomputation from the raw rows.
check_figures() {
  q <<'SQL'
SELECT CASE WHEN (u -> 'calls' ->> 'total')::bigint = r.calls
             AND (u -> 'calls' ->> 'completed')::bigint = r.completed
             AND (u -> 'appointments' ->> 'total')::bigint = r.appointments
             AND (u ->> 'total_cost')::numeric = 49 + round(greatest(r.seconds - 6000, 0) * 0.15 / 60, 2) + round(r.appointments * 2, 2)
            THEN 'figures ok' ELSE 'figures differ: ' || u::text || ' vs ' || r::text END
  FROM billing.usage_current(1, '2025-06-30 12:00+00') AS u,
       (SELECT (SELECT count(*) FROM billing.calls WHERE company_id = 1) AS calls,
               (SELECT count(*) FROM billing.calls WHERE company_id = 1 AND status = 'completed') AS completed,
               (SELECT coalesce(sum(duration_sec), 0) FROM billing.calls WHERE company_id = 1) AS seconds,
               (SELECT count(*) FROM billing.appointments WHERE company_id = 1 AND status <> 'cancelled') AS appointments) AS r;
SQL
}
figures=$(check_figures); echo "$figures"; [ "$figures" = "figures ok" ]
rollup=$(q -c "SELECT (SELECT count(*) FROM billing.verify_usage_daily()) + (SELECT count(*) FROM billing.verify_usage_profile())")
echo "rollup rows differing from a recomputation: $rollup"; [ "$rollup" = "0" ]

# 2. A backend dies in the middle of close_period(): nothing of the close survives, and closing
#    again bills every call exactly once.
psql -X -q -d crash -c "BEGIN; SELECT billing.close_period((SELECT id FROM billing.billing_periods WHERE company_id = 1), '2025-07-02'); SELECT pg_sleep(60); COMMIT;" >/dev/null 2>&1 &
closer=$!
for _ in $(seq 1 50); do
  victim=$(q -c "SELECT pid FROM pg_stat_activity WHERE datname = 'crash' AND query LIKE '%close_period%' AND wait_event = 'PgSleep' LIMIT 1")
  [ -n "$victim" ] && break
  sleep 0.2
done
echo "killing backend $victim inside close_period (SIGKILL)"
kill -9 "$victim"
wait "$closer" || true
wait_for_server
state=$(q -c "SELECT status || ', invoices: ' || (SELECT count(*) FROM billing.invoices) || ', lines: ' || (SELECT count(*) FROM billing.invoice_lines) FROM billing.billing_periods WHERE company_id = 1")
echo "after the crash: period $state"
[ "$state" = "open, invoices: 0, lines: 0" ]
q -c "SELECT billing.close_period((SELECT id FROM billing.billing_periods WHERE company_id = 1), '2025-07-02')" >/dev/null
result=$(q <<'SQL'
WITH invoice AS (SELECT * FROM billing.invoices WHERE company_id = 1),
     raw AS (SELECT (SELECT coalesce(sum(duration_sec), 0) FROM billing.calls WHERE company_id = 1) AS seconds,
                    (SELECT count(*) FROM billing.appointments WHERE company_id = 1 AND status <> 'cancelled') AS appointments)
SELECT CASE WHEN i.total = 49 + round(greatest(r.seconds - 6000, 0) * 0.15 / 60, 2) + round(r.appointments * 2, 2)
             AND i.total = (SELECT sum(amount) FROM billing.invoice_lines l WHERE l.invoice_id = i.id)
             AND (SELECT sum(billed_seconds) FROM billing.invoice_lines l WHERE l.invoice_id = i.id) = r.seconds
            THEN 'invoice ok' ELSE 'invoice differs: ' || i.total || ' for ' || r::text END
  FROM invoice i, raw r;
SQL
)
echo "$result"; [ "$result" = "invoice ok" ]
