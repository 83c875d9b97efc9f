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
