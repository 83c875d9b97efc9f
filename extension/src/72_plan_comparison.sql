------------------------------------------------------------------------------------------
-- Plan comparison: what the company's real usage would cost on the plans on offer
------------------------------------------------------------------------------------------

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
