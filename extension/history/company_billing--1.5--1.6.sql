-- company_billing 1.5 -> 1.6: API tokens (create_api_token, authenticate_token,
-- revoke_api_token), the end user of token-authenticated reads in the audit log, and
-- throttle_detail() for HTTP rate-limit headers, record_appointment in C, token_failures in
-- runtime_status(), the plan catalog and compare_plans(), usage_forecast(), usage_anomalies().
-- The current definitions are in extension/src/.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.6'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- The audit log names the token and its user; a failed authentication of an unknown token id
-- has no company.
ALTER TABLE billing.audit_log ALTER COLUMN company_id DROP NOT NULL;
ALTER TABLE billing.audit_log ADD COLUMN api_token_id bigint, ADD COLUMN api_user text;
COMMENT ON COLUMN billing.audit_log.api_token_id IS
    'The API token the reading transaction authenticated (billing.authenticate_token), if any';
COMMENT ON COLUMN billing.audit_log.api_user IS 'The user_name of that API token when the row was written';

-- API tokens (the shape of personal access tokens): "<id>|<secret>", of which only the SHA-256
-- of the secret is kept. Created and revoked by administrators; verified by
-- billing.authenticate_token() (src/pg/api_tokens.cpp). last_used_at is set by the audit
-- writer from the successful authentications it writes (so authenticating writes nothing).
CREATE TABLE billing.api_tokens (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL REFERENCES billing.companies (id),
    name         text NOT NULL,
    user_name    text,
    abilities    text[] NOT NULL DEFAULT '{view_billing}',
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_id_check CHECK (id > 0),
    CONSTRAINT api_tokens_name_check CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
    CONSTRAINT api_tokens_user_name_check CHECK (pg_catalog.length(user_name) BETWEEN 1 AND 200),
    -- One or more abilities, each a lower-case word (view_billing, or the application's own).
    CONSTRAINT api_tokens_abilities_check CHECK (
        pg_catalog.array_ndims(abilities) = 1 AND pg_catalog.array_position(abilities, NULL) IS NULL
        AND pg_catalog.array_to_string(abilities, ',') OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_:.-]{0,62}(,[a-z][a-z0-9_:.-]{0,62})*$'),
    CONSTRAINT api_tokens_secret_hash_check CHECK (pg_catalog.octet_length(secret_hash) = 32),
    CONSTRAINT api_tokens_expires_at_check CHECK (pg_catalog.isfinite(expires_at))
);
CREATE INDEX api_tokens_company_id_idx ON billing.api_tokens (company_id);
SELECT pg_catalog.pg_extension_config_dump('billing.api_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('billing.api_tokens_id_seq', '');
COMMENT ON TABLE billing.api_tokens IS
    'API tokens "<id>|<secret>": one company, an optional user, abilities, expiry, revocation; the secret only as its SHA-256';
ALTER TABLE billing.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_admin ON billing.api_tokens TO billing_admin USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.api_tokens TO billing_admin;
GRANT USAGE ON SEQUENCE billing.api_tokens_id_seq TO billing_admin;

-- The same limiter, with what an HTTP answer needs: whether the call is admitted, the calls
-- left in the bucket after it, and the seconds until the next call would be admitted (0 when
-- some are left).
CREATE FUNCTION billing.throttle_detail(key text, per_minute integer, as_of timestamptz DEFAULT pg_catalog.now(),
                                        OUT admitted boolean, OUT remaining integer, OUT retry_after_seconds integer)
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_throttle_detail';
COMMENT ON FUNCTION billing.throttle_detail(text, integer, timestamptz) IS
    'billing.throttle() with the calls remaining and the seconds to wait when refused';

-- A new token for one company (and optionally one named user): returns its id and the
-- plaintext "<id>|<secret>" (48 random letters and digits), which is never stored and cannot be
-- shown again. expires_at NULL: never expires.
CREATE FUNCTION billing.create_api_token(company bigint, name text, user_name text DEFAULT NULL,
                                         abilities text[] DEFAULT '{view_billing}',
                                         expires_at timestamptz DEFAULT NULL,
                                         OUT token_id bigint, OUT token text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_create_api_token';
COMMENT ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamptz) IS
    'Creates an API token and returns its plaintext once (only the SHA-256 of its secret is kept)';

-- Verifies a presented token (comparing hashes in constant time) and returns its company, user
-- and abilities. Every failure (malformed, unknown id, wrong secret, expired, revoked) raises
-- the same 28000 "invalid API token" and is audited as "authenticate_token (failed)". A success
-- is audited as "authenticate_token", and the audited reads of the rest of the transaction
-- carry the token and its user. Writes nothing, so it works in READ ONLY transactions.
-- It reads billing.api_tokens without the caller's SELECT privilege, by primary key: the caller
-- learns a token's row only by presenting its secret.
CREATE FUNCTION billing.authenticate_token(token text, as_of timestamptz DEFAULT pg_catalog.now(),
                                           OUT token_id bigint, OUT company_id bigint, OUT user_name text,
                                           OUT abilities text[], OUT expires_at timestamptz,
                                           OUT company_active boolean)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_authenticate_token';
COMMENT ON FUNCTION billing.authenticate_token(text, timestamptz) IS
    'Verifies an API token "<id>|<secret>": its company, user and abilities, or 28000 for any invalid token';

CREATE FUNCTION billing.revoke_api_token(token_id bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF token_id IS NULL OR as_of IS NULL THEN
        RAISE EXCEPTION 'token_id and as_of must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE billing.api_tokens t SET revoked_at = as_of
     WHERE t.id = revoke_api_token.token_id AND t.revoked_at IS NULL;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.revoke_api_token(bigint, timestamptz) IS
    'Revokes an API token from as_of on; true when it was not revoked before';

REVOKE ALL ON FUNCTION billing.throttle_detail(text, integer, timestamptz),
    billing.create_api_token(bigint, text, text, text[], timestamptz), billing.authenticate_token(text, timestamptz),
    billing.revoke_api_token(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.throttle_detail(text, integer, timestamptz),
    billing.authenticate_token(text, timestamptz) TO billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamptz),
    billing.revoke_api_token(bigint, timestamptz) TO billing_admin;

-- record_appointment in C: the table's constraints are its checks (no PL/pgSQL copy of them).
CREATE OR REPLACE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
                                                      status text DEFAULT 'booked',
                                                      call_external_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_appointment';
ALTER FUNCTION billing.record_appointment(bigint, text, timestamptz, text, text) RESET ALL;

-- runtime_status() gains token_failures (a new OUT column: the function is created again).
DROP FUNCTION billing.runtime_status();
CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint,
                                       OUT audit_written bigint, OUT audit_dropped bigint,
                                       OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint,
                                       OUT token_failures bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_runtime_status_v2';
COMMENT ON FUNCTION billing.runtime_status() IS
    'Whether API reads are audited in this database, and (for administrators) the audit and limiter counters';
REVOKE ALL ON FUNCTION billing.runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.runtime_status() TO billing_viewer, billing_app, billing_admin;

-- The plan catalog and compare_plans().
-- Plans the business offers (a catalog, administered like pricing_plans), for
-- billing.compare_plans(). Each plan is the JSON shape price() reads; the pure evaluator is the
-- only check of its parameters (22023 names what is wrong), so the catalog needs no copy of the
-- model/parameter rules. Prices are in `currency`; a company is compared only with the plans of
-- its own currency.
CREATE TABLE billing.plan_catalog (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    config     jsonb NOT NULL,
    currency   text NOT NULL,
    offered    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT plan_catalog_name_key UNIQUE (name),
    CONSTRAINT plan_catalog_name_check CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
    CONSTRAINT plan_catalog_currency_check CHECK (billing.currency_minor_unit(currency) IS NOT NULL),
    CONSTRAINT plan_catalog_config_check CHECK (NOT config OPERATOR(pg_catalog.?) 'currency' AND
        (billing.price(config OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('currency', currency), 0, 0)).total_cost IS NOT NULL)
);
SELECT pg_catalog.pg_extension_config_dump('billing.plan_catalog', '');
SELECT pg_catalog.pg_extension_config_dump('billing.plan_catalog_id_seq', '');
COMMENT ON TABLE billing.plan_catalog IS
    'The plans on offer, as price() configs in a currency, compared by billing.compare_plans()';


-- What the company would have paid on each offered plan: its last `periods` closed periods (the
-- usage they hold now) and the current period projected to its end (as usage_projection
-- projects it), priced with the pure evaluator under its own plans and under every catalog plan
-- of its currency, cheapest first. Each period's charge is price() of that period's totals; a
-- plan's total is the sum of its periods' charges, and saving is the company's own total minus
-- the plan's.
CREATE FUNCTION billing._compare_plans_impl(company bigint, periods integer, as_of timestamptz, projection jsonb,
                                            OUT plan_id bigint, OUT name text, OUT pricing_model text,
                                            OUT is_current boolean, OUT periods_priced integer,
                                            OUT total numeric, OUT saving numeric, OUT currency text)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    current_plan billing.pricing_plans;
    period_start date := (projection #>> '{current,period,start}')::date;
    period_end date := (projection #>> '{current,period,end}')::date;
    elapsed integer := (projection #>> '{current,period,days_elapsed}')::integer;
    remaining integer := (projection #>> '{current,period,days_remaining}')::integer;
    -- The priced usage, one element per period (the closed ones, newest first, then the current
    -- one projected): seconds, appointments, and the config of the plan it was billed under.
    usage_seconds numeric[];
    usage_appointments numeric[];
    own_configs jsonb[];
    projected record;
    own_total numeric;
BEGIN
    IF periods IS NULL OR periods NOT BETWEEN 1 AND 24 THEN
        RAISE EXCEPTION 'periods must be between 1 and 24' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    current_plan := billing.plan_for_period(company_row.id, period_start, period_end);
    SELECT COALESCE(pg_catalog.array_agg(t.seconds::numeric ORDER BY p.start_date DESC), '{}'),
           COALESCE(pg_catalog.array_agg(t.appointments::numeric ORDER BY p.start_date DESC), '{}'),
           COALESCE(pg_catalog.array_agg(billing.plan_config(billing.plan_for_period(company_row.id, p.start_date, p.end_date))
                                         ORDER BY p.start_date DESC), '{}')
      INTO usage_seconds, usage_appointments, own_configs
      FROM (SELECT bp.start_date, bp.end_date FROM billing.billing_periods bp
             WHERE bp.company_id = company_row.id AND bp.status = 'closed'
             ORDER BY bp.start_date DESC LIMIT periods) AS p,
           LATERAL billing.period_totals(company_row.id, p.start_date, p.end_date) AS t;
    -- The current period to its end: its usage so far times (elapsed + remaining) / elapsed days.
    SELECT (t.seconds::numeric * (elapsed + remaining)) / elapsed AS seconds,
           (t.appointments::numeric * (elapsed + remaining)) / elapsed AS appointments
      INTO projected FROM billing.period_totals(company_row.id, period_start, period_end, as_of) AS t;
    usage_seconds := usage_seconds || projected.seconds;
    usage_appointments := usage_appointments || projected.appointments;
    own_configs := own_configs || billing.plan_config(current_plan);

    SELECT pg_catalog.sum((billing.price_seconds(u.config || pg_catalog.jsonb_build_object('currency', company_row.currency),
                                                 u.seconds, u.appointments)).total_cost)
      INTO own_total
      FROM ROWS FROM (pg_catalog.unnest(usage_seconds), pg_catalog.unnest(usage_appointments),
                     pg_catalog.unnest(own_configs)) AS u(seconds, appointments, config)
     WHERE u.config IS NOT NULL;
    RETURN QUERY
    SELECT r.plan_id, r.name, r.pricing_model, r.is_current, pg_catalog.cardinality(usage_seconds), r.total,
           own_total - r.total, company_row.currency
      FROM (SELECT NULL::bigint AS plan_id, 'current plan'::text AS name, current_plan.pricing_model AS pricing_model,
                   true AS is_current, own_total AS total
            UNION ALL
            SELECT pc.id, pc.name, pc.config ->> 'pricing_model', false,
                   (SELECT pg_catalog.sum((billing.price_seconds(pc.config || pg_catalog.jsonb_build_object('currency', company_row.currency),
                                                                 u.seconds, u.appointments)).total_cost)
                      FROM ROWS FROM (pg_catalog.unnest(usage_seconds), pg_catalog.unnest(usage_appointments))
                           AS u(seconds, appointments))
              FROM billing.plan_catalog pc
             WHERE pc.offered AND pc.currency = company_row.currency) AS r
     ORDER BY r.total, r.is_current DESC, r.plan_id;
END
$$;

CREATE FUNCTION billing.compare_plans(company bigint DEFAULT NULL, periods integer DEFAULT 6,
                                      as_of timestamptz DEFAULT pg_catalog.now(),
                                      OUT plan_id bigint, OUT name text, OUT pricing_model text,
                                      OUT is_current boolean, OUT periods_priced integer,
                                      OUT total numeric, OUT saving numeric, OUT currency text)
RETURNS SETOF record
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.compare_plans(bigint, integer, timestamptz) IS
    'The company''s last closed periods and projected current period priced under its own plans and every offered catalog plan of its currency';
ALTER TABLE billing.plan_catalog ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.plan_catalog FORCE ROW LEVEL SECURITY;
CREATE POLICY plan_catalog_admin ON billing.plan_catalog TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY plan_catalog_read ON billing.plan_catalog FOR SELECT TO billing_viewer, billing_app USING (true);
GRANT SELECT ON billing.plan_catalog TO billing_viewer, billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.plan_catalog TO billing_admin;
GRANT USAGE ON SEQUENCE billing.plan_catalog_id_seq TO billing_admin;
REVOKE ALL ON FUNCTION billing._compare_plans_impl(bigint, integer, timestamptz, jsonb),
    billing.compare_plans(bigint, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.compare_plans(bigint, integer, timestamptz) TO billing_viewer, billing_app, billing_admin;

-- The month-end forecast with weekday seasonality.
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
REVOKE ALL ON FUNCTION billing._usage_forecast_impl(bigint, timestamptz, jsonb),
    billing.usage_forecast(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.usage_forecast(bigint, timestamptz) TO billing_viewer, billing_app, billing_admin;

-- Anomalies: days far from the same weekday's usual level.
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
REVOKE ALL ON FUNCTION billing._usage_anomalies_impl(bigint, integer, timestamptz),
    billing.usage_anomalies(bigint, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.usage_anomalies(bigint, integer, timestamptz) TO billing_viewer, billing_app, billing_admin;
