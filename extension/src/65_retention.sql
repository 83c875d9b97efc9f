------------------------------------------------------------------------------------------
-- Retention: raw rows of closed periods leave, their usage stays (docs/design.md, "Billing
-- rules"). The rollup keeps every archived day, billing.archived_usage_daily (10_tables.sql)
-- keeps its totals and call profile for verify_usage_daily(), verify_usage_profile() and
-- rebuild_usage_daily().
------------------------------------------------------------------------------------------

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
CREATE FUNCTION billing._archive_calls_impl(before date)
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

CREATE FUNCTION billing.archive_calls(before date)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.archive_calls(date) IS
    'Retention: removes the raw calls and appointments of closed periods ended before a date; every figure and invoice stays as it was';

CREATE TRIGGER archived_usage_daily_written_by_archive_calls BEFORE INSERT OR UPDATE ON billing.archived_usage_daily
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('archive_calls');
