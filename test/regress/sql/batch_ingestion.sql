-- record_calls(): a batch of one company's calls in one statement, with record_call's
-- idempotency (a call stored before, or twice in the batch, is stored once) and its messages;
-- the rollup and the call profile equal a recomputation; nothing is written on an error.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone) VALUES (9601, 'Batch Praxis', 'America/Sao_Paulo');
SELECT billing.record_call(9601, 'b-1', '2025-06-02 09:00-03', 60) AS single_first;
-- 1,000 calls over three days, one of them already stored, one twice in the batch.
SELECT billing.record_calls(9601,
         pg_catalog.array_agg('b-' || i ORDER BY i) || '{b-7}',
         pg_catalog.array_agg(timestamptz '2025-06-02 00:00-03' + i * interval '257 seconds' ORDER BY i) || '{2025-06-09 10:00-03}'::timestamptz[],
         pg_catalog.array_agg(i % 700 ORDER BY i) || '{5}'::integer[],
         pg_catalog.array_agg(CASE WHEN i % 9 = 0 THEN 'missed' ELSE 'completed' END ORDER BY i) || '{failed}'::text[]) AS new_calls
  FROM pg_catalog.generate_series(1, 1000) AS i;
SELECT pg_catalog.count(*) AS stored, pg_catalog.count(DISTINCT external_id) AS distinct_ids,
       pg_catalog.max(started_at) FILTER (WHERE external_id = 'b-7') = timestamptz '2025-06-02 00:00-03' + 7 * interval '257 seconds'
           AS first_of_the_twins_kept
  FROM billing.calls WHERE company_id = 9601;
-- The same batch again stores nothing; statuses NULL means completed.
SELECT billing.record_calls(9601, '{b-1,b-2}', '{2025-06-02 09:00-03,2025-06-02 09:05-03}', '{60,70}') AS again;
SELECT billing.record_calls(9601, '{c-1,c-2}', '{2025-06-03 09:00-03,2025-06-03 09:05-03}', '{60,70}') AS defaults;
SELECT pg_catalog.string_agg(status, ',' ORDER BY external_id) AS statuses FROM billing.calls
 WHERE company_id = 9601 AND external_id LIKE 'c-%';
SELECT billing.record_calls(9601, '{}', '{}', '{}') AS empty_batch;
SELECT (SELECT pg_catalog.count(*) FROM billing.verify_usage_daily(9601)) AS rollup_differences,
       (SELECT pg_catalog.count(*) FROM billing.verify_usage_profile(9601)) AS profile_differences;

-- Bad batches: a SQLSTATE each, and not one call of the batch stored.
CREATE TEMP TABLE calls_before AS SELECT pg_catalog.count(*) AS n FROM billing.calls WHERE company_id = 9601;
SELECT statement, regress.error_of(statement) AS result
  FROM (VALUES
    ($$SELECT billing.record_calls(9601, '{x-1,x-2}', '{2025-06-04 09:00-03}', '{1,2}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1}', '{2025-06-04 09:00-03}', '{1}', '{completed,missed}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,NULL}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,2}')$$),
    ($$SELECT billing.record_calls(9601, '{{x-1},{x-2}}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,2}')$$),
    ($$SELECT billing.record_calls(9601, NULL, '{2025-06-04 09:00-03}', '{1}')$$),
    ($$SELECT billing.record_calls(NULL, '{x-1}', '{2025-06-04 09:00-03}', '{1}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,x-2}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,-5}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,x-2}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,604801}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,""}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,2}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,x-2}', '{2025-06-04 09:00-03,1999-12-31 23:00+00}', '{1,2}')$$),
    ($$SELECT billing.record_calls(9601, '{x-1,x-2}', '{2025-06-04 09:00-03,2025-06-04 09:01-03}', '{1,2}', '{completed,lost}')$$),
    ($$SELECT billing.record_calls(999999, '{x-1}', '{2025-06-04 09:00-03}', '{1}')$$)
  ) AS t(statement);
SELECT (SELECT pg_catalog.count(*) FROM billing.calls WHERE company_id = 9601) = (SELECT n FROM calls_before) AS nothing_written;

-- Only administrators ingest.
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_batch_app') THEN
  CREATE ROLE regress_batch_app LOGIN IN ROLE billing_app; END IF; END $$;
SET ROLE regress_batch_app;
SELECT billing.record_calls(9601, '{y-1}', '{2025-06-04 09:00-03}', '{1}') AS as_the_app;
RESET ROLE;
DROP ROLE regress_batch_app;
