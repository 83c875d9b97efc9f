------------------------------------------------------------------------------------------
-- Analytics: when the calls come, how long they last, what they bring (conversion, cost per
-- lead), read from the rollup and the call profile, never from the raw calls of a whole range.
------------------------------------------------------------------------------------------

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
