#!/usr/bin/env bash
# The month-end forecast's backtest (bench/forecast_backtest.py) on a throwaway cluster: the
# demo companies, and 40 synthetic companies with eight months of calls whose daily volume has a
# weekly rhythm (Sundays closed, Mondays busiest), a trend of up to 3% a week up or down, and
# noise (a day's volume times exp of a normal with sigma 0.3).
#   bash bench/forecast_backtest.sh [--check]    --check: exit 1 when a target is missed
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_packages
build_and_install
CLUSTER_PORT=54338 start_cluster forecast_backtest
createdb backtest
export PGDATABASE=backtest
psql -X -q -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -X -q -f demo/demo_data.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT setseed(0.11);
INSERT INTO billing.companies (id, name, timezone)
SELECT 1000 + i, 'Synthetic ' || i, 'UTC' FROM generate_series(1, 40) AS i;
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
SELECT 1000 + i, 'per_minute', 49, 400, 0.15, 2, date_trunc('month', now() - interval '8 months')::date
  FROM generate_series(1, 40) AS i;
-- Per company: a base of 8 to 30 calls a weekday, a weekly trend in [-3%, +3%]; per day the
-- weekday's factor (Mon 1.3 ... Sat 0.5, Sun 0) and noise.
CREATE TEMP TABLE synthetic AS
SELECT c.id AS company, 8 + random() * 22 AS base, (random() * 0.06 - 0.03) AS weekly_trend FROM billing.companies c WHERE c.id >= 1000;
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT s.company, 's-' || d.day || '-' || n, d.day + interval '8 hours' + random() * interval '9 hours',
       (60 + random() * 300)::int, 'completed'
  FROM synthetic s
 CROSS JOIN (SELECT g::date AS day FROM generate_series(date_trunc('month', now() - interval '8 months')::date,
                                                      (now() - interval '1 day')::date, interval '1 day') AS g) AS d
 CROSS JOIN LATERAL (SELECT round(s.base * (ARRAY[1.3, 1.2, 1.1, 1.0, 0.9, 0.5, 0])[EXTRACT(isodow FROM d.day)::int]
                                  * power(1 + s.weekly_trend, (d.day - date_trunc('month', now() - interval '8 months')::date) / 7.0)
                                  * exp(0.3 * sqrt(-2 * ln(greatest(random(), 1e-12))) * cos(2 * pi() * random())))::int AS calls) AS v
 CROSS JOIN LATERAL generate_series(1, v.calls) AS n;
SELECT billing.ensure_periods() AS periods;
SQL
/usr/bin/python3 bench/forecast_backtest.py "$@"
