#!/usr/bin/env bash
# The README's month-end schedule under pg_cron (Debian postgresql-15-cron): a cluster of its
# own with pg_cron and company_billing preloaded, a company whose last three months ended, the
# job scheduled every minute; within two minutes pg_cron has run it, every ended period is
# closed with its invoice, and the current one is still open.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
CLUSTER_PORT=54331 start_cluster cron -c shared_preload_libraries=pg_cron,company_billing \
  -c cron.database_name=cron_month_end -c billing.database=cron_month_end \
  -c cron.use_background_workers=on -c max_worker_processes=16
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
createdb cron_month_end
psql -d cron_month_end <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION company_billing CASCADE;
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Cron Praxis', 'UTC'), (2, 'Plan ended', 'UTC');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from, valid_until)
VALUES (1, 'per_minute', 49.00, 100, 0.15, 2.00, date_trunc('month', now() - interval '3 months')::date, NULL),
       (2, 'per_minute', 19.00, 10, 0.20, 1.00, date_trunc('month', now() - interval '3 months')::date,
        (date_trunc('month', now() - interval '1 month') - interval '1 day')::date);
SELECT count(*) FROM (SELECT billing.record_call(c, 'call-' || i, now() - i * interval '17 hours', 300, 'completed')
                        FROM generate_series(1, 120) AS i, (VALUES (1), (2)) AS v(c)) AS recorded;
-- The schedule of the README (daily at 03:15 there; every minute here, so the test is short).
SELECT cron.schedule('company-billing-month-end', '* * * * *',
                     $$SELECT status, count(*) FROM billing.close_ended_periods() GROUP BY status$$);
SQL
for _ in $(seq 1 130); do
  done_runs=$(psql -d cron_month_end -At -c "SELECT count(*) FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')")
  [ "$done_runs" -gt 0 ] && break
  sleep 1
done
psql -d cron_month_end -c "SELECT status, return_message FROM cron.job_run_details ORDER BY runid"
result=$(psql -d cron_month_end -At <<'SQL'
SELECT (SELECT count(*) FROM cron.job_run_details WHERE status = 'succeeded') > 0
   AND (SELECT count(*) FROM billing.invoices WHERE company_id = 1) = 3
   AND (SELECT count(*) FROM billing.invoices WHERE company_id = 2) = 2
   AND (SELECT count(*) FROM billing.billing_periods WHERE company_id = 1 AND status = 'open') = 1
   AND (SELECT count(*) FROM billing.billing_periods WHERE company_id = 2) = 2;
SQL
)
psql -d cron_month_end -c "SELECT company_id, start_date, status, closed_at IS NOT NULL AS closed FROM billing.billing_periods ORDER BY 1, 2"
if [ "$result" = "t" ]; then
  echo "pg_cron ran billing.close_ended_periods(): 3 + 2 ended periods invoiced, the current one open"
else
  echo "pg_cron month end did not do its work"; exit 1
fi
