-- The baselines of the ingest benchmarks (bench/run.sh, bench/bulk_ingest.sh): billing.calls's
-- columns and idempotency key on one table without partitions, keys table or rollup, as
-- billing.calls was before 1.10:
--   plain_calls:   the columns, the primary key, the unique (company_id, external_id) and the
--                  read index;
--   checked_calls: the same plus billing.calls's CHECK constraints and a foreign key to the
--                  companies (the "same constraints" baseline).
CREATE TABLE plain_calls (LIKE billing.calls INCLUDING DEFAULTS,
                          PRIMARY KEY (id), UNIQUE (company_id, external_id));
CREATE INDEX ON plain_calls (company_id, started_at) INCLUDE (duration_sec, status);
CREATE INDEX ON plain_calls (company_id, status);
CREATE TABLE checked_calls (LIKE billing.calls INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                            PRIMARY KEY (id), UNIQUE (company_id, external_id),
                            FOREIGN KEY (company_id) REFERENCES billing.companies (id));
CREATE INDEX ON checked_calls (company_id, started_at) INCLUDE (duration_sec, status);
CREATE INDEX ON checked_calls (company_id, status);
