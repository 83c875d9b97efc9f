-- The dashboard figures of every demo company, as of now.
\set ON_ERROR_STOP on
\pset footer off

\echo
\echo '== Current period (billing.usage_current) and month-end projection (billing.usage_projection)'
SELECT c.id, c.name,
       u #>> '{pricing_model}' AS model,
       (u #>> '{period,start}') || ' .. ' || (u #>> '{period,end}') AS period,
       (u #>> '{calls,total}')::int AS calls,
       (u #>> '{calls,total_minutes}')::numeric AS minutes,
       (u #>> '{appointments,total}')::int AS appts,
       coalesce((u #>> '{usage_percentage}') || ' %', '-') AS "included used",
       (u #>> '{total_cost}') || ' ' || c.currency AS "cost so far",
       (p #>> '{projected,costs,total_cost}') || ' ' || c.currency AS "projected"
  FROM billing.companies c,
       LATERAL billing.usage_current(c.id) AS u,
       LATERAL billing.usage_projection(c.id) AS p
 ORDER BY c.id;

\echo
\echo '== The full document for company 1: SELECT billing.usage_projection(1);'
SELECT jsonb_pretty(billing.usage_projection(1)) AS usage_projection;

\echo
\echo '== The pure evaluator: SELECT * FROM billing.price(''{"pricing_model":"package",...}'', 1200.5, 61);'
SELECT * FROM billing.price('{"pricing_model":"package","base_fee":99.00,"package_minutes":1000,"package_appointments":50,"overage_per_minute":0.12,"overage_per_appointment":3.00}', 1200.5, 61);
