-- usage_analytics(): the 7 x 24 heatmap, conversion, cost per lead, average and median call
-- length, read from the call profile (billing.usage_profile) that the rollup trigger keeps. Every
-- figure is checked against a computation from the raw calls (AT TIME ZONE on the instants,
-- numeric, percentile_disc), also across the night the clocks go back, after corrections,
-- a rebuild and retention.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone) VALUES (9501, 'Profile Praxis', 'Europe/Berlin'),
    (9502, 'Other Praxis', 'America/New_York');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from)
VALUES (9501, 'per_minute', 49, 500, 0.15, 2.00, '2025-01-01'), (9502, 'per_minute', 0, 0, 0.10, 0, '2025-01-01');
-- October and November 2025, Berlin: calls around the clock on some days, office hours on
-- others, lengths from 0 to about 40 minutes, a tenth missed, a few failed; 2025-10-26 has the
-- hour 02:00 twice.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 9501, 'p-' || i,
       timestamptz '2025-10-01 00:00+02' + (i * 7793 % 5270400) * interval '1 second',
       CASE WHEN i % 10 = 0 THEN 0 WHEN i % 37 = 0 THEN 2400 + i % 60 ELSE (i * 7919) % 900 END,
       CASE WHEN i % 10 = 0 THEN 'missed' WHEN i % 23 = 0 THEN 'failed' ELSE 'completed' END
  FROM generate_series(1, 3000) AS i;
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 9501, 'dst-' || i, timestamptz '2025-10-26 01:59:00+02' + i * interval '2 minutes', 60 + i, 'completed'
  FROM generate_series(1, 60) AS i;
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
SELECT 9502, 'o-' || i, timestamptz '2025-11-01 09:00-04' + i * interval '17 minutes', 120, 'completed'
  FROM generate_series(1, 200) AS i;
INSERT INTO billing.appointments (company_id, external_id, booked_at, status)
SELECT 9501, 'a-' || i, timestamptz '2025-10-01 10:00+02' + i * interval '3 hours 7 minutes',
       CASE WHEN i % 9 = 0 THEN 'cancelled' ELSE 'booked' END
  FROM generate_series(1, 400) AS i;

-- The raw figures of a range, computed independently of the extension's code.
CREATE FUNCTION pg_temp.raw_calls(company bigint, first_day date, last_day date, as_of timestamptz)
RETURNS TABLE (weekday integer, hour integer, duration integer, completed boolean)
LANGUAGE sql STABLE AS $$
    SELECT EXTRACT(isodow FROM (k.started_at AT TIME ZONE c.timezone)::date)::integer,
           EXTRACT(hour FROM k.started_at AT TIME ZONE c.timezone)::integer, k.duration_sec, k.status = 'completed'
      FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id
     WHERE k.company_id = company AND (k.started_at AT TIME ZONE c.timezone)::date BETWEEN first_day AND last_day
       AND k.started_at <= as_of
$$;
-- What the document says, and whether each part agrees with the raw calls.
CREATE FUNCTION pg_temp.check_analytics(company bigint, first_day date, last_day date, as_of timestamptz)
RETURNS TABLE (calls bigint, completed bigint, heatmap_cells_wrong bigint, heatmap_minutes_wrong bigint,
               average_right boolean, median_right boolean, median_seconds jsonb, conversion_right boolean,
               peak jsonb)
LANGUAGE sql STABLE AS $$
    WITH doc AS (SELECT billing.usage_analytics(company, first_day, last_day, as_of) AS d),
    cells AS (
        SELECT (w ->> 'weekday')::integer AS weekday, h.hour - 1 AS hour, h.calls::bigint AS calls,
               (w -> 'minutes' ->> (h.hour - 1)::integer)::numeric AS minutes
          FROM doc, pg_catalog.jsonb_array_elements(doc.d -> 'heatmap') AS w,
               LATERAL pg_catalog.jsonb_array_elements_text(w -> 'calls') WITH ORDINALITY AS h(calls, hour)),
    raw AS (SELECT r.weekday, r.hour, pg_catalog.count(*) AS calls, pg_catalog.sum(r.duration) AS seconds
              FROM pg_temp.raw_calls(company, first_day, last_day, as_of) r GROUP BY 1, 2),
    lengths AS (SELECT pg_catalog.array_agg(r.duration ORDER BY r.duration) AS sorted, pg_catalog.avg(r.duration) AS average
                  FROM pg_temp.raw_calls(company, first_day, last_day, as_of) r WHERE r.completed)
    SELECT (doc.d #>> '{calls,total}')::bigint, (doc.d #>> '{calls,completed}')::bigint,
           (SELECT pg_catalog.count(*) FROM cells c LEFT JOIN raw r USING (weekday, hour)
             WHERE c.calls IS DISTINCT FROM COALESCE(r.calls, 0)),
           (SELECT pg_catalog.count(*) FROM cells c LEFT JOIN raw r USING (weekday, hour)
             WHERE c.minutes IS DISTINCT FROM pg_catalog.round(COALESCE(r.seconds, 0) / 60.0, 2)),
           (doc.d #>> '{call_length,average_seconds}')::numeric IS NOT DISTINCT FROM pg_catalog.round(l.average, 1),
           -- The lower middle call is at least at_least long, the upper middle one below `below`,
           -- and both bounds are those of the middle calls' own buckets.
           CASE WHEN l.sorted IS NULL THEN doc.d #> '{call_length,median_seconds}' = 'null'
                ELSE (doc.d #>> '{call_length,median_seconds,at_least}')::integer
                         = (billing.call_length_range(billing.call_length_bucket(
                               l.sorted[(pg_catalog.cardinality(l.sorted) + 1) / 2]))).from_seconds
                     AND (doc.d #>> '{call_length,median_seconds,below}')::integer
                         = (billing.call_length_range(billing.call_length_bucket(
                               l.sorted[pg_catalog.cardinality(l.sorted) / 2 + 1]))).below_seconds END,
           doc.d #> '{call_length,median_seconds}',
           (doc.d ->> 'conversion_rate')::numeric IS NOT DISTINCT FROM
               pg_catalog.round(NULLIF((doc.d ->> 'appointments')::numeric, 0) /
                                NULLIF((doc.d #>> '{calls,completed}')::numeric, 0), 4)
               OR ((doc.d ->> 'appointments') = '0' AND (doc.d ->> 'conversion_rate')::numeric = 0),
           doc.d -> 'peak'
      FROM doc, lengths l
$$;

-- October (a closed-to-be period), the DST night alone, November up to a moment in its middle
-- (the rest of that day is left out), and the other company.
SELECT * FROM pg_temp.check_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00');
SELECT * FROM pg_temp.check_analytics(9501, '2025-10-26', '2025-10-26', '2026-01-01 00:00+00');
SELECT * FROM pg_temp.check_analytics(9501, '2025-11-01', '2025-11-30', '2025-11-10 12:00+01');
SELECT * FROM pg_temp.check_analytics(9502, '2025-11-01', '2025-11-30', '2026-01-01 00:00+00');
-- The repeated hour holds the calls of both 02:00s.
SELECT d -> 'heatmap' -> 6 -> 'calls' -> 2 AS sunday_0200_calls
  FROM billing.usage_analytics(9501, '2025-10-26', '2025-10-26', '2026-01-01 00:00+00') AS d;

-- Cost and cost per lead: the period's charge where the range is a billing period, NULL for a
-- part of one. The default range is the current period up to as_of's day.
SELECT d ->> 'cost' AS cost, d ->> 'cost_per_lead' AS cost_per_lead, d -> 'cost_period' AS cost_period,
       d ->> 'appointments' AS appointments, d ->> 'conversion_rate' AS conversion_rate,
       (d ->> 'cost')::numeric = (SELECT (billing.price_seconds(billing.plan_config(billing.plan_for_period(9501, '2025-10-01', '2025-10-31'))
                                          || '{"currency": "EUR"}', t.seconds, t.appointments)).total_cost
                                    FROM billing.period_totals(9501, '2025-10-01', '2025-10-31') AS t) AS cost_is_the_periods_charge,
       (d ->> 'cost_per_lead')::numeric = pg_catalog.round((d ->> 'cost')::numeric / (d ->> 'appointments')::numeric, 2) AS per_lead_right
  FROM billing.usage_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00') AS d;
SELECT d -> 'range' AS range, d ->> 'cost' AS cost, d ->> 'cost_per_lead' AS cost_per_lead
  FROM billing.usage_analytics(9501, '2025-10-02', '2025-10-31', '2026-01-01 00:00+00') AS d;
SELECT d -> 'range' AS range, (d ->> 'cost')::numeric = (billing.usage_current(9501, '2025-11-10 12:00+01') ->> 'total_cost')::numeric
           AS cost_is_the_current_card
  FROM billing.usage_analytics(9501, NULL, NULL, '2025-11-10 12:00+01') AS d;
SELECT d -> 'range' AS from_alone FROM billing.usage_analytics(9501, '2025-11-05', NULL, '2025-11-10 12:00+01') AS d;
SELECT d -> 'range' AS to_alone FROM billing.usage_analytics(9501, NULL, '2025-10-20', '2025-11-10 12:00+01') AS d;
-- A range without calls: zeros, no conversion, no median, no peak.
SELECT d -> 'calls' AS calls, d -> 'conversion_rate' AS conversion, d -> 'call_length' AS call_length, d -> 'peak' AS peak
  FROM billing.usage_analytics(9501, '2024-03-01', '2024-03-31', '2026-01-01 00:00+00') AS d;

-- Corrections: updates of length, status and start (across days and hours), deletes; the
-- profile follows every one.
UPDATE billing.calls SET duration_sec = duration_sec + 61 WHERE company_id = 9501 AND external_id LIKE 'p-1%';
UPDATE billing.calls SET status = 'failed' WHERE company_id = 9501 AND external_id LIKE 'p-2%';
UPDATE billing.calls SET started_at = started_at + interval '13 hours' WHERE company_id = 9501 AND external_id LIKE 'p-3%';
DELETE FROM billing.calls WHERE company_id = 9501 AND external_id LIKE 'p-4%';
SELECT pg_catalog.count(*) AS profile_differences FROM billing.verify_usage_profile();
SELECT * FROM pg_temp.check_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00');
CREATE TEMP TABLE before_rebuild AS
SELECT billing.usage_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00') AS d;
SELECT billing.rebuild_usage_daily(9501) > 0 AS rebuilt;
SELECT d = (SELECT b.d FROM before_rebuild b) AS same_after_rebuild
  FROM billing.usage_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00') AS d;

-- Retention: October closed and its raw calls archived; its analytics stay, and so after a
-- rebuild (from the archived profile).
SELECT billing.ensure_periods('2025-11-02 12:00+00') >= 0 AS periods;
SELECT pg_catalog.count(billing.close_period(p.id, '2025-11-02 12:00+00')) AS closing
  FROM billing.billing_periods p WHERE p.company_id = 9501 AND p.start_date = '2025-10-01';
SELECT p.status FROM billing.billing_periods p WHERE p.company_id = 9501 AND p.start_date = '2025-10-01';
SELECT c.calls > 0 AS archived FROM billing.archive_calls('2025-11-01') AS c WHERE c.company_id = 9501;
SELECT pg_catalog.count(*) AS october_raw_calls FROM billing.calls
 WHERE company_id = 9501 AND started_at < '2025-11-01 00:00+01';
SELECT d = (SELECT b.d FROM before_rebuild b) AS same_after_archive
  FROM billing.usage_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00') AS d;
SELECT pg_catalog.count(*) AS profile_differences FROM billing.verify_usage_profile(9501);
SELECT billing.rebuild_usage_daily(9501) > 0 AS rebuilt;
SELECT d = (SELECT b.d FROM before_rebuild b) AS same_after_archive_and_rebuild
  FROM billing.usage_analytics(9501, '2025-10-01', '2025-10-31', '2026-01-01 00:00+00') AS d;

-- The buckets and the counts arrays.
SELECT pg_catalog.count(*) AS buckets, pg_catalog.min(from_seconds) AS shortest, pg_catalog.max(below_seconds) AS longest,
       pg_catalog.bool_and(from_seconds < below_seconds) AS ordered
  FROM billing.call_length_buckets();
SELECT b.bucket FROM billing.call_length_buckets() b JOIN billing.call_length_buckets() n ON n.bucket = b.bucket + 1
 WHERE n.from_seconds <> b.below_seconds;
SELECT billing.add_at(NULL, 3, 1, 5) AS add_at, billing.add_arrays('{1,2,3}'::bigint[], '{10,20,30}') AS add_arrays,
       billing.add_arrays('{1,2}'::integer[], '{10,20}') AS add_integers,
       billing.add_arrays(NULL, '{1}'::bigint[]) AS null_first, billing.add_arrays('{1}'::integer[], NULL) AS null_second, billing.add_at('{1,1}', 2, NULL, 7) AS null_position,
       (SELECT billing.sum_at(4, p, 1) FROM pg_catalog.unnest('{0,3,3,1}'::int[]) AS p) AS sum_at,
       (SELECT billing.sum_arrays(a) FROM (VALUES ('{1,2}'::bigint[]), ('{3,4}'), (NULL)) AS v(a)) AS sum_arrays;
SELECT * FROM billing.median_call_length(billing.add_at(NULL, 83, NULL, NULL));
SELECT billing.add_at('{1,2}', 3, 0, 1);
SELECT billing.add_at(NULL, 3, 3, 1);
SELECT billing.add_at(NULL, 0, 0, 1);
SELECT billing.add_at(NULL, NULL, 0, 1);
SELECT billing.add_arrays('{1,2}'::bigint[], '{1}');
SELECT billing.add_arrays('{1,NULL}'::bigint[], '{1,2}');
SELECT billing.add_arrays('{{1,2},{3,4}}'::bigint[], '{{1,2},{3,4}}');
SELECT billing.add_arrays('{9223372036854775807}'::bigint[], '{1}');
SELECT billing.add_arrays('{1,2}'::integer[], '{1}');
SELECT billing.add_arrays('{1,NULL}'::integer[], '{1,2}');
SELECT billing.add_arrays('[0:1]={1,2}'::integer[], '{1,2}');
SELECT billing.add_arrays('{2147483647}'::integer[], '{1}');
SELECT billing.add_arrays('{1,2}', '{1,2}');
SELECT billing.call_length_bucket(-1);
SELECT billing.call_length_bucket(604801);
SELECT billing.call_length_range(83);
SELECT billing.median_call_length('{1,2,3}');

-- Bad input and scope.
SELECT billing.usage_analytics(9501, '2025-10-31', '2025-10-01', '2026-01-01 00:00+00');
SELECT billing.usage_analytics(9501, '2024-01-01', '2025-01-01', '2026-01-01 00:00+00');
SELECT billing.usage_analytics(9501, '-infinity', '2025-01-01', '2026-01-01 00:00+00');
SELECT billing.usage_analytics(9501, '2025-01-01', 'infinity', '2026-01-01 00:00+00');
SELECT billing.usage_analytics(9501, NULL, NULL, 'infinity');
SELECT billing.usage_analytics(9501, NULL, NULL, NULL);
SELECT billing.usage_analytics(999999, NULL, NULL, '2026-01-01 00:00+00');
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_analytics_viewer') THEN
  CREATE ROLE regress_analytics_viewer LOGIN IN ROLE billing_viewer; END IF; END $$;
SELECT billing.grant_company_access('regress_analytics_viewer', 9502);
SET ROLE regress_analytics_viewer;
SELECT d #>> '{calls,total}' AS own_calls FROM billing.usage_analytics(NULL, '2025-11-01', '2025-11-30', '2026-01-01 00:00+00') AS d;
SELECT billing.usage_analytics(9501, '2025-11-01', '2025-11-30', '2026-01-01 00:00+00');
SELECT pg_catalog.count(DISTINCT company_id) AS profile_companies_seen FROM billing.usage_profile;
SELECT pg_catalog.count(*) FROM billing.verify_usage_profile();
RESET ROLE;
SELECT billing.revoke_company_access('regress_analytics_viewer', 9502);
DROP ROLE regress_analytics_viewer;
