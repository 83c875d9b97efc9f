------------------------------------------------------------------------------------------
-- The month-end forecast with weekday seasonality (bench/forecast_backtest.sh measures it
-- against the linear projection)
------------------------------------------------------------------------------------------

-- The current period's month-end minutes, appointments and total cost:
--   * weekday factors from the company's last 56 complete days before as_of's day (each
--     weekday's mean over the mean day); with fewer than 14 days of history (counted from the
--     first day with usage), or none with usage, the linear projection instead;
--   * the level (usage per average day) from the elapsed days of the period, divided by their
--     weekday factors, shrunk towards the history's level with the weight of 7 days;
--   * forecast = usage so far + level * the weekday factors of the remaining days;
--   * an 80% interval from the spread of the history's days around level * factor (a normal
--     quantile, 1.2816, over the remaining days and the level's own uncertainty), never below
--     the usage so far; none (NULL ends) for the linear projection;
--   * total cost and the interval's ends priced under the period's plan (price_seconds), and the
--     day on which the included minutes run out (the first day the cumulative forecast reaches
--     them, the day they were reached if already).
CREATE FUNCTION billing._usage_forecast_impl(company bigint, as_of timestamptz, projection jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    plan billing.pricing_plans;
    config jsonb;
    period_start date := (projection #>> '{current,period,start}')::date;
    period_end date := (projection #>> '{current,period,end}')::date;
    elapsed integer := (projection #>> '{current,period,days_elapsed}')::integer;
    remaining integer := (projection #>> '{current,period,days_remaining}')::integer;
    today date;
    history_from date;
    first_usage date;
    actual record;
    history_days integer;
    method text;
    quantity text;
    result jsonb := '{}';
    estimate record;
    included numeric;
    run_out date;
    z constant numeric := 1.2816;   -- the 80% two-sided normal quantile
    shrink constant numeric := 7;   -- the history's weight, in days
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    plan := billing.plan_for_period(company_row.id, period_start, period_end);
    config := billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency);
    today := period_start + elapsed - 1;
    SELECT t.seconds::numeric / 60 AS minutes, t.appointments::numeric AS appointments
      INTO actual FROM billing.period_totals(company_row.id, period_start, period_end, as_of) AS t;
    SELECT pg_catalog.min(d.day) INTO first_usage FROM billing.usage_daily d
     WHERE d.company_id = company_row.id AND (d.calls > 0 OR d.appointments > 0);
    history_from := GREATEST(today - 56, first_usage);
    history_days := COALESCE(today - history_from, 0);
    method := CASE WHEN history_days >= 14 THEN 'weekday' ELSE 'linear' END;

    FOREACH quantity IN ARRAY ARRAY['minutes', 'appointments'] LOOP
        WITH days AS (
            SELECT g::date AS day, EXTRACT(isodow FROM g)::integer AS weekday,
                   COALESCE((SELECT CASE quantity WHEN 'minutes' THEN pg_catalog.sum(d.seconds)::numeric / 60
                                                  ELSE pg_catalog.sum(d.appointments)::numeric END
                               FROM billing.usage_daily d
                              WHERE d.company_id = company_row.id AND d.day = g::date), 0) AS value
              FROM pg_catalog.generate_series(history_from, today - 1, interval '1 day') AS g),
        level AS (SELECT pg_catalog.avg(value) AS mean FROM days),
        factors AS (
            SELECT w.weekday, CASE WHEN (SELECT mean FROM level) > 0
                                   THEN COALESCE(pg_catalog.avg(d.value), 0) / (SELECT mean FROM level) ELSE 1 END AS factor
              FROM pg_catalog.generate_series(1, 7) AS w(weekday) LEFT JOIN days d ON d.weekday = w.weekday
             GROUP BY w.weekday),
        spread AS (
            SELECT COALESCE(pg_catalog.stddev_samp(d.value - (SELECT mean FROM level) * f.factor), 0) AS sigma
              FROM days d JOIN factors f USING (weekday)),
        period_days AS (
            SELECT g::date AS day, g::date <= today AS is_elapsed, f.factor
              FROM pg_catalog.generate_series(period_start, period_end, interval '1 day') AS g
              JOIN factors f ON f.weekday = EXTRACT(isodow FROM g)::integer),
        weights AS (
            SELECT COALESCE(pg_catalog.sum(factor) FILTER (WHERE is_elapsed), 0) AS elapsed_weight,
                   COALESCE(pg_catalog.sum(factor) FILTER (WHERE NOT is_elapsed), 0) AS remaining_weight
              FROM period_days)
        SELECT CASE quantity WHEN 'minutes' THEN actual.minutes ELSE actual.appointments END AS so_far,
               (SELECT mean FROM level) AS history_level, w.elapsed_weight, w.remaining_weight,
               (SELECT sigma FROM spread) AS sigma,
               (SELECT pg_catalog.array_agg(f.factor ORDER BY f.weekday) FROM factors f) AS factors
          INTO estimate FROM weights w;
        DECLARE
            level numeric;
            forecast numeric;
            half_width numeric;
            -- The linear projection is usage_projection's (the document this body receives).
            linear numeric := (projection #>> ARRAY['projected', quantity])::numeric;
        BEGIN
            IF method = 'weekday' THEN
                level := (estimate.so_far + shrink * estimate.history_level) / (estimate.elapsed_weight + shrink);
                forecast := estimate.so_far + level * estimate.remaining_weight;
                half_width := z * estimate.sigma * pg_catalog.sqrt(remaining + estimate.remaining_weight ^ 2
                                                                   / (estimate.elapsed_weight + shrink));
            ELSE
                forecast := linear;
                -- No history to learn the spread from: the days so far, as a sample.
                half_width := NULL;
            END IF;
            result := result || pg_catalog.jsonb_build_object(quantity, pg_catalog.jsonb_build_object(
                'so_far', pg_catalog.round(estimate.so_far, 2),
                'forecast', pg_catalog.round(forecast, 2),
                'low', pg_catalog.round(CASE WHEN half_width IS NOT NULL THEN GREATEST(estimate.so_far, forecast - half_width) END, 2),
                'high', pg_catalog.round(forecast + half_width, 2),
                'linear', pg_catalog.round(linear, 2),
                'exact', forecast,
                'exact_low', CASE WHEN half_width IS NOT NULL THEN GREATEST(estimate.so_far, forecast - half_width) END,
                'exact_high', forecast + half_width));
            IF quantity = 'minutes' THEN
                -- The day the included minutes run out: cumulative actual, then level * factor a day.
                included := COALESCE(plan.included_minutes, plan.package_minutes);
                IF included IS NOT NULL AND included > 0 THEN
                    IF estimate.so_far >= included THEN
                        SELECT pg_catalog.min(s.day) INTO run_out FROM (
                            SELECT d.day, pg_catalog.sum(pg_catalog.sum(d.seconds)) OVER (ORDER BY d.day) AS cumulative
                              FROM billing.usage_daily d WHERE d.company_id = company_row.id
                               AND d.day BETWEEN period_start AND today GROUP BY d.day) AS s
                         WHERE s.cumulative::numeric / 60 >= included;
                    ELSIF forecast >= included THEN
                        -- Day by day: each remaining day adds level * its weekday's factor (the
                        -- linear projection: the mean day so far).
                        SELECT pg_catalog.min(s.day) INTO run_out FROM (
                            SELECT g::date AS day,
                                   pg_catalog.sum(CASE WHEN method = 'weekday'
                                                       THEN level * estimate.factors[EXTRACT(isodow FROM g)::integer]
                                                       ELSE estimate.so_far / elapsed END) OVER (ORDER BY g) AS added
                              FROM pg_catalog.generate_series(today + 1, period_end, interval '1 day') AS g) AS s
                         WHERE estimate.so_far + s.added >= included;
                    END IF;
                END IF;
            END IF;
        END;
    END LOOP;

    RETURN pg_catalog.jsonb_build_object(
        'method', method,
        'period', projection #> '{current,period}',
        'currency', company_row.currency,
        'history_days', history_days,
        'minutes', (result -> 'minutes') - ARRAY['exact', 'exact_low', 'exact_high'],
        'appointments', (result -> 'appointments') - ARRAY['exact', 'exact_low', 'exact_high'],
        'total_cost', pg_catalog.jsonb_build_object(
            'forecast', CASE WHEN method = 'linear' THEN (projection #>> '{projected,costs,total_cost}')::numeric
                             ELSE (billing.price(config, (result #>> '{minutes,exact}')::numeric,
                                                 (result #>> '{appointments,exact}')::numeric)).total_cost END,
            'low', (billing.price(config, (result #>> '{minutes,exact_low}')::numeric,
                                  (result #>> '{appointments,exact_low}')::numeric)).total_cost,
            'high', (billing.price(config, (result #>> '{minutes,exact_high}')::numeric,
                                   (result #>> '{appointments,exact_high}')::numeric)).total_cost,
            'linear', projection #> '{projected,costs,total_cost}'),
        'included_minutes_run_out', run_out);
END
$$;

CREATE FUNCTION billing.usage_forecast(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_forecast(bigint, timestamptz) IS
    'Month-end minutes, appointments and cost with weekday seasonality and an 80% interval (linear without 14 days of history)';
