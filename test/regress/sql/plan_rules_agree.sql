-- The model/parameter rules exist as the table's CHECK constraints (what a plan row may hold)
-- and in the pricing core (src/core/plan.cpp: what price() accepts). For every model and every
-- subset of the eight parameters (4 x 256 plans), both accept the same plans, and a plan row the
-- table accepts prices through plan_config() exactly as its JSON does.
SET client_min_messages = warning;
INSERT INTO billing.companies (id, name) VALUES (1601, 'Plan Rules');
CREATE TEMP TABLE parameters (bit int, name text);
INSERT INTO parameters VALUES (0, 'base_fee'), (1, 'included_minutes'), (2, 'overage_per_minute'),
    (3, 'per_minute_rate'), (4, 'per_appointment_rate'), (5, 'package_minutes'),
    (6, 'package_appointments'), (7, 'overage_per_appointment');
CREATE FUNCTION pg_temp.accepted_by_table(model text, mask int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    columns text := (SELECT string_agg(name, ', ' ORDER BY bit) FROM parameters WHERE mask & (1 << bit) <> 0);
    plan_id bigint;
BEGIN
    EXECUTE format('INSERT INTO billing.pricing_plans (company_id, pricing_model, valid_from%s) VALUES (1601, %L, %L%s) RETURNING id',
                   CASE WHEN columns IS NULL THEN '' ELSE ', ' || columns END, model, '2020-01-01',
                   repeat(', 1.5', (SELECT count(*)::int FROM parameters WHERE mask & (1 << bit) <> 0)))
       INTO plan_id;
    -- Priced from the row, while it exists (the subtransaction undoes the insert).
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = (SELECT (billing.price(p, 90, 3)).total_cost::text FROM billing.pricing_plans p WHERE p.id = plan_id);
EXCEPTION WHEN raise_exception THEN
    RETURN SQLERRM;
WHEN check_violation OR not_null_violation THEN
    RETURN NULL;
END
$$;
CREATE FUNCTION pg_temp.accepted_by_core(model text, mask int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (billing.price(jsonb_build_object('pricing_model', model)
                          || coalesce((SELECT jsonb_object_agg(name, 1.5) FROM parameters WHERE mask & (1 << bit) <> 0), '{}'),
                          90, 3)).total_cost::text;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN NULL;
END
$$;
WITH verdicts AS (
    SELECT model, mask, pg_temp.accepted_by_table(model, mask) AS table_price, pg_temp.accepted_by_core(model, mask) AS core_price
      FROM unnest(ARRAY['per_minute', 'per_appointment', 'package', 'combined']) AS model, generate_series(0, 255) AS mask
)
SELECT model, count(*) AS plans, count(*) FILTER (WHERE table_price IS NOT NULL) AS accepted,
       count(*) FILTER (WHERE (table_price IS NULL) <> (core_price IS NULL)) AS disagreements,
       count(*) FILTER (WHERE table_price <> core_price) AS priced_differently
  FROM verdicts GROUP BY model ORDER BY model;
DELETE FROM billing.companies WHERE id = 1601;
RESET client_min_messages;
