-- billing.price(): the four pricing models, exact and rounded per line.

-- The original specification's four plans, as applications send them (an untyped literal).
SELECT * FROM billing.price('{"pricing_model":"per_minute","base_fee":49.00,"included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":2.00}', 687.5, 87);
SELECT * FROM billing.price('{"pricing_model":"per_appointment","base_fee":0,"per_appointment_rate":5.00}', 687.5, 87);
SELECT * FROM billing.price('{"pricing_model":"package","base_fee":99.00,"package_minutes":1000,"package_appointments":50,"overage_per_minute":0.12,"overage_per_appointment":3.00}', 1200.5, 61);
SELECT * FROM billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00}', 687.5, 87);

-- Typed jsonb and text work the same.
SELECT (billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00}'::jsonb, 687.5, 87)).total_cost;
SELECT (billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00}'::text, 687.5, 87)).total_cost;

-- A pricing_plans row.
SELECT (billing.price(ROW(1, 1, 'per_minute', 49.00, 500, 0.15, NULL, 2.00, NULL, NULL, NULL,
                          '2025-01-01', NULL, now())::billing.pricing_plans, 687.5, 87)).*;

-- Half away from zero, per line: 0.05 min * 0.10 = 0.005 -> 0.01; 1 * 0.005 -> 0.01.
SELECT minutes_cost, appointments_cost, total_cost
  FROM billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":0.005}', 0.05, 1);
-- Zero usage costs the base fee only; numeric strings and null parameters are accepted.
SELECT total_cost FROM billing.price('{"pricing_model":"per_minute","base_fee":"49.00","included_minutes":500,"overage_per_minute":0.15,"per_appointment_rate":null}', 0, 0);
-- Very large usage stays exact.
SELECT minutes_cost, appointments_cost, total_cost
  FROM billing.price('{"pricing_model":"combined","per_minute_rate":0.15,"per_appointment_rate":2.00}',
                     123456789012345678901234567890.5, 1000000000000);
-- Currencies round to their own minor unit.
SELECT currency, minutes_cost, total_cost
  FROM billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2,"currency":"JPY"}', 12.5, 0);
SELECT currency, minutes_cost, total_cost
  FROM billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2,"currency":"KWD"}', 12.55, 0);
-- One currency of each ISO 4217 exponent: XPF and JPY 0, EUR 2, KWD 3, CLF 4 (12.3456 minutes
-- at 0.10), against numeric's own rounding; codes ISO 4217 does not list are refused (22023).
SELECT code, billing.currency_minor_unit(code) AS minor_unit, (c).minutes_cost,
       (c).minutes_cost = round(12.3456 * 0.10, billing.currency_minor_unit(code)) AS rounds_like_numeric
  FROM unnest(ARRAY['XPF', 'JPY', 'EUR', 'KWD', 'CLF', 'UYW']) AS code,
       LATERAL billing.price(jsonb_build_object('pricing_model', 'combined', 'per_minute_rate', 0.10,
                                                'per_appointment_rate', 2, 'currency', code), 12.3456, 0) AS c;
SELECT code, regress.error_of(format($$SELECT billing.currency_minor_unit(%L)$$, code)) AS minor_unit,
       regress.error_of(format($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"currency":%s}', 1, 1)$$,
                               to_jsonb(code))) AS price
  FROM unnest(ARRAY['HRK', 'ANG', 'XAU', 'XTS', 'XXX', 'ABC', 'eur']) AS code;
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, currency) VALUES (9901, 'Zagreb', 'HRK')$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, currency) VALUES (9902, 'Papeete', 'XPF')$$);
SELECT billing.currency_minor_unit(currency) FROM billing.companies WHERE id = 9902;
DELETE FROM billing.companies WHERE id = 9902;

-- STRICT: a NULL argument gives a NULL charge, like any pure SQL function.
SELECT billing.price(NULL::jsonb, 1, 1) IS NULL AS null_config,
       billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', NULL, 1) IS NULL AS null_minutes;

-- IMMUTABLE and usable in indexes and materialized views.
SELECT provolatile, proparallel FROM pg_proc WHERE oid = 'billing.price(jsonb, numeric, numeric)'::regprocedure;

-- Bad input: an error with a SQLSTATE that names the field.
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"per_minute","base_fee":49,"overage_per_minute":0.15}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"package","base_fee":99}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"flat","fee":1}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"base_fee":1}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":-0.1,"per_appointment_rate":2}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":"abc","per_appointment_rate":2}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"base_fee":1}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"overage":1}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":[1],"per_appointment_rate":2}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":1e5000,"per_appointment_rate":2}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2,"currency":"euro"}', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('[1,2,3]', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":', 1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', -1, 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 1, -0.5)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 'NaN', 1)$$);
SELECT regress.error_of($$SELECT billing.price('{"pricing_model":"combined","per_minute_rate":0.1,"per_appointment_rate":2}', 'Infinity', 1)$$);
