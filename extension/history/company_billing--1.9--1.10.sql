-- company_billing 1.9 -> 1.10: billing.calls and billing.appointments partitioned by UTC month
-- (extension/src/10_tables.sql, 52_partitions.sql), their idempotency keys in
-- billing.call_keys and billing.appointment_keys (kept by triggers, 40_usage.sql), retention
-- that drops whole months (65_retention.sql), and the rollup dumped with the rest.
--
-- The rows move into the new tables' default partitions, with their ids; the rollup holds
-- them already and stays as it is. The next ensure_periods() (the daily job runs it) moves
-- them into their monthly partitions: the monthly partitions are not the extension's objects
-- (pg_dump dumps them as tables of their own), so this script does not create them.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.10'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- The tables of 1.9 step aside: their index names (and so their unique constraints) go to
-- the new tables; their sequences stay, for the new tables' ids.
ALTER TABLE billing.appointments DROP CONSTRAINT appointments_call_fkey;
ALTER SEQUENCE billing.calls_id_seq OWNED BY NONE;
ALTER SEQUENCE billing.appointments_id_seq OWNED BY NONE;
ALTER TABLE billing.calls RENAME TO calls_1_9;
ALTER TABLE billing.appointments RENAME TO appointments_1_9;
DO $$
DECLARE
    index_name text;
BEGIN
    FOR index_name IN
        SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid IN ('billing.calls_1_9'::regclass, 'billing.appointments_1_9'::regclass)
    LOOP
        EXECUTE pg_catalog.format('ALTER INDEX billing.%I RENAME TO %I', index_name, index_name || '_1_9');
    END LOOP;
    -- Constraint names are chosen unique in the schema: the foreign keys' go too.
    ALTER TABLE billing.calls_1_9 RENAME CONSTRAINT calls_company_id_fkey TO calls_company_id_fkey_1_9;
    ALTER TABLE billing.appointments_1_9 RENAME CONSTRAINT appointments_company_id_fkey TO appointments_company_id_fkey_1_9;
END
$$;

-- The raw calls and appointments are partitioned by time: one partition per UTC month, named
-- calls_YYYY_MM and appointments_YYYY_MM, created ahead by ensure_periods()
-- (52_partitions.sql), and a default partition for any instant outside them (ensure_periods()
-- moves its rows into their month). A partition is a plain part of its table: it has the
-- table's columns, constraints and indexes, the table's row level security, and no grants;
-- every read and write goes through the parent. UTC months because a partition's bound is an
-- instant: company-local months begin at a different instant in every time zone, while one
-- company-local month always lies within two UTC months. docs/performance.md, "Storage".
--
-- A unique index of a partitioned table must contain the partition key, so (company_id,
-- external_id) cannot be unique across the months of billing.calls itself. The idempotency
-- key lives in billing.call_keys (and billing.appointment_keys): one row per call ever stored,
-- kept by a trigger (40_usage.sql) and by record_call(), and kept when retention removes the
-- call (65_retention.sql), so that a call sent again after its month was archived is still not
-- new and never billed twice.
--
-- No foreign key on the partitioned tables: pg_restore loads a partition's rows before the
-- rows of the tables it would reference (it orders only the extension's own tables). The
-- trigger that keeps the keys checks what the foreign keys would, once per statement instead of
-- once per row (40_usage.sql, src/pg/ingest_keys.cpp): every row's company exists (and is
-- locked against its deletion, as a foreign key locks it), and an appointment's call is a call
-- of its company; a company with calls cannot be deleted (billing._refuse_company_with_keys). No index on them
-- either, for the same reason (pg_restore would create each partition's twice): each
-- partition has its own (billing._index_raw_partition, 52_partitions.sql).
CREATE TABLE billing.calls (
    id           bigint NOT NULL,
    company_id   bigint NOT NULL,  -- a company's: the key's foreign key (billing.call_keys)
    external_id  text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_sec integer NOT NULL,
    status       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT calls_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    -- Timestamps far outside any billing period are input errors (and would overflow date
    -- arithmetic); a call longer than a week is a telephony error, not a call.
    CONSTRAINT calls_started_at_check
        CHECK (started_at >= '2000-01-01 00:00:00+00' AND started_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT calls_duration_sec_check CHECK (duration_sec BETWEEN 0 AND 604800),
    CONSTRAINT calls_status_check
        CHECK (status IN ('completed', 'failed', 'missed', 'busy', 'no_answer'))
) PARTITION BY RANGE (started_at);
COMMENT ON TABLE billing.calls IS
    'Calls as the telephony system reports them, partitioned by UTC month; billing.call_keys makes (company_id, external_id) unique';
CREATE TABLE billing.calls_default PARTITION OF billing.calls DEFAULT;
COMMENT ON TABLE billing.calls_default IS
    'The calls of months without a partition of their own (ensure_periods() moves them into one)';

-- One row per call ever stored, archived ones included: (company_id, external_id) is the
-- idempotency key, (company_id, call_id) what an appointment's call refers to.
CREATE TABLE billing.call_keys (
    company_id  bigint NOT NULL,
    external_id text NOT NULL,
    call_id     bigint NOT NULL,
    CONSTRAINT call_keys_pkey PRIMARY KEY (company_id, external_id),
    CONSTRAINT call_keys_company_call_id_key UNIQUE (company_id, call_id),
    CONSTRAINT call_keys_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255)
);
COMMENT ON TABLE billing.call_keys IS
    'The (company_id, external_id) of every call stored, archived ones included: ingestion''s idempotency key';

CREATE TABLE billing.appointments (
    id          bigint NOT NULL,
    company_id  bigint NOT NULL,  -- a company's: the key's foreign key (billing.appointment_keys)
    external_id text NOT NULL,
    -- A call of the same company (billing.call_keys (company_id, call_id)); set to NULL when the
    -- call is deleted (its key outlives the call's archived row).
    call_id     bigint,
    booked_at   timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'booked',
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT appointments_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    CONSTRAINT appointments_booked_at_check
        CHECK (booked_at >= '2000-01-01 00:00:00+00' AND booked_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT appointments_status_check CHECK (status IN ('booked', 'cancelled'))
) PARTITION BY RANGE (booked_at);
COMMENT ON TABLE billing.appointments IS
    'Appointments booked by the AI receptionist, partitioned by UTC month; cancelled ones are not billed';
CREATE TABLE billing.appointments_default PARTITION OF billing.appointments DEFAULT;
COMMENT ON TABLE billing.appointments_default IS
    'The appointments of months without a partition of their own (ensure_periods() moves them into one)';

CREATE TABLE billing.appointment_keys (
    company_id     bigint NOT NULL,
    external_id    text NOT NULL,
    appointment_id bigint NOT NULL,
    CONSTRAINT appointment_keys_pkey PRIMARY KEY (company_id, external_id),
    CONSTRAINT appointment_keys_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255)
);
COMMENT ON TABLE billing.appointment_keys IS
    'The (company_id, external_id) of every appointment stored, archived ones included: ingestion''s idempotency key';

------------------------------------------------------------------------------------------
-- The parent's row level security and policies on a partition, and no grants: every role
-- reads and writes through the parent (whose policies are the ones that apply there); read
-- directly, a partition shows its owner what the parent would, and nobody else anything.
CREATE FUNCTION billing._secure_raw_partition(partition regclass, parent regclass) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy record;
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', partition);
    EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', partition);
    -- (Only where there is something to revoke: a table without grants keeps no ACL, as pg_dump
    -- restores it.)
    IF EXISTS (SELECT FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
                WHERE c.oid OPERATOR(pg_catalog.=) partition AND a.grantee OPERATOR(pg_catalog.<>) c.relowner) THEN
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC, billing_viewer, billing_app, billing_admin', partition);
    END IF;
    FOR policy IN
        SELECT p.polname, p.polpermissive,
               CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                             WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
               (SELECT pg_catalog.string_agg(CASE r.role WHEN 0 THEN 'PUBLIC'
                                                 ELSE pg_catalog.quote_ident(r.role::regrole::text) END, ', ')
                  FROM pg_catalog.unnest(p.polroles) AS r(role)) AS roles,
               pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
               pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
          FROM pg_catalog.pg_policy p
         WHERE p.polrelid OPERATOR(pg_catalog.=) parent
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy q
                            WHERE q.polrelid OPERATOR(pg_catalog.=) partition
                              AND q.polname OPERATOR(pg_catalog.=) p.polname)
         ORDER BY p.polname
    LOOP
        EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', policy.polname, partition,
                                  CASE WHEN policy.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                                  policy.command, policy.roles,
                                  CASE WHEN policy.qual IS NOT NULL THEN ' USING (' || policy.qual || ')' ELSE '' END,
                                  CASE WHEN policy.with_check IS NOT NULL THEN ' WITH CHECK (' || policy.with_check || ')'
                                       ELSE '' END);
    END LOOP;
END
$$;

-- A partition's indexes: its primary key (id and time: a unique index of a partition holds its
-- partition key), the reads' (company, time) with the columns they sum, and for appointments
-- the lookups by status and by call. (Calls had an index on (company, status) before 1.10:
-- every read of calls by status is one of a company's time range, which the first index
-- serves, so each call now writes one index entry fewer.)
CREATE FUNCTION billing._index_raw_partition(partition regclass, parent text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) partition);
BEGIN
    IF parent = 'calls' THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, started_at)', partition, name || '_pkey');
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (company_id, started_at) INCLUDE (duration_sec, status)',
                                  name || '_company_started_at_idx', partition);
    ELSE
        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, booked_at)', partition, name || '_pkey');
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (company_id, booked_at) INCLUDE (status)',
                                  name || '_company_booked_at_idx', partition);
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (company_id, status)', name || '_company_status_idx', partition);
        EXECUTE pg_catalog.format('CREATE INDEX %I ON %s (company_id, call_id)', name || '_call_id_idx', partition);
    END IF;
END
$$;

-- The UTC month partition of `parent` (calls or appointments) holding `month`, created if
-- missing: the default partition's rows of that month move into it (past the parent's
-- triggers: they stay the same rows, with the same keys and the same rollup). True when it
-- was created.
CREATE FUNCTION billing._ensure_raw_partition(parent text, month date) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day date := pg_catalog.date_trunc('month', month)::date;
    name text := parent || '_' || pg_catalog.to_char(first_day, 'YYYY_MM');
    time_column text := CASE parent WHEN 'calls' THEN 'started_at' WHEN 'appointments' THEN 'booked_at' END;
    lower_bound timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (first_day OPERATOR(pg_catalog.+) interval '1 month')::timestamp AT TIME ZONE 'UTC';
    waiting boolean;
BEGIN
    IF time_column IS NULL THEN
        RAISE EXCEPTION 'billing.% is not partitioned by month', parent USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.to_regclass('billing.' || pg_catalog.quote_ident(name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM billing.%I WHERE %I >= $1 AND %I < $2)',
                              parent || '_default', time_column, time_column)
        INTO waiting USING lower_bound, upper_bound;
    IF waiting THEN
        EXECUTE pg_catalog.format('CREATE TABLE billing.%I (LIKE billing.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                  name, parent);
        EXECUTE pg_catalog.format('INSERT INTO billing.%I SELECT * FROM billing.%I WHERE %I >= $1 AND %I < $2',
                                  name, parent || '_default', time_column, time_column)
            USING lower_bound, upper_bound;
        EXECUTE pg_catalog.format('DELETE FROM billing.%I WHERE %I >= $1 AND %I < $2',
                                  parent || '_default', time_column, time_column)
            USING lower_bound, upper_bound;
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I ATTACH PARTITION billing.%I FOR VALUES FROM (%L) TO (%L)',
                                  parent, name, lower_bound, upper_bound);
    ELSE
        EXECUTE pg_catalog.format('CREATE TABLE billing.%I PARTITION OF billing.%I FOR VALUES FROM (%L) TO (%L)',
                                  name, parent, lower_bound, upper_bound);
    END IF;
    PERFORM billing._index_raw_partition(('billing.' || pg_catalog.quote_ident(name))::regclass, parent);
    EXECUTE pg_catalog.format('COMMENT ON TABLE billing.%I IS %L', name,
                              'The ' || parent || ' of ' || pg_catalog.to_char(first_day, 'YYYY-MM') || ' (UTC)');
    PERFORM billing._secure_raw_partition(('billing.' || pg_catalog.quote_ident(name))::regclass,
                                          ('billing.' || pg_catalog.quote_ident(parent))::regclass);
    RETURN true;
END
$$;

-- The partitions of the month before as_of's through two months after it, and of every month
-- the default partitions hold rows of (late and early rows, and every row after an upgrade
-- from before 1.10); returns how many it created. Called by ensure_periods().
CREATE FUNCTION billing._ensure_raw_partitions(as_of timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    this_month date := pg_catalog.date_trunc('month', as_of AT TIME ZONE 'UTC')::date;
    parent text;
    month date;
    created integer := 0;
BEGIN
    -- Two concurrent callers would create the same table.
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('billing._ensure_raw_partitions'));
    FOREACH parent IN ARRAY ARRAY['calls', 'appointments'] LOOP
        FOR month IN
            EXECUTE pg_catalog.format(
                'SELECT m::date FROM pg_catalog.generate_series($1 - interval ''1 month'', $1 + interval ''2 months'', '
                '                                               interval ''1 month'') AS m '
                'UNION SELECT DISTINCT pg_catalog.date_trunc(''month'', d.%I AT TIME ZONE ''UTC'')::date FROM billing.%I d '
                'ORDER BY 1',
                CASE parent WHEN 'calls' THEN 'started_at' ELSE 'booked_at' END, parent || '_default')
            USING this_month
        LOOP
            CONTINUE WHEN month < date '2000-01-01' OR month >= date '2100-01-01';
            IF billing._ensure_raw_partition(parent, month) THEN
                created := created OPERATOR(pg_catalog.+) 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- The monthly partitions of calls or appointments, oldest first, with their months.
CREATE FUNCTION billing._raw_partitions(parent text)
RETURNS TABLE (partition regclass, month date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid::regclass, pg_catalog.to_date(pg_catalog.right(c.relname, 7), 'YYYY_MM')
      FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
     WHERE i.inhparent OPERATOR(pg_catalog.=) ('billing.' || pg_catalog.quote_ident(parent))::regclass
       AND c.relname OPERATOR(pg_catalog.~) ('^' || parent || '_[0-9]{4}_[0-9]{2}$')
     ORDER BY 2
$$;

ALTER TABLE billing.calls ALTER COLUMN id SET DEFAULT pg_catalog.nextval('billing.calls_id_seq'::regclass);
ALTER SEQUENCE billing.calls_id_seq OWNED BY billing.calls.id;
ALTER TABLE billing.appointments ALTER COLUMN id SET DEFAULT pg_catalog.nextval('billing.appointments_id_seq'::regclass);
ALTER SEQUENCE billing.appointments_id_seq OWNED BY billing.appointments.id;

-- The rows, with their ids, and their keys (before the triggers exist: the rollup has them).
INSERT INTO billing.calls (id, company_id, external_id, started_at, duration_sec, status, recorded_at)
SELECT k.id, k.company_id, k.external_id, k.started_at, k.duration_sec, k.status, k.recorded_at FROM billing.calls_1_9 k;
INSERT INTO billing.call_keys (company_id, external_id, call_id)
SELECT k.company_id, k.external_id, k.id FROM billing.calls_1_9 k;
INSERT INTO billing.appointments (id, company_id, external_id, call_id, booked_at, status, recorded_at)
SELECT a.id, a.company_id, a.external_id, a.call_id, a.booked_at, a.status, a.recorded_at FROM billing.appointments_1_9 a;
INSERT INTO billing.appointment_keys (company_id, external_id, appointment_id)
SELECT a.company_id, a.external_id, a.id FROM billing.appointments_1_9 a;
DROP TABLE billing.appointments_1_9;
DROP TABLE billing.calls_1_9;
SELECT billing._index_raw_partition('billing.calls_default', 'calls');
SELECT billing._index_raw_partition('billing.appointments_default', 'appointments');

SELECT pg_catalog.pg_extension_config_dump('billing.calls_default', '');
SELECT pg_catalog.pg_extension_config_dump('billing.call_keys', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointments_default', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointment_keys', '');
-- pg_restore loads the partitions' rows past the triggers that would rebuild the rollup.
SELECT pg_catalog.pg_extension_config_dump('billing.usage_daily', '');
SELECT pg_catalog.pg_extension_config_dump('billing.usage_profile', '');
COMMENT ON TABLE billing.usage_daily IS
    'Derived, exact per-day usage (kept by triggers; rebuilt by rebuild_usage_daily)';
COMMENT ON TABLE billing.usage_profile IS
    'Derived, exact per-day call profile: calls and seconds by local hour, completed calls by length (kept by triggers)';

-- The rollup triggers, as in 1.9, on the new tables.
CREATE TRIGGER calls_roll_up_insert AFTER INSERT ON billing.calls
    REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_update AFTER UPDATE ON billing.calls
    REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_delete AFTER DELETE ON billing.calls
    REFERENCING OLD TABLE AS old_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER appointments_roll_up_insert AFTER INSERT ON billing.appointments
    REFERENCING NEW TABLE AS new_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_update AFTER UPDATE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments NEW TABLE AS new_appointments
    FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_delete AFTER DELETE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();

-- Derived data must follow every change, also those applied with session_replication_role =
-- replica (logical replication subscribers, maintenance scripts): the rollup triggers fire always.
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_insert;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_update;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_delete;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_insert;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_update;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_delete;

-- The idempotency keys (src/pg/ingest_keys.cpp) follow every insert, update and delete of
-- billing.calls and billing.appointments: an insert stores its rows' keys (a key stored
-- before is a unique violation of call_keys_pkey or appointment_keys_pkey, as the unique
-- constraint of an unpartitioned table would raise), an update moves them, a delete removes
-- them, except in archive_calls(), which keeps the keys of the rows it archives. record_call(),
-- record_calls() and record_appointment() store their keys themselves, first, with ON
-- CONFLICT DO NOTHING. Not ENABLE ALWAYS: import_company() and logical replication carry the
-- keys tables' own rows (under session_replication_role = replica).
CREATE FUNCTION billing._keep_call_keys() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_keep_call_keys';

CREATE FUNCTION billing._keep_appointment_keys() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_keep_appointment_keys';

CREATE TRIGGER calls_keys_insert AFTER INSERT ON billing.calls
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER calls_keys_update AFTER UPDATE ON billing.calls
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER calls_keys_delete AFTER DELETE ON billing.calls
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_call_keys();
CREATE TRIGGER appointments_keys_insert AFTER INSERT ON billing.appointments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();
CREATE TRIGGER appointments_keys_update AFTER UPDATE ON billing.appointments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();
CREATE TRIGGER appointments_keys_delete AFTER DELETE ON billing.appointments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing._keep_appointment_keys();

-- What the foreign keys from the keys to billing.companies would refuse: a company whose calls
-- or appointments were ever stored cannot be deleted or renumbered (23503).
CREATE FUNCTION billing._refuse_company_with_keys() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id OPERATOR(pg_catalog.=) OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT FROM billing.call_keys k WHERE k.company_id OPERATOR(pg_catalog.=) OLD.id)
       OR EXISTS (SELECT FROM billing.appointment_keys k WHERE k.company_id OPERATOR(pg_catalog.=) OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "companies" violates foreign key constraint "calls_company_id_fkey" on table "calls"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('Key (id)=(%s) is still referenced from table "calls" or "appointments".', OLD.id);
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER companies_keep_their_calls BEFORE DELETE OR UPDATE OF id ON billing.companies
    FOR EACH ROW EXECUTE FUNCTION billing._refuse_company_with_keys();

-- Creates every missing period up to the one containing as_of, for every active company,
-- from the period of its first plan's valid_from, where a plan applies: none after its plans
-- have all ended, none in a gap between two plans. Idempotent; returns how many it created.
-- First the monthly partitions of calls and appointments around as_of (52_partitions.sql).
-- SECURITY DEFINER because creating a partition of billing.calls takes its owner; reachable
-- only through billing.ensure_periods(), which only billing_admin may execute, and for
-- billing_admin (whose policies read and write every company) it changes nothing else.
CREATE OR REPLACE FUNCTION billing._ensure_periods_impl(as_of timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row record;
    today date;
    day date;
    period record;
    inserted integer;
    created integer := 0;
BEGIN
    PERFORM billing._ensure_raw_partitions(as_of);
    FOR company_row IN
        SELECT c.id, c.timezone,
               (SELECT pg_catalog.min(p.valid_from) FROM billing.pricing_plans p WHERE p.company_id = c.id) AS first_day,
               (SELECT pg_catalog.max(COALESCE(p.valid_until, 'infinity'::date)) FROM billing.pricing_plans p
                 WHERE p.company_id = c.id) AS last_day
          FROM billing.companies c WHERE c.active ORDER BY c.id
    LOOP
        CONTINUE WHEN company_row.first_day IS NULL;
        today := LEAST((as_of AT TIME ZONE company_row.timezone)::date, company_row.last_day);
        day := company_row.first_day;
        WHILE day <= today LOOP
            SELECT * INTO period FROM billing.period_for(company_row.id, day);
            IF period.period_id IS NULL
               AND (billing.plan_for_period(company_row.id, period.start_date, period.end_date)).id IS NOT NULL THEN
                -- A concurrent ensure_periods() may insert the same period: the exclusion
                -- constraint makes that a no-op here.
                INSERT INTO billing.billing_periods (company_id, start_date, end_date)
                VALUES (company_row.id, period.start_date, period.end_date)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS inserted = ROW_COUNT;
                created := created + inserted;
            END IF;
            day := period.end_date + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- The usage of removed raw rows, added to billing.archived_usage_daily per company and local
-- day; returns, per company, the rows removed. `calls_source` and `appointments_source` are the
-- removed rows, as statements that may read the CTE `closed` (the closed periods ended before
-- $1, with their companies' time zones and bounds): for calls (company_id, day, hour,
-- completed, duration_sec), for appointments (company_id, day, booked).
CREATE FUNCTION billing._archive_raw_rows(before date, calls_source text, appointments_source text)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $body$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($query$
    WITH closed AS (
        SELECT bp.company_id, bp.start_date, bp.end_date, c.timezone,
               billing.local_day_start(bp.start_date, c.timezone) AS period_from,
               billing.local_day_end(bp.end_date, c.timezone) AS period_until
          FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
         WHERE bp.status = 'closed' AND bp.end_date < $1
    ), removed_calls AS (%s
    ), removed_appointments AS (%s
    ), per_day AS (
        SELECT x.company_id, x.day, pg_catalog.sum(x.calls)::bigint AS calls, pg_catalog.sum(x.completed)::bigint AS completed,
               pg_catalog.sum(x.seconds)::bigint AS seconds, pg_catalog.sum(x.booked)::bigint AS booked,
               pg_catalog.sum(x.rows_of_calls)::bigint AS rows_of_calls, pg_catalog.sum(x.rows_of_appointments)::bigint AS rows_of_appointments
          FROM (SELECT r.company_id, r.day, 1 AS calls, r.completed, r.duration_sec AS seconds, 0 AS booked,
                       1 AS rows_of_calls, 0 AS rows_of_appointments FROM removed_calls r
                UNION ALL
                SELECT r.company_id, r.day, 0, 0, 0, r.booked, 0, 1 FROM removed_appointments r) AS x
         GROUP BY x.company_id, x.day
    ), profiles AS (  -- the removed calls' profile (as billing.raw_usage_profile computes it)
        SELECT r.company_id, r.day, billing.sum_at(24, r.hour, 1) AS calls_by_hour,
               billing.sum_at(24, r.hour, r.duration_sec) AS seconds_by_hour,
               billing.sum_at(billing.call_length_bucket(604800) + 1,
                              CASE WHEN r.completed = 1 THEN billing.call_length_bucket(r.duration_sec) END, 1)
                   AS completed_by_length,
               COALESCE(pg_catalog.sum(r.duration_sec) FILTER (WHERE r.completed = 1), 0)::bigint AS completed_seconds
          FROM removed_calls r
         GROUP BY r.company_id, r.day
    ), archived AS (  -- a data-modifying WITH runs to completion, read or not
        INSERT INTO billing.archived_usage_daily AS d (company_id, day, calls, completed_calls, seconds, appointments, archived_at,
                                                       calls_by_hour, seconds_by_hour, completed_by_length, completed_seconds)
        SELECT r.company_id, r.day, r.calls, r.completed, r.seconds, r.booked, pg_catalog.now(),
               f.calls_by_hour::integer[], f.seconds_by_hour, f.completed_by_length::integer[], f.completed_seconds
          FROM per_day r LEFT JOIN profiles f ON f.company_id = r.company_id AND f.day = r.day
        ON CONFLICT ON CONSTRAINT archived_usage_daily_pkey DO UPDATE
           SET calls = d.calls + excluded.calls, completed_calls = d.completed_calls + excluded.completed_calls,
               seconds = d.seconds + excluded.seconds, appointments = d.appointments + excluded.appointments,
               archived_at = excluded.archived_at,
               calls_by_hour = billing.add_arrays(d.calls_by_hour, excluded.calls_by_hour),
               seconds_by_hour = billing.add_arrays(d.seconds_by_hour, excluded.seconds_by_hour),
               completed_by_length = billing.add_arrays(d.completed_by_length, excluded.completed_by_length),
               completed_seconds = COALESCE(d.completed_seconds + excluded.completed_seconds, d.completed_seconds,
                                            excluded.completed_seconds)
    )
    SELECT r.company_id, pg_catalog.sum(r.rows_of_calls)::bigint, pg_catalog.sum(r.rows_of_appointments)::bigint
      FROM per_day r
     GROUP BY r.company_id$query$, calls_source, appointments_source)
    USING before;
END
$body$;

-- Every row of one monthly partition of calls or appointments, archived: its usage added to
-- billing.archived_usage_daily (the rollup has it already). For archive_calls() before it
-- drops the partition, and for a DBA's DROP TABLE or DETACH PARTITION of one
-- (src/pg/partition_guard.cpp). Returns, per company, the rows archived.
CREATE FUNCTION billing._archive_partition_rows(partition regclass)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent text := (SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhparent
                     WHERE i.inhrelid OPERATOR(pg_catalog.=) partition);
BEGIN
    RETURN QUERY
    SELECT * FROM billing._archive_raw_rows('2100-01-01',
        CASE parent WHEN 'calls' THEN pg_catalog.format(
            'SELECT k.company_id, (k.started_at AT TIME ZONE c.timezone)::date AS day, '
            '       EXTRACT(hour FROM k.started_at AT TIME ZONE c.timezone)::integer AS hour, '
            '       (k.status = ''completed'')::int AS completed, k.duration_sec '
            '  FROM %s k JOIN billing.companies c ON c.id = k.company_id', partition)
        ELSE 'SELECT 0::bigint AS company_id, NULL::date AS day, 0 AS hour, 0 AS completed, 0 AS duration_sec WHERE false' END,
        CASE parent WHEN 'appointments' THEN pg_catalog.format(
            'SELECT a.company_id, (a.booked_at AT TIME ZONE c.timezone)::date AS day, '
            '       (a.status <> ''cancelled'')::int AS booked '
            '  FROM %s a JOIN billing.companies c ON c.id = a.company_id', partition)
        ELSE 'SELECT 0::bigint AS company_id, NULL::date AS day, 0 AS booked WHERE false' END);
END
$$;

-- A monthly partition dropped or detached by hand is archived first (its rows leave past the
-- triggers; the rollup and the keys keep them, archived_usage_daily is told).
CREATE FUNCTION billing._archive_removed_raw_partition() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_archive_removed_raw_partition';
CREATE EVENT TRIGGER company_billing_archives_removed_months ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION billing._archive_removed_raw_partition();

-- Retention: removes the raw calls and appointments of closed periods whose last day is before
-- `before`, keeping their usage in the rollup (and its per-day totals in archived_usage_daily),
-- so that trends, history, period pages, invoices and the adjustments of later invoices stay
-- exactly as they were; their keys stay too, so a call sent again is still not new. Open
-- periods and days outside any closed period are never touched. A monthly partition whose
-- rows are all archivable is dropped whole (no row is deleted one by one, nothing is left to
-- vacuum); the other rows are deleted. Returns, per company, the rows it removed.
-- SECURITY DEFINER because dropping a partition of billing.calls takes its owner; reachable
-- only through billing.archive_calls(), which only billing_admin may execute, and for
-- billing_admin (whose policies read and write every company) it changes nothing else.
CREATE OR REPLACE FUNCTION billing._archive_calls_impl(before date)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent text;
    part record;
    time_column text;
    whole boolean;
    removed record;
    companies bigint[] := '{}';
    calls_removed bigint[] := '{}';
    appointments_removed bigint[] := '{}';
BEGIN
    IF before IS NULL THEN
        RAISE EXCEPTION 'before must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(before) THEN
        RAISE EXCEPTION 'before must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Whole months first: a partition whose every row lies in a closed period ended before
    -- `before` (and whose last instant is before `before` in every time zone, UTC+14 the
    -- earliest, so that an empty current month is never dropped).
    FOREACH parent IN ARRAY ARRAY['calls', 'appointments'] LOOP
        time_column := CASE parent WHEN 'calls' THEN 'started_at' ELSE 'booked_at' END;
        FOR part IN
            SELECT p.partition FROM billing._raw_partitions(parent) p
             WHERE ((p.month + interval '1 month') + interval '14 hours') <= before::timestamp
        LOOP
            EXECUTE pg_catalog.format(
                'SELECT NOT EXISTS (SELECT FROM (SELECT DISTINCT k.company_id, (k.%1$I AT TIME ZONE c.timezone)::date AS day '
                '                                  FROM %2$s k JOIN billing.companies c ON c.id = k.company_id) d '
                '                    WHERE NOT EXISTS (SELECT FROM billing.billing_periods bp '
                '                                       WHERE bp.company_id = d.company_id AND bp.status = ''closed'' '
                '                                         AND bp.end_date < $1 AND d.day BETWEEN bp.start_date AND bp.end_date))',
                time_column, part.partition)
                INTO whole USING before;
            CONTINUE WHEN NOT whole;
            FOR removed IN SELECT * FROM billing._archive_partition_rows(part.partition) LOOP
                companies := companies || removed.company_id;
                calls_removed := calls_removed || removed.calls;
                appointments_removed := appointments_removed || removed.appointments;
            END LOOP;
            EXECUTE pg_catalog.format('DROP TABLE %s', part.partition);
        END LOOP;
    END LOOP;
    -- The other rows one by one.
    FOR removed IN
        SELECT * FROM billing._archive_raw_rows(before, $calls$
        DELETE FROM billing.calls k USING closed p
         WHERE k.company_id = p.company_id AND k.started_at >= p.period_from AND k.started_at < p.period_until
           AND (k.started_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING k.company_id, (k.started_at AT TIME ZONE p.timezone)::date AS day,
                  EXTRACT(hour FROM k.started_at AT TIME ZONE p.timezone)::integer AS hour,
                  (k.status = 'completed')::int AS completed, k.duration_sec$calls$, $appointments$
        DELETE FROM billing.appointments a USING closed p
         WHERE a.company_id = p.company_id AND a.booked_at >= p.period_from AND a.booked_at < p.period_until
           AND (a.booked_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING a.company_id, (a.booked_at AT TIME ZONE p.timezone)::date AS day, (a.status <> 'cancelled')::int AS booked$appointments$)
    LOOP
        companies := companies || removed.company_id;
        calls_removed := calls_removed || removed.calls;
        appointments_removed := appointments_removed || removed.appointments;
    END LOOP;
    RETURN QUERY
    SELECT r.company_id, pg_catalog.sum(r.calls)::bigint, pg_catalog.sum(r.appointments)::bigint
      FROM ROWS FROM (pg_catalog.unnest(companies), pg_catalog.unnest(calls_removed), pg_catalog.unnest(appointments_removed))
           AS r(company_id, calls, appointments)
     GROUP BY r.company_id ORDER BY r.company_id;
END
$$;

-- The company's tables, parents first: the order rows are stored in and removed in reverse.
-- usage_daily and usage_profile are derived: an import rebuilds them from the raw rows and
-- archived_usage_daily, which is what they must equal. Administrators read it to see what a
-- move carries.
CREATE OR REPLACE FUNCTION billing.company_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['companies', 'pricing_plans', 'billing_periods', 'calls', 'call_keys', 'appointments',
                 'appointment_keys', 'invoices',
                 'invoice_lines', 'payment_methods', 'viewer_companies', 'api_tokens', 'archived_usage_daily',
                 'alert_settings', 'alerts', 'alert_events', 'webhook_deliveries', 'audit_log']::text[]
$$;

-- {"format": 1, "company": id, "<table>": [rows ordered by key], ...}: viewer mappings carry
-- the role's name (role OIDs differ between clusters).
CREATE OR REPLACE FUNCTION billing.export_company(company bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    document jsonb;
    table_name text;
    rows jsonb;
BEGIN
    IF company IS NULL THEN
        RAISE EXCEPTION 'company must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) company) THEN
        RAISE EXCEPTION 'company % does not exist', company USING ERRCODE = 'P0002';
    END IF;
    document := pg_catalog.jsonb_build_object('format', 1, 'company', company);
    FOREACH table_name IN ARRAY billing.company_tables() LOOP
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) ORDER BY t.%1$s) FROM billing.%2$I t '
            'WHERE t.%3$s OPERATOR(pg_catalog.=) $1',
            CASE table_name WHEN 'viewer_companies' THEN 'role::pg_catalog.text'
                            WHEN 'companies' THEN 'id'
                            WHEN 'alert_settings' THEN 'company_id'
                            WHEN 'archived_usage_daily' THEN 'day'
                            WHEN 'call_keys' THEN 'call_id'
                            WHEN 'appointment_keys' THEN 'appointment_id'
                            ELSE 'id' END,
            table_name,
            CASE table_name WHEN 'companies' THEN 'id' ELSE 'company_id' END)
            INTO rows USING company;
        document := document OPERATOR(pg_catalog.||)
                    pg_catalog.jsonb_build_object(table_name, COALESCE(rows, '[]'::jsonb));
    END LOOP;
    RETURN document;
END
$$;

-- Stores an export_company() document as it is: the same ids, invoices, closed periods, alerts
-- and audit rows. Superusers only: it writes what only the extension writes (invoices, closed
-- periods), with the extension's other triggers off (session_replication_role = replica; the
-- rollup triggers fire always, and the rollup is rebuilt and verified at the end). The rows'
-- ids come from the exporting database: its sequences and this one's must not overlap
-- (docs/scaling.md gives each shard its own range), otherwise a duplicate key stops the
-- import and nothing is stored.
CREATE OR REPLACE FUNCTION billing.import_company(document jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company bigint := (document OPERATOR(pg_catalog.->>) 'company')::bigint;
    table_name text;
    stored bigint;
    total bigint := 0;
BEGIN
    IF document IS NULL OR pg_catalog.jsonb_typeof(document) IS DISTINCT FROM 'object'
       OR (document OPERATOR(pg_catalog.->>) 'format') IS DISTINCT FROM '1' OR company IS NULL THEN
        RAISE EXCEPTION 'not a document of billing.export_company()' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) company) THEN
        RAISE EXCEPTION 'company % exists already', company USING ERRCODE = '23505',
            HINT = 'billing.remove_company() removes it first.';
    END IF;
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOREACH table_name IN ARRAY billing.company_tables() LOOP
        IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(COALESCE(document OPERATOR(pg_catalog.->) table_name,
                                                                        '[]'::jsonb)) AS r(row)
                    WHERE (r.row OPERATOR(pg_catalog.->>) CASE table_name WHEN 'companies' THEN 'id'
                                                                          ELSE 'company_id' END)::bigint
                          IS DISTINCT FROM company) THEN
            RAISE EXCEPTION 'the % rows of the document belong to another company than %', table_name, company
                USING ERRCODE = '22023';
        END IF;
        EXECUTE pg_catalog.format(
            'INSERT INTO billing.%1$I SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::billing.%1$I, $1)',
            table_name)
            USING COALESCE(document OPERATOR(pg_catalog.->) table_name, '[]'::jsonb);
        GET DIAGNOSTICS stored = ROW_COUNT;
        total := total OPERATOR(pg_catalog.+) stored;
    END LOOP;
    -- A document of a version before 1.10 has no keys: they are the stored rows' keys.
    INSERT INTO billing.call_keys (company_id, external_id, call_id)
    SELECT k.company_id, k.external_id, k.id FROM billing.calls k WHERE k.company_id OPERATOR(pg_catalog.=) company
    ON CONFLICT DO NOTHING;
    INSERT INTO billing.appointment_keys (company_id, external_id, appointment_id)
    SELECT a.company_id, a.external_id, a.id FROM billing.appointments a WHERE a.company_id OPERATOR(pg_catalog.=) company
    ON CONFLICT DO NOTHING;
    PERFORM billing.rebuild_usage_daily(company);
    PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
    IF EXISTS (SELECT FROM billing.verify_usage_daily(company)) OR EXISTS (SELECT FROM billing.verify_usage_profile(company)) THEN
        RAISE EXCEPTION 'the rollup of company % does not match its rows after the import', company
            USING ERRCODE = 'XX000';
    END IF;
    RETURN total;
END
$$;

-- Security, as 90_security.sql gives it to every table.
DO $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY ARRAY['calls', 'appointments', 'call_keys', 'appointment_keys'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I ENABLE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I FORCE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON billing.%I TO billing_admin USING (true) WITH CHECK (true)',
                                  table_name || '_admin', table_name);
    END LOOP;
    FOREACH table_name IN ARRAY ARRAY['calls', 'appointments'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY %I ON billing.%I FOR SELECT TO billing_viewer, billing_app '
            'USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()))',
            table_name || '_company', table_name);
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION billing._keep_call_keys(), billing._keep_appointment_keys(),
    billing._secure_raw_partition(regclass, regclass), billing._ensure_raw_partition(text, date),
    billing._index_raw_partition(regclass, text),
    billing._ensure_raw_partitions(timestamptz), billing._raw_partitions(text),
    billing._archive_raw_rows(date, text, text), billing._archive_partition_rows(regclass),
    billing._archive_removed_raw_partition(), billing._refuse_company_with_keys() FROM PUBLIC;
GRANT SELECT ON billing.calls, billing.appointments TO billing_viewer, billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.calls, billing.appointments, billing.call_keys, billing.appointment_keys,
    billing.calls_default, billing.appointments_default TO billing_admin;
SELECT billing._secure_raw_partition('billing.calls_default', 'billing.calls');
SELECT billing._secure_raw_partition('billing.appointments_default', 'billing.appointments');
