------------------------------------------------------------------------------------------
-- Pricing evaluators (pure; the rules live in src/core/pricing.cpp)
------------------------------------------------------------------------------------------

CREATE TYPE billing.charge AS (
    pricing_model         text,
    currency              text,
    base_fee              numeric,   -- money: rounded to the currency's minor unit
    minutes_cost          numeric,
    appointments_cost     numeric,
    total_cost            numeric,   -- the sum of the rounded lines above
    included_minutes      numeric,   -- NULL where the model includes none (or all)
    overage_minutes       numeric,
    included_appointments numeric,
    overage_appointments  numeric
);
COMMENT ON TYPE billing.charge IS 'One evaluation of a pricing plan: the charge lines and their total';

CREATE FUNCTION billing.price(config jsonb, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_price_jsonb';
COMMENT ON FUNCTION billing.price(jsonb, numeric, numeric) IS
    'Prices minutes and appointments under a plan given as JSON, e.g. {"pricing_model":"per_minute",...}';

-- An untyped literal matches both the jsonb and the pricing_plans variant; this text variant
-- makes billing.price('{"pricing_model":...}', 687.5, 87) resolve to the JSON evaluator.
CREATE FUNCTION billing.price(config text, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing.price(config::jsonb, minutes, appointments) $$;

-- Prices a sum of call seconds: minutes are seconds / 60 exactly, never a rounded quotient.
CREATE FUNCTION billing.price_seconds(config jsonb, seconds numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_price_seconds';
COMMENT ON FUNCTION billing.price_seconds(jsonb, numeric, numeric) IS
    'Like price(), with the usage given in call seconds (minutes = seconds / 60, exact)';

-- The JSON form of a plan row: its model and its non-NULL parameters. PL/pgSQL, not SQL: a SQL
-- function called from PL/pgSQL is parsed and planned again in every transaction.
CREATE FUNCTION billing.plan_config(plan billing.pricing_plans) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'pricing_model', plan.pricing_model,
        'base_fee', plan.base_fee,
        'included_minutes', plan.included_minutes,
        'overage_per_minute', plan.overage_per_minute,
        'per_minute_rate', plan.per_minute_rate,
        'per_appointment_rate', plan.per_appointment_rate,
        'package_minutes', plan.package_minutes,
        'package_appointments', plan.package_appointments,
        'overage_per_appointment', plan.overage_per_appointment));
END
$$;

CREATE FUNCTION billing.price(plan billing.pricing_plans, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing.price(billing.plan_config(plan), minutes, appointments) $$;
COMMENT ON FUNCTION billing.price(billing.pricing_plans, numeric, numeric) IS
    'Prices minutes and appointments under a billing.pricing_plans row (rounded to 2 decimals)';

-- The charge lines of a period's own usage under its plan, as a jsonb array of
-- {kind, description, quantity, unit_price, amount, billed_seconds, billed_appointments}.
CREATE FUNCTION billing.charge_lines(plan billing.pricing_plans, currency text, seconds bigint,
                                      appointments bigint)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    charge billing.charge := billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', currency),
                                                   seconds, appointments);
    minutes numeric := pg_catalog.round(seconds / 60.0, 2);
    lines jsonb := '[]';
BEGIN
    IF plan.pricing_model <> 'combined' THEN
        lines := lines || pg_catalog.jsonb_build_object(
            'kind', 'base_fee', 'description', pg_catalog.format('Base fee (%s plan)', plan.pricing_model),
            'quantity', 1, 'unit_price', charge.base_fee, 'amount', charge.base_fee,
            'billed_seconds', 0, 'billed_appointments', 0);
    END IF;
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'minutes',
        'description', CASE plan.pricing_model
            WHEN 'per_appointment' THEN pg_catalog.format('Call minutes: %s, included in the plan', minutes)
            WHEN 'combined' THEN pg_catalog.format('Call minutes: %s', minutes)
            ELSE pg_catalog.format('Call minutes: %s used, %s included, %s over', minutes,
                                   charge.included_minutes, pg_catalog.round(charge.overage_minutes, 2)) END,
        'quantity', CASE WHEN plan.pricing_model IN ('per_minute', 'package')
                         THEN pg_catalog.round(charge.overage_minutes, 2) ELSE minutes END,
        'unit_price', CASE plan.pricing_model WHEN 'per_appointment' THEN 0
                           WHEN 'combined' THEN plan.per_minute_rate ELSE plan.overage_per_minute END,
        'amount', charge.minutes_cost, 'billed_seconds', seconds, 'billed_appointments', 0);
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'appointments',
        'description', CASE plan.pricing_model
            WHEN 'package' THEN pg_catalog.format('Appointments: %s booked, %s included, %s over', appointments,
                                                  charge.included_appointments, charge.overage_appointments)
            ELSE pg_catalog.format('Appointments: %s booked', appointments) END,
        'quantity', CASE plan.pricing_model WHEN 'package' THEN charge.overage_appointments ELSE appointments END,
        'unit_price', CASE plan.pricing_model WHEN 'package' THEN plan.overage_per_appointment
                           ELSE COALESCE(plan.per_appointment_rate, 0) END,
        'amount', charge.appointments_cost, 'billed_seconds', 0, 'billed_appointments', appointments);
    RETURN lines;
END
$$;
COMMENT ON FUNCTION billing.charge_lines(billing.pricing_plans, text, bigint, bigint) IS
    'The invoice lines (base fee, minutes, appointments) of a usage under a plan; pure, like price()';

