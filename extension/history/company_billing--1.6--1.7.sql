-- company_billing 1.6 -> 1.7: the call profile (billing.usage_profile: calls and seconds per
-- local hour, completed calls per call length bucket, kept by the calls rollup trigger),
-- usage_analytics() on it (heatmap, conversion, cost per lead, average and median call length),
-- and record_calls() for batches of calls.
-- The current definitions are in extension/src/.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.7'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- billing.usage_profile holds the shape of the same days, for the analytics
-- (billing.usage_analytics): per company, company-local day and slot, the calls and seconds of
-- each local hour (0 to 23, by started_at) and the completed calls of each call length bucket
-- (billing.call_length_range) with their seconds. Kept by the calls rollup trigger in the same
-- statement and slot as usage_daily. A row is about 780 bytes; every ingest statement rewrites
-- it, so its pages are kept half empty (fillfactor 50): the new versions fit beside the old
-- ones (HOT updates, pruned in place) instead of moving to new pages and bloating the table.
CREATE TABLE billing.usage_profile (
    company_id          bigint NOT NULL,
    day                 date NOT NULL,             -- company-local
    slot                smallint NOT NULL,
    calls_by_hour       integer[] NOT NULL,        -- 24 counts, hour 0 first
    seconds_by_hour     bigint[] NOT NULL,         -- 24 sums
    completed_by_length integer[] NOT NULL,        -- one count per call length bucket
    completed_seconds   bigint NOT NULL,
    CONSTRAINT usage_profile_pkey PRIMARY KEY (company_id, day, slot)
) WITH (fillfactor = 50);
COMMENT ON TABLE billing.usage_profile IS
    'Derived, exact per-day call profile: calls and seconds by local hour, completed calls by length (kept by triggers, never dumped)';

ALTER TABLE billing.usage_profile ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.usage_profile FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_profile_admin ON billing.usage_profile TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY usage_profile_company ON billing.usage_profile FOR SELECT TO billing_viewer, billing_app
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
GRANT SELECT ON billing.usage_profile TO billing_viewer, billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.usage_profile TO billing_admin;

-- The call profile of the removed calls, as in usage_profile (NULL: archived before 1.7).
ALTER TABLE billing.archived_usage_daily ADD COLUMN calls_by_hour integer[], ADD COLUMN seconds_by_hour bigint[],
    ADD COLUMN completed_by_length integer[], ADD COLUMN completed_seconds bigint;

-- Counts arrays: bigint[] of a fixed size, one count per hour or per length bucket.
CREATE FUNCTION billing.add_at(counts bigint[], size integer, "position" integer, amount bigint)
RETURNS bigint[]
LANGUAGE C IMMUTABLE
AS 'MODULE_PATHNAME', 'billing_add_at';
COMMENT ON FUNCTION billing.add_at(bigint[], integer, integer, bigint) IS
    'counts (or size zeros when NULL) with amount added at the 0-based position (NULL position or amount: unchanged)';
CREATE AGGREGATE billing.sum_at(size integer, "position" integer, amount bigint) (
    SFUNC = billing.add_at, STYPE = bigint[]);
COMMENT ON AGGREGATE billing.sum_at(integer, integer, bigint) IS
    'An array of size sums: each row adds amount at its 0-based position';

CREATE FUNCTION billing.add_arrays(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE C IMMUTABLE
AS 'MODULE_PATHNAME', 'billing_add_arrays';
COMMENT ON FUNCTION billing.add_arrays(bigint[], bigint[]) IS
    'Element-wise sum of two counts arrays of one length (a NULL array adds nothing)';
CREATE AGGREGATE billing.sum_arrays(bigint[]) (SFUNC = billing.add_arrays, STYPE = bigint[]);
CREATE FUNCTION billing.add_arrays(a integer[], b integer[]) RETURNS integer[]
LANGUAGE C IMMUTABLE
AS 'MODULE_PATHNAME', 'billing_add_integer_arrays';
COMMENT ON FUNCTION billing.add_arrays(integer[], integer[]) IS
    'Element-wise sum of two integer counts arrays of one length (a NULL array adds nothing)';
COMMENT ON AGGREGATE billing.sum_arrays(bigint[]) IS 'Element-wise sum of counts arrays of one length';

-- Call length buckets: 5 s steps below 2 minutes, 15 s to 10 minutes, 1 minute to 30 minutes,
-- 5 minutes to an hour, then one bucket up to a week (the longest call billing.calls holds).
CREATE FUNCTION billing.call_length_bucket(seconds integer) RETURNS integer
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'billing_call_length_bucket';
COMMENT ON FUNCTION billing.call_length_bucket(integer) IS
    'The 0-based call length bucket of a call of `seconds` (0 to 604800)';
CREATE FUNCTION billing.call_length_range(bucket integer, OUT from_seconds integer, OUT below_seconds integer)
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'billing_call_length_range';
COMMENT ON FUNCTION billing.call_length_range(integer) IS
    'The lengths [from_seconds, below_seconds) of a call length bucket';
CREATE FUNCTION billing.call_length_buckets(OUT bucket integer, OUT from_seconds integer, OUT below_seconds integer)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b, r.from_seconds, r.below_seconds
      FROM pg_catalog.generate_series(0, billing.call_length_bucket(604800)) AS b,
           LATERAL billing.call_length_range(b) AS r
$$;
COMMENT ON FUNCTION billing.call_length_buckets() IS 'Every call length bucket and its lengths, shortest first';
-- Where the median of the counted calls lies: the lower middle call is at least at_least
-- seconds long and the upper middle call shorter than below (NULLs when nothing is counted).
CREATE FUNCTION billing.median_call_length(lengths bigint[], OUT at_least integer, OUT below integer)
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'billing_median_call_length';
COMMENT ON FUNCTION billing.median_call_length(bigint[]) IS
    'The bounds of the median call length of completed_by_length counts (one per call length bucket)';

-- The call profile of one company (or all) per local day, straight from the raw calls and the
-- profiles of calls archive_calls() removed: what usage_profile must always equal.
CREATE FUNCTION billing.raw_usage_profile(company bigint)
RETURNS TABLE (company_id bigint, day date, calls_by_hour bigint[], seconds_by_hour bigint[],
               completed_by_length bigint[], completed_seconds bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.company_id, x.day, billing.sum_arrays(x.calls_by_hour), billing.sum_arrays(x.seconds_by_hour),
           billing.sum_arrays(x.completed_by_length), pg_catalog.sum(x.completed_seconds)::bigint
      FROM (SELECT k.company_id, (k.started_at AT TIME ZONE c.timezone)::date AS day,
                   billing.sum_at(24, EXTRACT(hour FROM k.started_at AT TIME ZONE c.timezone)::integer, 1) AS calls_by_hour,
                   billing.sum_at(24, EXTRACT(hour FROM k.started_at AT TIME ZONE c.timezone)::integer, k.duration_sec)
                       AS seconds_by_hour,
                   billing.sum_at(billing.call_length_bucket(604800) + 1,
                                  CASE WHEN k.status = 'completed' THEN billing.call_length_bucket(k.duration_sec) END, 1)
                       AS completed_by_length,
                   COALESCE(pg_catalog.sum(k.duration_sec) FILTER (WHERE k.status = 'completed'), 0) AS completed_seconds
              FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id
             WHERE raw_usage_profile.company IS NULL OR k.company_id = raw_usage_profile.company
             GROUP BY 1, 2
            UNION ALL
            SELECT r.company_id, r.day, r.calls_by_hour::bigint[], r.seconds_by_hour, r.completed_by_length::bigint[],
                   r.completed_seconds
              FROM billing.archived_usage_daily r
             WHERE r.calls_by_hour IS NOT NULL
               AND (raw_usage_profile.company IS NULL OR r.company_id = raw_usage_profile.company)) AS x
     GROUP BY x.company_id, x.day
$$;
COMMENT ON FUNCTION billing.raw_usage_profile(bigint) IS
    'Per-day call profile of one company (or all) recomputed from the raw calls';

-- Where the profile and the raw rows disagree (nothing, always; for tests and benchmarks).
CREATE FUNCTION billing.verify_usage_profile(company bigint DEFAULT NULL)
RETURNS TABLE (company_id bigint, day date, rollup_calls_by_hour bigint[], raw_calls_by_hour bigint[],
               rollup_completed_by_length bigint[], raw_completed_by_length bigint[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH rolled AS (
        SELECT u.company_id, u.day, billing.sum_arrays(u.calls_by_hour::bigint[]) AS calls_by_hour,
               billing.sum_arrays(u.seconds_by_hour) AS seconds_by_hour,
               billing.sum_arrays(u.completed_by_length::bigint[]) AS completed_by_length,
               pg_catalog.sum(u.completed_seconds)::bigint AS completed_seconds
          FROM billing.usage_profile u
         WHERE verify_usage_profile.company IS NULL OR u.company_id = verify_usage_profile.company
         GROUP BY 1, 2
    ), zeros AS (
        SELECT billing.add_at(NULL, 24, NULL, NULL) AS hours,
               billing.add_at(NULL, billing.call_length_bucket(604800) + 1, NULL, NULL) AS lengths
    )
    SELECT COALESCE(r.company_id, w.company_id), COALESCE(r.day, w.day), r.calls_by_hour, w.calls_by_hour,
           r.completed_by_length, w.completed_by_length
      FROM rolled r FULL JOIN billing.raw_usage_profile(verify_usage_profile.company) w
        ON w.company_id = r.company_id AND w.day = r.day
     CROSS JOIN zeros z
     WHERE (COALESCE(r.calls_by_hour, z.hours), COALESCE(r.seconds_by_hour, z.hours),
            COALESCE(r.completed_by_length, z.lengths), COALESCE(r.completed_seconds, 0))
           IS DISTINCT FROM
           (COALESCE(w.calls_by_hour, z.hours), COALESCE(w.seconds_by_hour, z.hours),
            COALESCE(w.completed_by_length, z.lengths), COALESCE(w.completed_seconds, 0))
$$;
COMMENT ON FUNCTION billing.verify_usage_profile(bigint) IS
    'Days where the call profile differs from a recomputation from the raw calls (empty when exact)';

-- Recomputes the rollup and the call profile of one company (or all) from the raw rows; returns
-- the rollup rows written.
-- For a time zone change, and after a restore with --disable-triggers.
CREATE OR REPLACE FUNCTION billing.rebuild_usage_daily(company bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM billing.usage_daily u WHERE company IS NULL OR u.company_id = company;
    INSERT INTO billing.usage_daily (company_id, day, slot, calls, completed_calls, seconds, appointments,
                                     last_call_at, last_appointment_at)
    SELECT r.company_id, r.day, 0, r.calls, r.completed_calls, r.seconds, r.appointments, r.last_call_at,
           r.last_appointment_at
      FROM billing.raw_usage_daily(company) AS r;
    GET DIAGNOSTICS written = ROW_COUNT;
    DELETE FROM billing.usage_profile u WHERE company IS NULL OR u.company_id = company;
    INSERT INTO billing.usage_profile (company_id, day, slot, calls_by_hour, seconds_by_hour, completed_by_length,
                                       completed_seconds)
    SELECT r.company_id, r.day, 0, r.calls_by_hour::integer[], r.seconds_by_hour, r.completed_by_length::integer[],
           r.completed_seconds
      FROM billing.raw_usage_profile(company) AS r;
    RETURN written;
END
$$;
COMMENT ON FUNCTION billing.rebuild_usage_daily(bigint) IS
    'Recomputes the per-day rollup and call profile from the raw calls and appointments';
-- Retention: removes the raw calls and appointments of closed periods whose last day is before
-- `before`, keeping their usage in the rollup (and its per-day totals in archived_usage_daily),
-- so that trends, history, period pages, invoices and the adjustments of later invoices stay
-- exactly as they were. Open periods and days outside any closed period are never touched.
-- Returns, per company, the rows it removed.
CREATE OR REPLACE FUNCTION billing._archive_calls_impl(before date)
RETURNS TABLE (company_id bigint, calls bigint, appointments bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF before IS NULL THEN
        RAISE EXCEPTION 'before must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(before) THEN
        RAISE EXCEPTION 'before must be a finite date' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH closed AS (
        SELECT bp.company_id, bp.start_date, bp.end_date, c.timezone,
               billing.local_day_start(bp.start_date, c.timezone) AS period_from,
               billing.local_day_end(bp.end_date, c.timezone) AS period_until
          FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
         WHERE bp.status = 'closed' AND bp.end_date < before
    ), removed_calls AS (
        DELETE FROM billing.calls k USING closed p
         WHERE k.company_id = p.company_id AND k.started_at >= p.period_from AND k.started_at < p.period_until
           AND (k.started_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING k.company_id, (k.started_at AT TIME ZONE p.timezone)::date AS day,
                  EXTRACT(hour FROM k.started_at AT TIME ZONE p.timezone)::integer AS hour,
                  (k.status = 'completed')::int AS completed, k.duration_sec
    ), removed_appointments AS (
        DELETE FROM billing.appointments a USING closed p
         WHERE a.company_id = p.company_id AND a.booked_at >= p.period_from AND a.booked_at < p.period_until
           AND (a.booked_at AT TIME ZONE p.timezone)::date BETWEEN p.start_date AND p.end_date
        RETURNING a.company_id, (a.booked_at AT TIME ZONE p.timezone)::date AS day, (a.status <> 'cancelled')::int AS booked
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
     GROUP BY r.company_id ORDER BY r.company_id;
END
$$;

-- The analytics of the company-local days from_day to to_day (default: the current period from
-- its first day to as_of's day; from_day alone: up to as_of's day; to_day alone: from the first
-- day of its period), at most 366 days:
--   * calls, completed calls, minutes and appointments: period_totals(), up to as_of;
--   * conversion_rate: booked appointments per completed call (4 decimals);
--   * cost: when the range is one billing period (or the current one up to as_of's day), that
--     period's charge under its plan (price_seconds of its totals), and cost_per_lead = cost per
--     appointment, rounded to the currency's minor unit; NULL for other ranges;
--   * call_length: over completed calls, the average (1 decimal) and the bucket bounds of the
--     median (billing.median_call_length);
--   * heatmap: per ISO weekday (1 = Monday), the calls and minutes of each local hour 0 to 23;
--     peak: the weekday and hour with the most calls (the earliest of equals).
-- Days whose rollup holds calls that started after as_of are profiled from their raw calls.
CREATE FUNCTION billing._usage_analytics_impl(company bigint, from_day date, to_day date, as_of timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    first_day date := from_day;
    last_day date := to_day;
    cost_period record;
    plan billing.pricing_plans;
    totals record;
    completed_by_length bigint[];
    completed_seconds numeric;
    profiled_completed bigint;
    median record;
    cost numeric;
    heatmap jsonb;
    peak jsonb;
    length_buckets constant integer := billing.call_length_bucket(604800) + 1;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    IF NOT pg_catalog.isfinite(COALESCE(from_day, today)) OR NOT pg_catalog.isfinite(COALESCE(to_day, today)) THEN
        RAISE EXCEPTION 'from_day and to_day must be finite dates' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF first_day IS NULL THEN
        first_day := (billing.period_for(company_row.id, COALESCE(to_day, today))).start_date;
    END IF;
    last_day := COALESCE(last_day, today);
    IF last_day < first_day THEN
        RAISE EXCEPTION 'from_day (%) must not be after to_day (%)',
            pg_catalog.to_char(first_day, 'YYYY-MM-DD'), pg_catalog.to_char(last_day, 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF last_day - first_day >= 366 THEN
        RAISE EXCEPTION 'the range may span at most 366 days' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT * INTO totals FROM billing.period_totals(company_row.id, first_day, last_day, as_of);
    WITH late_days AS (
        SELECT d.day FROM billing.usage_daily d
         WHERE d.company_id = company_row.id AND d.day BETWEEN first_day AND last_day
         GROUP BY d.day HAVING pg_catalog.max(d.last_call_at) > as_of
    ), shapes AS (
        SELECT p.day, p.calls_by_hour::bigint[] AS calls_by_hour, p.seconds_by_hour,
               p.completed_by_length::bigint[] AS completed_by_length, p.completed_seconds
          FROM billing.usage_profile p
         WHERE p.company_id = company_row.id AND p.day BETWEEN first_day AND last_day
           AND p.day NOT IN (SELECT l.day FROM late_days l)
        UNION ALL
        SELECT l.day, billing.sum_at(24, EXTRACT(hour FROM k.started_at AT TIME ZONE company_row.timezone)::integer, 1),
               billing.sum_at(24, EXTRACT(hour FROM k.started_at AT TIME ZONE company_row.timezone)::integer, k.duration_sec),
               billing.sum_at(length_buckets, CASE WHEN k.status = 'completed' THEN billing.call_length_bucket(k.duration_sec) END, 1),
               COALESCE(pg_catalog.sum(k.duration_sec) FILTER (WHERE k.status = 'completed'), 0)
          FROM late_days l
          JOIN billing.calls k
            ON k.company_id = company_row.id
           AND k.started_at >= billing.local_day_start(l.day, company_row.timezone)
           AND k.started_at < billing.local_day_end(l.day, company_row.timezone)
           AND (k.started_at AT TIME ZONE company_row.timezone)::date = l.day
           AND k.started_at <= as_of
         GROUP BY l.day
    ), by_weekday AS (
        SELECT EXTRACT(isodow FROM s.day)::integer AS weekday, billing.sum_arrays(s.calls_by_hour) AS calls,
               billing.sum_arrays(s.seconds_by_hour) AS seconds
          FROM shapes s GROUP BY 1
    ), cells AS (
        SELECT w.weekday, h.hour, COALESCE(b.calls[h.hour + 1], 0) AS calls, COALESCE(b.seconds[h.hour + 1], 0) AS seconds
          FROM pg_catalog.generate_series(1, 7) AS w(weekday)
         CROSS JOIN pg_catalog.generate_series(0, 23) AS h(hour)
          LEFT JOIN by_weekday b ON b.weekday = w.weekday
    )
    SELECT (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'weekday', r.weekday, 'calls', r.calls, 'minutes', r.minutes) ORDER BY r.weekday)
              FROM (SELECT c.weekday, pg_catalog.jsonb_agg(c.calls ORDER BY c.hour) AS calls,
                           pg_catalog.jsonb_agg(pg_catalog.round(c.seconds / 60.0, 2) ORDER BY c.hour) AS minutes
                      FROM cells c GROUP BY c.weekday) AS r),
           (SELECT pg_catalog.jsonb_build_object('weekday', c.weekday, 'hour', c.hour, 'calls', c.calls)
              FROM cells c WHERE c.calls > 0 ORDER BY c.calls DESC, c.weekday, c.hour LIMIT 1),
           (SELECT billing.sum_arrays(s.completed_by_length) FROM shapes s),
           (SELECT pg_catalog.sum(s.completed_seconds) FROM shapes s)
      INTO heatmap, peak, completed_by_length, completed_seconds;

    -- Cost only where it is a period's charge: a part of a period has no charge of its own.
    cost_period := billing.period_for(company_row.id, first_day);
    IF cost_period.start_date = first_day AND
       (cost_period.end_date = last_day OR (last_day = today AND today BETWEEN cost_period.start_date AND cost_period.end_date)) THEN
        plan := billing.plan_for_period(company_row.id, cost_period.start_date, cost_period.end_date);
        IF plan.id IS NOT NULL THEN
            cost := (billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency),
                                           totals.seconds, totals.appointments)).total_cost;
        END IF;
    END IF;
    completed_by_length := COALESCE(completed_by_length, billing.add_at(NULL, length_buckets, NULL, NULL));
    profiled_completed := (SELECT pg_catalog.sum(v) FROM pg_catalog.unnest(completed_by_length) AS v);
    median := billing.median_call_length(completed_by_length);

    RETURN pg_catalog.jsonb_build_object(
        'company_id', company_row.id,
        'timezone', company_row.timezone,
        'currency', company_row.currency,
        'range', pg_catalog.jsonb_build_object('from', first_day, 'to', last_day, 'days', last_day - first_day + 1),
        'calls', pg_catalog.jsonb_build_object('total', totals.calls, 'completed', totals.completed_calls),
        'minutes', pg_catalog.round(totals.seconds / 60.0, 2),
        'appointments', totals.appointments,
        'conversion_rate', CASE WHEN totals.completed_calls > 0
                                THEN pg_catalog.round(totals.appointments::numeric / totals.completed_calls, 4) END,
        'cost', cost,
        'cost_period', CASE WHEN cost IS NOT NULL THEN pg_catalog.jsonb_build_object(
                           'start', cost_period.start_date, 'end', cost_period.end_date) END,
        'cost_per_lead', CASE WHEN cost IS NOT NULL AND totals.appointments > 0
                              THEN pg_catalog.round(cost / totals.appointments, billing.currency_minor_unit(company_row.currency)) END,
        'call_length', pg_catalog.jsonb_build_object(
            'average_seconds', CASE WHEN profiled_completed > 0
                                    THEN pg_catalog.round(completed_seconds / profiled_completed, 1) END,
            'median_seconds', CASE WHEN median.at_least IS NOT NULL THEN pg_catalog.jsonb_build_object(
                'at_least', median.at_least, 'below', median.below) END),
        'heatmap', heatmap,
        'peak', peak);
END
$$;

CREATE FUNCTION billing.usage_analytics(company bigint DEFAULT NULL, from_day date DEFAULT NULL, to_day date DEFAULT NULL,
                                        as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_analytics(bigint, date, date, timestamptz) IS
    'Calls and minutes by weekday and local hour, conversion rate, cost per lead, average and median call length of a date range';

-- A batch of calls of one company in one statement (src/pg/ingest_functions.cpp): the same
-- idempotency as record_call (a call stored before, or twice in the batch, is stored once), the
-- rollup written once per day of the batch; returns how many calls were new. statuses NULL:
-- every call 'completed'.
CREATE FUNCTION billing.record_calls(company bigint, external_ids text[], started_ats timestamptz[],
                                     durations integer[], statuses text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_calls';
COMMENT ON FUNCTION billing.record_calls(bigint, text[], timestamptz[], integer[], text[]) IS
    'Stores a batch of one company''s calls, each once per (company, external_id); returns how many were new';

REVOKE ALL ON FUNCTION billing.record_calls(bigint, text[], timestamptz[], integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.record_calls(bigint, text[], timestamptz[], integer[], text[]) TO billing_admin;

REVOKE ALL ON FUNCTION billing.add_at(bigint[], integer, integer, bigint), billing.sum_at(integer, integer, bigint),
    billing.add_arrays(bigint[], bigint[]), billing.add_arrays(integer[], integer[]), billing.sum_arrays(bigint[]),
    billing.call_length_bucket(integer), billing.call_length_range(integer), billing.call_length_buckets(),
    billing.median_call_length(bigint[]),
    billing.raw_usage_profile(bigint), billing.verify_usage_profile(bigint),
    billing._usage_analytics_impl(bigint, date, date, timestamptz), billing.usage_analytics(bigint, date, date, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.add_at(bigint[], integer, integer, bigint), billing.sum_at(integer, integer, bigint),
    billing.add_arrays(bigint[], bigint[]), billing.add_arrays(integer[], integer[]), billing.sum_arrays(bigint[]),
    billing.call_length_bucket(integer), billing.call_length_range(integer), billing.call_length_buckets(),
    billing.median_call_length(bigint[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION billing.usage_analytics(bigint, date, date, timestamptz) TO billing_viewer, billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.verify_usage_profile(bigint), billing.raw_usage_profile(bigint) TO billing_admin;

-- The profile of the calls already stored (days archived before 1.7 have none).
INSERT INTO billing.usage_profile (company_id, day, slot, calls_by_hour, seconds_by_hour, completed_by_length,
                                   completed_seconds)
SELECT r.company_id, r.day, 0, r.calls_by_hour::integer[], r.seconds_by_hour, r.completed_by_length::integer[],
       r.completed_seconds
  FROM billing.raw_usage_profile(NULL) AS r;
