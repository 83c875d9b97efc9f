-- Company 1 (time zone Europe/Vienna, created by the caller) with :big_calls calls in its
-- current period, 93% completed, 30 to 430 s long, started at random instants between the
-- period's first local midnight and now; inserted in statements of 100,000 calls.
-- psql -v big_calls=N -f bench/big_company.sql (or \i it with big_calls set).
SELECT pg_catalog.format($sql$
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 1, 'big-' || n, now() - random() * (now() - (date_trunc('month', now() AT TIME ZONE 'Europe/Vienna') AT TIME ZONE 'Europe/Vienna')),
       (30 + random() * 400)::int, CASE WHEN random() < 0.93 THEN 'completed' ELSE 'missed' END
  FROM generate_series(%s, %s) AS n$sql$, b * 100000 + 1, least((b + 1) * 100000, :big_calls))
  FROM generate_series(0, (:big_calls - 1) / 100000) AS b \gexec
