------------------------------------------------------------------------------------------
-- Ingestion: idempotent on (company, external_id)
------------------------------------------------------------------------------------------

-- record_call in C (src/pg/ingest_functions.cpp): the checks, one INSERT ... ON CONFLICT DO
-- NOTHING, and the foreign key's violation reported in its own words.
CREATE FUNCTION billing.record_call(company bigint, external_id text, started_at timestamptz,
                                    duration_sec integer, status text DEFAULT 'completed')
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_call';
COMMENT ON FUNCTION billing.record_call(bigint, text, timestamptz, integer, text) IS
    'Stores a call once per (company, external_id); true when it was new';

-- A batch of calls of one company in one statement (src/pg/ingest_functions.cpp): the same
-- idempotency as record_call (a call stored before, or twice in the batch, is stored once), the
-- rollup written once per day of the batch; returns how many calls were new. statuses NULL:
-- every call 'completed'.
CREATE FUNCTION billing.record_calls(company bigint, external_ids text[], started_ats timestamptz[],
                                     durations integer[], statuses text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_calls';
COMMENT ON FUNCTION billing.record_calls(bigint, text[], timestamptz[], integer[], text[]) IS
    'Stores a batch of one company''s calls, each once per (company, external_id); returns how many were new';

-- record_appointment in C as well: the linked call looked up, one INSERT ... ON CONFLICT DO
-- NOTHING, and the violations of the table's constraints reported in its own words.
CREATE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
                                           status text DEFAULT 'booked',
                                           call_external_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_appointment';
COMMENT ON FUNCTION billing.record_appointment(bigint, text, timestamptz, text, text) IS
    'Stores an appointment once per (company, external_id); true when it was new. '
    'A later cancellation is an UPDATE of billing.appointments.status.';
