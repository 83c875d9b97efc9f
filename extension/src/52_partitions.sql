------------------------------------------------------------------------------------------
-- The monthly partitions of billing.calls and billing.appointments (10_tables.sql): created
-- ahead by ensure_periods(), removed whole by archive_calls() (65_retention.sql).
-- docs/performance.md, "Storage", says what a DBA does with them.
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

SELECT billing._index_raw_partition('billing.calls_default', 'calls');
SELECT billing._index_raw_partition('billing.appointments_default', 'appointments');
