-- company_billing 1.1 -> 1.2: the hot reads in C (issue 5).
--
-- usage_current, usage_projection and _usage become one C read path (src/pg/usage_read.cpp):
-- the company scope, the period, its plan and the rollup's totals through queries prepared once
-- per backend, instead of a chain of PL/pgSQL functions. The company scope itself
-- (_company, _is_viewer, _setting_company) moves to C too (src/pg/company_scope.cpp), so the
-- C path and the PL/pgSQL API functions share one implementation of it.
--
-- These C functions carry no SET search_path: their queries name every table, function,
-- operator and type with its schema, and a per-call SET would cost more than the read itself.

\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.2'" to load this file. \quit

CREATE OR REPLACE FUNCTION billing._is_viewer() RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_is_viewer';

CREATE OR REPLACE FUNCTION billing._setting_company() RETURNS bigint
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_setting_company';

CREATE OR REPLACE FUNCTION billing._company(company bigint, api_name text DEFAULT NULL) RETURNS billing.companies
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_company';

CREATE OR REPLACE FUNCTION billing._usage(company bigint, as_of timestamptz, with_projection boolean, api_name text)
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage';

CREATE OR REPLACE FUNCTION billing.usage_current(company bigint DEFAULT NULL,
                                                 as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_current';

CREATE OR REPLACE FUNCTION billing.usage_projection(company bigint DEFAULT NULL,
                                                    as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_projection';

-- The plan lookup of every read (company, latest valid_from by a date) as an index range scan.
CREATE INDEX pricing_plans_company_valid_from_idx ON billing.pricing_plans (company_id, valid_from);

-- The audit log coalesces repeated reads: one row per reader, company, function and second,
-- with the number of reads (the first one at read_at). A dashboard polled thousands of times a
-- second would otherwise make the audit writer insert as many rows as there are reads.
ALTER TABLE billing.audit_log ADD COLUMN reads integer NOT NULL DEFAULT 1
    CONSTRAINT audit_log_reads_check CHECK (reads > 0);
COMMENT ON COLUMN billing.audit_log.reads IS
    'How many reads of company_id through function_name by this user within the second of read_at';

-- record_call in C (src/pg/ingest_functions.cpp): the same checks and messages without the
-- PL/pgSQL layers; the INSERT and the rollup triggers are unchanged.
CREATE OR REPLACE FUNCTION billing.record_call(company bigint, external_id text, started_at timestamptz,
                                               duration_sec integer, status text DEFAULT 'completed')
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_call';

-- The rollup triggers in C (src/pg/rollup_trigger.cpp): the statement's net change per company,
-- local day and slot, one UPDATE (or upsert, for a new row) each, in (company, day) order. Same
-- rollup as 1.1's PL/pgSQL; the slot is now the backend's PGPROC number modulo 8 (1.1: the pid),
-- which spreads connections opened together over distinct slots.
CREATE OR REPLACE FUNCTION billing._roll_up_calls() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_calls';

CREATE OR REPLACE FUNCTION billing._roll_up_appointments() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_appointments';
