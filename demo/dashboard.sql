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

\echo
\echo '== Six months of trends for company 1: SELECT * FROM billing.usage_trends(1, 6);'
SELECT month, calls, minutes, appointments, cost, currency FROM billing.usage_trends(1, 6);

\echo
\echo '== Upcoming charges: SELECT * FROM billing.upcoming_charges(c.id);'
SELECT c.name, u.* FROM billing.companies c, LATERAL billing.upcoming_charges(c.id) AS u ORDER BY c.id;

\echo
\echo '== Billing history of company 3: SELECT * FROM billing.billing_history(3);'
SELECT number, period_start, period_end, total, currency, status, pdf_url FROM billing.billing_history(3);

\echo
\echo '== The last closed period of company 1, with its invoice lines: billing.period_detail(id)'
SELECT l ->> 'line_number' AS line, l ->> 'description' AS description, l ->> 'quantity' AS quantity,
       l ->> 'unit_price' AS unit_price, l ->> 'amount' AS amount
  FROM billing.period_detail((SELECT max(id) FROM billing.billing_periods WHERE company_id = 1 AND status = 'closed')) AS d,
       jsonb_array_elements(d -> 'charges') AS l;

\echo
\echo '== CSV export of that period (first lines): SELECT billing.period_csv(id);'
SELECT line FROM billing.period_csv_lines((SELECT max(id) FROM billing.billing_periods WHERE company_id = 1 AND status = 'closed')) AS line LIMIT 6;

\echo
\echo '== Payment methods of company 1: SELECT * FROM billing.company_payment_methods(1);'
SELECT brand, last4, expiry, is_default, expired FROM billing.company_payment_methods(1);

\echo
\echo '== Month-end forecast of company 1 (weekday seasonality, 80% interval): SELECT billing.usage_forecast(1);'
SELECT f->>'method' AS method, f#>>'{minutes,forecast}' AS minutes, f#>>'{minutes,low}' AS low, f#>>'{minutes,high}' AS high,
       f#>>'{total_cost,forecast}' AS total_cost, f#>>'{total_cost,linear}' AS linear_total, f->>'included_minutes_run_out' AS run_out
  FROM billing.usage_forecast(1) AS f;

\echo
\echo '== Plan comparison of company 1 (last 3 closed periods and the current one projected): SELECT * FROM billing.compare_plans(1, 3);'
SELECT name, pricing_model, is_current, periods_priced, total, saving FROM billing.compare_plans(1, 3);

\echo
\echo '== Analytics of company 3 in its last closed period: SELECT billing.usage_analytics(3, start_date, end_date);'
SELECT p.start_date, p.end_date, a #>> '{calls,total}' AS calls, a ->> 'conversion_rate' AS conversion_rate,
       a ->> 'cost_per_lead' AS cost_per_lead, a #>> '{call_length,average_seconds}' AS average_seconds,
       a #> '{call_length,median_seconds}' AS median_seconds, a -> 'peak' AS busiest_hour
  FROM (SELECT start_date, end_date FROM billing.billing_periods
         WHERE company_id = 3 AND status = 'closed' ORDER BY start_date DESC LIMIT 1) AS p,
       billing.usage_analytics(3, p.start_date, p.end_date) AS a;

\echo
\echo '== Alerts: a monthly budget of 150.00 and a spend cap of 200.00 for company 1, checked at once'
INSERT INTO billing.alert_settings (company_id, monthly_budget, cap_amount) VALUES (1, 150.00, 200.00);
SELECT period_start, kind, threshold, state, value, times_fired FROM billing.company_alerts(1, 8);
\echo '== Its budget card: SELECT billing.budget_status(1);'
SELECT b ->> 'monthly_budget' AS budget, b ->> 'total_cost' AS so_far, b ->> 'used_percent' AS used_percent,
       b ->> 'projected_total' AS projected, b ->> 'budget_run_out' AS runs_out FROM billing.budget_status(1) AS b;
\echo '== Before answering a 15-minute call: SELECT * FROM billing.can_consume(1, 15);'
SELECT * FROM billing.can_consume(1, 15);

\echo
\echo '== Troubleshooting: SELECT * FROM billing.diagnose(1);'
SELECT * FROM billing.diagnose(1);
