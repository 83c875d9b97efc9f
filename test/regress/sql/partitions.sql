-- The monthly partitions of calls and appointments: idempotent ingestion across months, the
-- partitions' security, rows moving between partitions, and retention that drops whole months
-- without changing a figure or letting an archived call be billed again.
SET client_min_messages = warning;
-- UTC+14 and UTC-8: their local months straddle the UTC months of the partitions.
INSERT INTO billing.companies (id, name, timezone) VALUES
    (7101, 'Partition Kiritimati', 'Pacific/Kiritimati'), (7102, 'Partition Los Angeles', 'America/Los_Angeles');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from) VALUES
    (7101, 'per_minute', 30.00, 10, 0.25, 1.50, '2021-11-01'), (7102, 'per_minute', 10.00, 5, 0.10, 0.00, '2021-11-01');
-- Partitions for the months around 2022-01-15; everything else goes to the default partition.
SELECT billing.ensure_periods('2022-01-15 12:00+00') > 0 AS periods_created;
SELECT partition, month FROM billing._raw_partitions('calls') WHERE month BETWEEN '2021-12-01' AND '2022-03-01';

-- One call per (company, external_id), whatever month each attempt carries.
SELECT billing.record_call(7101, 'dup-1', '2022-01-31 23:30+00', 60, 'completed') AS first_attempt,
       billing.record_call(7101, 'dup-1', '2022-02-01 00:30+00', 600, 'completed') AS february_attempt,
       billing.record_call(7101, 'dup-1', '2039-07-01 00:00+00', 6, 'missed') AS default_partition_attempt;
SELECT billing.record_calls(7101, ARRAY['dup-1', 'dup-2', 'dup-2'], ARRAY['2022-03-05 10:00+00', '2022-01-20 10:00+00',
                                                                        '2022-02-20 10:00+00']::timestamptz[],
                            ARRAY[1, 2, 3]) AS new_in_batch;
SELECT tableoid::regclass AS partition, external_id, started_at, duration_sec FROM billing.calls
 WHERE company_id = 7101 AND external_id LIKE 'dup-%' ORDER BY external_id;
-- Written directly, a key stored before is a unique violation, as on one table.
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
                          VALUES (7101, 'dup-1', '2022-02-10 10:00+00', 10, 'completed')$$);
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
                          VALUES (7101, 'dup-3', '2022-01-10 10:00+00', 10, 'completed'),
                                 (7101, 'dup-3', '2022-02-10 10:00+00', 10, 'completed')$$);
SELECT count(*) AS dup_3_rows FROM billing.calls WHERE company_id = 7101 AND external_id = 'dup-3';
-- An explicit id that another call has is refused too.
SELECT regress.error_of(format($$INSERT INTO billing.calls (id, company_id, external_id, started_at, duration_sec, status)
                                 VALUES (%s, 7101, 'dup-4', '2022-02-10 10:00+00', 10, 'completed')$$,
                               (SELECT id FROM billing.calls WHERE external_id = 'dup-1')));
-- What the foreign keys of one table checked: the company exists, and a company with calls
-- stays.
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
                          VALUES (7101, 'fk-1', '2022-01-10 10:00+00', 10, 'completed'),
                                 (7199, 'fk-2', '2022-01-10 10:00+00', 10, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(7199, 'fk-3', '2022-01-10 10:00+00', 10, 'completed')$$),
       regress.error_of($$SELECT billing.record_calls(7199, ARRAY['fk-4'], ARRAY['2022-01-10 10:00+00']::timestamptz[], ARRAY[1])$$);
SELECT regress.error_of($$INSERT INTO billing.appointments (company_id, external_id, booked_at) VALUES (7199, 'fk-5', now())$$);
SELECT regress.error_of('DELETE FROM billing.companies WHERE id = 7101');
SELECT regress.error_of('UPDATE billing.companies SET id = 7198 WHERE id = 7101');
-- The same for appointments.
SELECT billing.record_appointment(7101, 'apt-1', '2022-01-31 23:00+00', 'booked', 'dup-1') AS first_attempt,
       billing.record_appointment(7101, 'apt-1', '2022-03-01 10:00+00') AS march_attempt;
SELECT regress.error_of($$INSERT INTO billing.appointments (company_id, external_id, booked_at)
                          VALUES (7101, 'apt-1', '2022-02-10 10:00+00')$$);

-- Keys follow updates and deletes.
UPDATE billing.calls SET started_at = '2022-02-15 10:00+00' WHERE company_id = 7101 AND external_id = 'dup-2';
SELECT tableoid::regclass AS partition FROM billing.calls WHERE company_id = 7101 AND external_id = 'dup-2';
SELECT billing.record_call(7101, 'dup-2', '2022-01-20 10:00+00', 2, 'completed') AS moved_call_is_new;
UPDATE billing.calls SET external_id = 'dup-2-renamed' WHERE company_id = 7101 AND external_id = 'dup-2';
SELECT billing.record_call(7101, 'dup-2', '2022-01-20 10:00+00', 2, 'completed') AS old_name_is_new,
       billing.record_call(7101, 'dup-2-renamed', '2022-01-20 10:00+00', 2, 'completed') AS new_name_is_new;
DELETE FROM billing.calls WHERE company_id = 7101 AND external_id = 'dup-2';
SELECT billing.record_call(7101, 'dup-2', '2022-01-21 10:00+00', 2, 'completed') AS deleted_call_is_new;
-- An appointment's call, deleted, is no longer its call.
DELETE FROM billing.calls WHERE company_id = 7101 AND external_id = 'dup-1';
SELECT call_id IS NULL AS call_unlinked FROM billing.appointments WHERE company_id = 7101 AND external_id = 'apt-1';
SELECT NOT EXISTS (SELECT FROM billing.call_keys k WHERE k.company_id = 7101 AND NOT EXISTS (
                       SELECT FROM billing.calls c WHERE (c.company_id, c.external_id, c.id) = (k.company_id, k.external_id, k.call_id)))
       AND (SELECT count(*) FROM billing.call_keys WHERE company_id = 7101)
           = (SELECT count(*) FROM billing.calls WHERE company_id = 7101) AS keys_equal_calls;

-- Rows of months without a partition wait in the default partition; ensure_periods() moves
-- them into their month, the same rows, with the same rollup.
SELECT count(*) FILTER (WHERE billing.record_call(7102, 'late-' || i, timestamptz '2021-12-25 00:00+00' + i * interval '9 hours',
                                                 60 + i, CASE WHEN i % 5 = 0 THEN 'missed' ELSE 'completed' END))
       AS calls_stored
  FROM generate_series(0, 240) AS i;
SELECT tableoid::regclass::text AS partition, count(*) FROM billing.calls WHERE company_id = 7102 GROUP BY 1 ORDER BY 1;
CREATE TEMP TABLE ids_before AS SELECT id, company_id, external_id, started_at FROM billing.calls;
SELECT billing.ensure_periods('2022-04-20 12:00+00') >= 0 AS ensured;
SELECT tableoid::regclass::text AS partition, count(*) FROM billing.calls WHERE company_id = 7102 GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM billing.calls_default) AS default_rows,
       NOT EXISTS (SELECT id, company_id, external_id, started_at FROM billing.calls
                   EXCEPT SELECT * FROM ids_before) AS same_rows,
       NOT EXISTS (SELECT FROM billing.verify_usage_daily()) AND NOT EXISTS (SELECT FROM billing.verify_usage_profile())
           AS rollup_exact;

-- Every partition: the parent's row level security and policies, no grants.
SELECT count(*) > 6 AS partitions,
       bool_and(c.relrowsecurity AND c.relforcerowsecurity) AS rls_forced,
       bool_and(c.relacl IS NULL OR NOT EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)) AS no_grants,
       bool_and(c.relowner = p.relowner) AS parent_owner,
       bool_and((SELECT array_agg(polname || polcmd::text || polroles::text || coalesce(pg_get_expr(polqual, polrelid), '')
                                  || coalesce(pg_get_expr(polwithcheck, polrelid), '') ORDER BY polname)
                   FROM pg_policy WHERE polrelid = c.oid)
                IS NOT DISTINCT FROM
                (SELECT array_agg(polname || polcmd::text || polroles::text || coalesce(pg_get_expr(polqual, polrelid), '')
                                  || coalesce(pg_get_expr(polwithcheck, polrelid), '') ORDER BY polname)
                   FROM pg_policy WHERE polrelid = p.oid)) AS parent_policies
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
 WHERE p.oid IN ('billing.calls'::regclass, 'billing.appointments'::regclass);
-- A viewer of 7101 reads its own calls through the parent and no partition at all; nor may
-- an administrator or the application read or write one directly.
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_partition_viewer') THEN
    CREATE ROLE regress_partition_viewer LOGIN IN ROLE billing_viewer;
  END IF;
END $$;
SELECT billing.grant_company_access('regress_partition_viewer', 7101) IS NULL AS granted;
GRANT USAGE ON SCHEMA regress TO regress_partition_viewer, billing_admin, billing_app;
SET ROLE regress_partition_viewer;
SELECT pg_catalog.count(DISTINCT company_id) AS companies_seen, pg_catalog.count(*) > 0 AS calls_seen FROM billing.calls;
SELECT regress.error_of('SELECT count(*) FROM billing.calls_2022_01');
SELECT regress.error_of('SELECT count(*) FROM billing.calls_default');
SELECT regress.error_of('SELECT count(*) FROM billing.call_keys');
RESET ROLE;
SET ROLE billing_admin;
SELECT regress.error_of('SELECT count(*) FROM billing.calls_2022_01');
SELECT regress.error_of($$INSERT INTO billing.calls_2022_01 (company_id, external_id, started_at, duration_sec, status)
                          VALUES (7101, 'direct', '2022-01-10 10:00+00', 10, 'completed')$$);
RESET ROLE;
SET ROLE billing_app;
SELECT regress.error_of('SELECT count(*) FROM billing.appointments_default');
RESET ROLE;

-- Retention. 7101 calls every 7 hours from 20 December to 20 March; periods up to March are
-- closed, and a late call lands in 7102's closed February (the next invoice adjusts it). The
-- figures are taken before archiving.
SELECT count(*) FILTER (WHERE billing.record_call(7101, 'k-' || i, timestamptz '2021-12-20 00:00+00' + i * interval '7 hours',
                                                 30 + i % 400, 'completed')) AS calls_stored
  FROM generate_series(0, 305) AS i;
SELECT count(*) AS closed FROM billing.close_ended_periods('2022-04-20 12:00+00') WHERE company_id IN (7101, 7102);
SELECT billing.record_call(7102, 'late-february', '2022-02-10 10:00+00', 600, 'completed') AS late_call;
CREATE TEMP TABLE partition_figures_before AS
SELECT c.id AS company, 'trends' AS what,
       (SELECT jsonb_agg(t)::text FROM billing.usage_trends(c.id, 8, '2022-04-20 12:00+00') t) AS figures
  FROM billing.companies c WHERE c.id IN (7101, 7102)
UNION ALL
SELECT c.id, 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(c.id) h) FROM billing.companies c WHERE c.id IN (7101, 7102)
UNION ALL
SELECT p.company_id, 'period ' || p.start_date, billing.period_detail(p.id)::text
  FROM billing.billing_periods p WHERE p.company_id IN (7101, 7102)
UNION ALL
SELECT c.id, 'current', billing.usage_projection(c.id, '2022-04-20 12:00+00')::text FROM billing.companies c WHERE c.id IN (7101, 7102)
UNION ALL
SELECT u.company_id, 'period_usage ' || u.start_date, u::text FROM billing.period_usage u WHERE u.company_id IN (7101, 7102);
-- Archiving before March: December, January and February are closed. 7101 lives at UTC+14,
-- so its local March began on 28 February, 10:00 UTC, in the UTC February partition; 7102 at
-- UTC-8, so its local February ended on 1 March, 08:00 UTC, in the UTC March partition. The
-- UTC months of December and January go whole; the February and March rows of closed periods
-- one by one.
SELECT company_id, calls, appointments FROM billing.archive_calls('2022-03-01') WHERE company_id IN (7101, 7102) ORDER BY 1;
SELECT m.month::date, to_regclass('billing.calls_' || to_char(m.month, 'YYYY_MM')) IS NOT NULL AS calls_partition_kept,
       to_regclass('billing.appointments_' || to_char(m.month, 'YYYY_MM')) IS NOT NULL AS appointments_partition_kept
  FROM generate_series(date '2021-12-01', date '2022-04-01', interval '1 month') AS m(month) ORDER BY 1;
SELECT k.company_id, min((k.started_at AT TIME ZONE c.timezone)::date) AS first_local_day_left, count(*) AS calls_left
  FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id
 WHERE k.company_id IN (7101, 7102) GROUP BY 1 ORDER BY 1;
-- Every figure, trend, history row, period page and report row as before.
SELECT b.company, b.what, b.figures = a.figures AS unchanged
  FROM partition_figures_before b LEFT JOIN (
      SELECT c.id AS company, 'trends' AS what,
             (SELECT jsonb_agg(t)::text FROM billing.usage_trends(c.id, 8, '2022-04-20 12:00+00') t) AS figures
        FROM billing.companies c WHERE c.id IN (7101, 7102)
      UNION ALL
      SELECT c.id, 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(c.id) h) FROM billing.companies c WHERE c.id IN (7101, 7102)
      UNION ALL
      SELECT p.company_id, 'period ' || p.start_date, billing.period_detail(p.id)::text
        FROM billing.billing_periods p WHERE p.company_id IN (7101, 7102)
      UNION ALL
      SELECT c.id, 'current', billing.usage_projection(c.id, '2022-04-20 12:00+00')::text FROM billing.companies c WHERE c.id IN (7101, 7102)
      UNION ALL
      SELECT u.company_id, 'period_usage ' || u.start_date, u::text FROM billing.period_usage u WHERE u.company_id IN (7101, 7102)
  ) AS a USING (company, what)
 WHERE b.figures IS DISTINCT FROM a.figures OR b.what IN ('history', 'current')
 ORDER BY 1, 2;
SELECT NOT EXISTS (SELECT FROM billing.verify_usage_daily()) AND NOT EXISTS (SELECT FROM billing.verify_usage_profile())
       AS rollup_verifies_after_archive;
-- An archived call sent again is not new (it would be billed twice), nor is an archived
-- appointment; a new appointment may still name an archived call.
SELECT billing.record_call(7102, 'late-3', '2021-12-26 03:00+00', 63, 'completed') AS archived_call_is_new,
       billing.record_calls(7102, ARRAY['late-4', 'late-5'], ARRAY['2021-12-26 12:00+00', '2021-12-26 21:00+00']::timestamptz[],
                            ARRAY[64, 65]) AS archived_batch_new,
       billing.record_appointment(7101, 'apt-1', '2022-01-31 23:00+00') AS archived_appointment_is_new,
       billing.record_appointment(7102, 'apt-late', '2022-04-10 10:00+00', 'booked', 'late-6') AS names_archived_call;
-- The next invoice still adjusts the late February call exactly once.
SELECT count(*) AS closed FROM billing.close_ended_periods('2022-05-02 12:00+00') WHERE company_id = 7102;
SELECT NOT EXISTS (SELECT FROM billing.verify_usage_daily()) AND NOT EXISTS (SELECT FROM billing.verify_usage_profile())
       AS rollup_verifies;
SELECT l.kind, l.billed_seconds, l.amount FROM billing.invoice_lines l JOIN billing.invoices i ON i.id = l.invoice_id
 JOIN billing.billing_periods p ON p.id = i.billing_period_id
 WHERE l.company_id = 7102 AND p.start_date = '2022-04-01' AND l.kind LIKE '%adjustment' ORDER BY l.line_number;
-- Archiving again changes nothing; archiving March takes the rest of the closed periods, and
-- the months of open periods stay.
SELECT count(*) AS archived_again FROM billing.archive_calls('2022-03-01') WHERE company_id IN (7101, 7102);
SELECT company_id, calls, appointments FROM billing.archive_calls('2022-04-01') WHERE company_id IN (7101, 7102) ORDER BY 1;
SELECT partition FROM billing._raw_partitions('calls') WHERE month BETWEEN '2021-12-01' AND '2022-06-01';
SELECT NOT EXISTS (SELECT FROM billing.verify_usage_daily()) AND NOT EXISTS (SELECT FROM billing.verify_usage_profile())
       AS rollup_verifies_after_second_archive;

-- A DBA who detaches or drops a month by hand: the month's rows are archived first, so every
-- figure stays, the rollup still verifies, and the month's calls sent again are not new.
INSERT INTO billing.companies (id, name, timezone) VALUES (7103, 'Partition by hand', 'UTC');
INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute,
                                   per_appointment_rate, valid_from) VALUES (7103, 'per_minute', 5.00, 1, 0.50, 0.00, '2021-09-01');
SELECT count(*) FILTER (WHERE billing.record_call(7103, 'hand-' || i, timestamptz '2021-09-20 00:00+00' + i * interval '13 hours',
                                                 45 + i, 'completed')) AS calls_stored
  FROM generate_series(0, 150) AS i;
SELECT billing.ensure_periods('2022-01-20 12:00+00') >= 0 AS ensured;
SELECT count(*) AS closed FROM billing.close_ended_periods('2022-01-20 12:00+00') WHERE company_id = 7103;
SELECT partition FROM billing._raw_partitions('calls') WHERE month BETWEEN '2021-09-01' AND '2021-12-01';
CREATE TEMP TABLE by_hand_before AS
SELECT 'trends' AS what, (SELECT jsonb_agg(t)::text FROM billing.usage_trends(7103, 6, '2022-01-20 12:00+00') t) AS figures
UNION ALL SELECT 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(7103) h)
UNION ALL SELECT 'period ' || p.start_date, billing.period_detail(p.id)::text FROM billing.billing_periods p WHERE p.company_id = 7103
UNION ALL SELECT 'period_usage ' || u.start_date, u::text FROM billing.period_usage u WHERE u.company_id = 7103;
ALTER TABLE billing.calls DETACH PARTITION billing.calls_2021_09;
DROP TABLE billing.calls_2021_09;
DROP TABLE billing.calls_2021_10;
SELECT count(*) AS calls_left, min(started_at) >= '2021-11-01 00:00+00' AS only_november_on
  FROM billing.calls WHERE company_id = 7103;
SELECT b.what, b.figures = a.figures AS unchanged
  FROM by_hand_before b LEFT JOIN (
      SELECT 'trends' AS what, (SELECT jsonb_agg(t)::text FROM billing.usage_trends(7103, 6, '2022-01-20 12:00+00') t) AS figures
      UNION ALL SELECT 'history', (SELECT jsonb_agg(h)::text FROM billing.billing_history(7103) h)
      UNION ALL SELECT 'period ' || p.start_date, billing.period_detail(p.id)::text FROM billing.billing_periods p WHERE p.company_id = 7103
      UNION ALL SELECT 'period_usage ' || u.start_date, u::text FROM billing.period_usage u WHERE u.company_id = 7103
  ) AS a USING (what)
 ORDER BY 1;
SELECT NOT EXISTS (SELECT FROM billing.verify_usage_daily(7103)) AND NOT EXISTS (SELECT FROM billing.verify_usage_profile(7103))
       AS rollup_verifies_after_drops,
       billing.record_call(7103, 'hand-3', '2021-09-21 15:00+00', 48, 'completed') AS dropped_call_is_new;
