#!/usr/bin/env bash
# The attack suite, on a cluster of its own (billing.database = attacks, a small rate limiter):
#   1. install time: look-alikes of every operator and function the scripts use are planted in
#      public and in the installing role's schema by a role with CREATE there; then a fresh
#      CREATE EXTENSION and an install of 1.0 updated to the newest. No stored expression of the
#      extension may depend on anything outside pg_catalog, billing and btree_gist, and after a
#      workload as superuser no planted function may have run;
#   2. run time: test/attacks/attacks.sql (views, internal functions, other companies, existence
#      oracles, issued invoices, mappings, settings, audit, limiter);
#   3. what needs sessions of its own: a dropped and re-created role, a WITH HOLD cursor on a
#      pooled connection, a read in a database the audit writer does not serve, the limiter full.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh
start_cluster attacks -c shared_preload_libraries=company_billing -c billing.database=attacks -c billing.rate_limit_keys=16 -c max_locks_per_transaction=2048
held=0; broken=0
verdict() {  # verdict NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then held=$((held + 1)); else broken=$((broken + 1)); echo "BROKEN: $1"; fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

foreign_bindings=$(cat <<'SQL'
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'company_billing'),
members AS (SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass
               AND d.refobjid = (SELECT oid FROM ext) AND d.deptype = 'e'),
tables AS (SELECT objid AS relid FROM members WHERE classid = 'pg_class'::regclass),
owned AS (
    SELECT classid, objid FROM members
    UNION ALL SELECT 'pg_constraint'::regclass, oid FROM pg_constraint WHERE conrelid IN (SELECT relid FROM tables)
    UNION ALL SELECT 'pg_attrdef'::regclass, oid FROM pg_attrdef WHERE adrelid IN (SELECT relid FROM tables)
    UNION ALL SELECT 'pg_trigger'::regclass, oid FROM pg_trigger WHERE tgrelid IN (SELECT relid FROM tables)
    UNION ALL SELECT 'pg_policy'::regclass, oid FROM pg_policy WHERE polrelid IN (SELECT relid FROM tables)
    UNION ALL SELECT 'pg_rewrite'::regclass, oid FROM pg_rewrite WHERE ev_class IN (SELECT relid FROM tables)
    UNION ALL SELECT 'pg_class'::regclass, indexrelid FROM pg_index WHERE indrelid IN (SELECT relid FROM tables))
SELECT count(*) FROM pg_depend d JOIN owned o ON o.classid = d.classid AND o.objid = d.objid
 WHERE (pg_identify_object(d.refclassid, d.refobjid, 0)).schema NOT IN ('pg_catalog', 'billing')
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.refclassid AND e.objid = d.refobjid AND e.deptype = 'e'
                    AND e.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'btree_gist'))
SQL
)
workload=$(cat <<'SQL'
INSERT INTO billing.companies (id, name, timezone) VALUES (7, 'Planted', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute, valid_from)
VALUES (7, 'per_minute', 10.00, 5, 0.50, '2025-01-01');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from, valid_until)
VALUES (7, 'combined', 0.10, 2.00, '2024-01-01', '2024-12-31');
SELECT billing.record_call(7, 'w1', '2025-05-10 12:00+00', 400, 'completed');
SELECT billing.record_appointment(7, 'a1', '2025-05-10 12:30+00');
INSERT INTO billing.payment_methods (company_id, provider_reference, brand, last4, exp_month, exp_year) VALUES (7, 'pm', 'visa', '4242', 1, 2030);
SELECT billing.usage_current(7, '2025-05-20'), billing.usage_projection(7, '2025-05-20');
SELECT billing.ensure_periods('2025-06-20');
SELECT billing.close_period(p.id, '2025-06-02') FROM billing.billing_periods p WHERE p.company_id = 7 AND p.start_date = '2025-05-01';
SELECT count(*) FROM billing.usage_trends(7, 6, '2025-06-20');
SELECT count(*) FROM billing.billing_history(7);
SELECT billing.period_detail(p.id), billing.period_csv(p.id) FROM billing.billing_periods p WHERE p.company_id = 7;
SELECT * FROM billing.upcoming_charges(7, '2025-06-20');
SELECT count(*) FROM billing.diagnose(7, '2025-06-20');
SELECT count(*) FROM billing.period_usage;
SELECT count(*) FROM billing.verify_usage_daily();
SQL
)
install_attack() {  # install_attack DB [VERSION]
  local db=$1 version=${2:-}
  dropdb --if-exists "$db" 2>/dev/null; createdb "$db"
  psql -X -q -d postgres -c "ALTER DATABASE \"$db\" SET billing.audit = off" >/dev/null
  q -d "$db" -c "DROP ROLE IF EXISTS mallory" 2>/dev/null || true
  q -d "$db" -c "CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory; CREATE SCHEMA postgres AUTHORIZATION mallory"
  q -d "$db" -U mallory -f test/attacks/plant.sql >/dev/null
  # The installing superuser's own temporary objects do not count either.
  if [ -z "$version" ]; then
    local installed=0
    q -d "$db" >/dev/null 2>build/attacks_install.log <<'SQL' || installed=1
CREATE FUNCTION pg_temp.now() RETURNS timestamptz LANGUAGE sql
    AS $$SELECT CASE WHEN public.plant_hit('pg_temp.now') THEN NULL::timestamptz END$$;
CREATE FUNCTION pg_temp.length(text) RETURNS integer LANGUAGE sql
    AS $$SELECT CASE WHEN public.plant_hit('pg_temp.length') THEN 0 END$$;
CREATE TEMP TABLE companies (id bigint, company_id bigint);
CREATE TEMP TABLE pricing_plans (id bigint, company_id bigint);
CREATE EXTENSION company_billing CASCADE;
SQL
    verdict "$db: CREATE EXTENSION among the plants failed: $(tail -n 3 build/attacks_install.log)" "$installed"
  else
    q -d "$db" -c "CREATE EXTENSION company_billing VERSION '$version' CASCADE" >/dev/null 2>&1
    echo "    1.0 with the plants: $(q -d "$db" -c "$foreign_bindings") expressions bound to a planted object before the update"
    q -d "$db" -c "ALTER EXTENSION company_billing UPDATE"
  fi
  local bound ran super
  bound=$(q -d "$db" -c "$foreign_bindings")
  verdict "$db: expressions bound outside pg_catalog and billing: $bound" "$([ "$bound" = 0 ]; echo $?)"
  # The workload as the superuser, whose default search_path has "$user" and public first.
  printf '%s\n' "$workload" | q -d "$db" -v ON_ERROR_STOP=1 >/dev/null
  ran=$(q -d "$db" -c "SELECT count(*) FROM public.plant_log WHERE by_role <> 'mallory'")
  verdict "$db: planted functions that ran: $ran" "$([ "$ran" = 0 ]; echo $?)"
  super=$(q -d "$db" -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'")
  verdict "$db: mallory became superuser" "$([ "$super" = f ]; echo $?)"
  psql -X -q -d "$db" -c "DROP SCHEMA postgres CASCADE" >/dev/null 2>&1 || true
  psql -X -q -d postgres -c "DROP DATABASE \"$db\"" >/dev/null
  psql -X -q -d postgres -c "DROP ROLE mallory" >/dev/null 2>&1 || true
}
echo "install time"
install_attack attack_install
install_attack attack_upgrade 1.0

echo "run time"
createdb attacks
q -d attacks -c "CREATE EXTENSION company_billing CASCADE" >/dev/null 2>&1
psql -X -q -d attacks -f test/attacks/attacks.sql >build/attacks_runtime.log 2>&1 || { tail -20 build/attacks_runtime.log; broken=$((broken + 1)); }
line=$(grep '^runtime attacks:' build/attacks_runtime.log || echo "runtime attacks: 0 held, 1 broken")
sed -n '/ n  | held/,/^(/p' build/attacks_runtime.log
held=$((held + $(echo "$line" | sed 's/.*: \([0-9]*\) held.*/\1/')))
broken=$((broken + $(echo "$line" | sed 's/.*held, \([0-9]*\) broken.*/\1/')))

echo "sessions"
# A role dropped and created again under the same name is a new role: it sees nothing.
q -d attacks -c "CREATE ROLE atk_reborn LOGIN IN ROLE billing_viewer; SELECT billing.grant_company_access('atk_reborn', 1)" >/dev/null
q -d attacks -c "DROP ROLE atk_reborn; CREATE ROLE atk_reborn LOGIN IN ROLE billing_viewer" >/dev/null
out=$(psql -X -q -At -d attacks -U atk_reborn -c "SELECT billing.usage_current(NULL, '2025-06-20')" 2>&1 || true)
verdict "a re-created role inherited a mapping: $out" "$([[ "$out" == *"not mapped to a company"* ]]; echo $?)"
# A viewer cannot take another viewer's role (the harness above switches roles as a superuser).
out=$(psql -X -q -At -d attacks -U atk_viewer_a -c "SET ROLE atk_viewer_b" 2>&1 || true)
verdict "a viewer took another viewer's role: $out" "$([[ "$out" == *"permission denied"* ]]; echo $?)"
# A WITH HOLD cursor of one request is gone after the pool's reset (DISCARD ALL).
out=$(psql -X -q -At -d attacks -U atk_app 2>&1 <<'SQL' || true
BEGIN;
SET LOCAL billing.company_id = '1';
DECLARE held_calls CURSOR WITH HOLD FOR SELECT external_id FROM billing.calls;
COMMIT;
DISCARD ALL;
FETCH ALL FROM held_calls;
SQL
)
verdict "a WITH HOLD cursor outlived DISCARD ALL: $out" "$([[ "$out" == *"does not exist"* ]]; echo $?)"
# A read in a database the audit writer does not serve is refused, not silently unaudited.
createdb attacks_elsewhere
q -d attacks_elsewhere -c "CREATE EXTENSION company_billing CASCADE; INSERT INTO billing.companies (id, name) VALUES (1, 'x'); INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from) VALUES (1, 'combined', 1, 1, '2025-01-01')" >/dev/null 2>&1
out=$(psql -X -q -At -d attacks_elsewhere -c "SELECT billing.usage_current(1, '2025-06-20')" 2>&1 || true)
verdict "a read elsewhere was not refused: $out" "$([[ "$out" == *"is refused in database"* ]]; echo $?)"
out=$(q -d attacks_elsewhere -c "SELECT audit FROM billing.runtime_status()")
verdict "runtime_status elsewhere says $out" "$([ "$out" = refused ]; echo $?)"
# The limiter's tables are fixed: filling the application's keys takes no more shared memory,
# refuses new keys while every bucket carries state, forgets refilled ones, and never touches
# the viewers' limits.
before=$(q -d attacks -c "SELECT sum(allocated_size) FROM pg_shmem_allocations")
out=$(q -d attacks -c "SELECT count(*) FROM generate_series(1, 16) i WHERE billing.throttle('fill-' || i, 1, '2031-01-01 00:00:00+00')")
full=$(psql -X -q -At -d attacks -c "SELECT billing.throttle('one-more', 1, '2031-01-01 00:00:00+00')" 2>&1 || true)
after=$(q -d attacks -c "SELECT sum(allocated_size) FROM pg_shmem_allocations")
verdict "16 keys admitted: $out" "$([ "$out" = 16 ]; echo $?)"
verdict "a 17th key while all carry state: $full" "$([[ "$full" == *"53400"* || "$full" == *"every one was used"* ]]; echo $?)"
verdict "shared memory grew: $before -> $after" "$([ "$before" = "$after" ]; echo $?)"
out=$(psql -X -q -At -d attacks -U atk_viewer_a -c "SELECT billing.usage_current(NULL, '2025-06-20') IS NOT NULL" 2>&1 || true)
verdict "a viewer locked out by the application's keys: $out" "$([ "$out" = t ]; echo $?)"
out=$(q -d attacks -c "SELECT billing.throttle('one-more', 1, '2031-01-01 00:01:01+00')")
verdict "refilled buckets were not forgotten: $out" "$([ "$out" = t ]; echo $?)"
# A viewer hammering the API is cut off at its limit, also when it probes ids it may not see.
out=$(q -d attacks -U atk_viewer_b -c "SELECT count(*) FROM generate_series(1, 200) i, LATERAL (SELECT attack.error_text('SELECT billing.period_detail(' || (900000 + i) || ')') AS e) x WHERE e LIKE 'RL429%'")
verdict "probing 200 period ids was not rate limited (RL429 for $out)" "$([ "$out" -ge 130 ]; echo $?)"

echo "attacks: $held held, $broken broken"
[ "$broken" -eq 0 ]
