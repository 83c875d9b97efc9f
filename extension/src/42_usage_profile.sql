------------------------------------------------------------------------------------------
-- The call profile (billing.usage_profile, kept by the calls rollup trigger): counts arrays,
-- call length buckets (src/core/call_profile.h), and its recomputation from the raw rows.
------------------------------------------------------------------------------------------

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
