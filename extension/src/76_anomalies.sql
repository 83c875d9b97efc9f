------------------------------------------------------------------------------------------
-- Anomalies: days far from the company's usual level for that weekday
------------------------------------------------------------------------------------------

-- The complete local days of the last `days` days before as_of's day whose minutes lie far
-- from the same weekday's usual level. The baseline of a day is the median of that weekday's
-- previous eight occurrences (those from the company's first day with usage on); the scale is
-- 1.4826 x their median absolute deviation, at least a tenth of the median and at least one
-- minute. A day is a `spike` when its robust score (minutes - median) / scale exceeds 3.5, a
-- `drop` when it is below -3.5, and `zero` when it had no minutes while the weekday's median is
-- at least 10 minutes. Days with fewer than four earlier occurrences of their weekday are not
-- judged.
CREATE FUNCTION billing._usage_anomalies_impl(company bigint, days integer, as_of timestamptz)
RETURNS TABLE (day date, weekday integer, minutes numeric, baseline numeric, scale numeric, score numeric, kind text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    first_usage date;
BEGIN
    IF days IS NULL OR days NOT BETWEEN 1 AND 366 THEN
        RAISE EXCEPTION 'days must be between 1 and 366' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    SELECT pg_catalog.min(d.day) INTO first_usage FROM billing.usage_daily d
     WHERE d.company_id = company_row.id AND (d.calls > 0 OR d.appointments > 0);
    IF first_usage IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH series AS (
        SELECT g::date AS day,
               COALESCE((SELECT pg_catalog.sum(u.seconds)::numeric / 60 FROM billing.usage_daily u
                          WHERE u.company_id = company_row.id AND u.day = g::date), 0) AS minutes
          FROM pg_catalog.generate_series(GREATEST(first_usage, today - days - 56), today - 1, interval '1 day') AS g),
    judged AS (
        SELECT s.day, EXTRACT(isodow FROM s.day)::integer AS weekday, s.minutes,
               (SELECT pg_catalog.array_agg(p.minutes) FROM series p
                 WHERE p.day < s.day AND p.day >= s.day - 56
                   AND EXTRACT(isodow FROM p.day) = EXTRACT(isodow FROM s.day)) AS previous
          FROM series s
         WHERE s.day >= today - days),
    baselines AS (
        SELECT j.day, j.weekday, j.minutes, j.previous,
               (SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM pg_catalog.unnest(j.previous) AS v)::numeric AS median
          FROM judged j
         WHERE pg_catalog.cardinality(j.previous) >= 4),
    scaled AS (
        SELECT b.day, b.weekday, b.minutes, b.median,
               GREATEST(1.4826 * (SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY pg_catalog.abs(v - b.median))
                                    FROM pg_catalog.unnest(b.previous) AS v)::numeric,
                        b.median / 10, 1) AS scale
          FROM baselines b)
    SELECT s.day, s.weekday, pg_catalog.round(s.minutes, 2), pg_catalog.round(s.median, 2), pg_catalog.round(s.scale, 2),
           pg_catalog.round((s.minutes - s.median) / s.scale, 2),
           CASE WHEN s.minutes = 0 AND s.median >= 10 THEN 'zero'
                WHEN (s.minutes - s.median) / s.scale > 3.5 THEN 'spike'
                ELSE 'drop' END
      FROM scaled s
     WHERE (s.minutes = 0 AND s.median >= 10) OR pg_catalog.abs((s.minutes - s.median) / s.scale) > 3.5
     ORDER BY s.day;
END
$$;

CREATE FUNCTION billing.usage_anomalies(company bigint DEFAULT NULL, days integer DEFAULT 28,
                                        as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (day date, weekday integer, minutes numeric, baseline numeric, scale numeric, score numeric, kind text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_anomalies(bigint, integer, timestamptz) IS
    'Days of the last `days` whose minutes lie far from the same weekday''s median of the previous eight weeks (spike, drop, zero)';
