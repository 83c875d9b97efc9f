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

CREATE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
                                           status text DEFAULT 'booked',
                                           call_external_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    linked_call bigint;
BEGIN
    IF company IS NULL OR external_id IS NULL OR booked_at IS NULL OR status IS NULL THEN
        RAISE EXCEPTION 'record_appointment: % must not be NULL',
            CASE WHEN company IS NULL THEN 'company' WHEN external_id IS NULL THEN 'external_id'
                 WHEN booked_at IS NULL THEN 'booked_at' ELSE 'status' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(external_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'record_appointment: external_id must have 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT (booked_at >= TIMESTAMPTZ '2000-01-01 00:00:00+00' AND booked_at < TIMESTAMPTZ '2100-01-01 00:00:00+00') THEN
        RAISE EXCEPTION 'record_appointment: booked_at must lie in the years 2000 to 2099'
            USING ERRCODE = 'datetime_field_overflow';
    END IF;
    IF status NOT IN ('booked', 'cancelled') THEN
        RAISE EXCEPTION 'record_appointment: unknown appointment status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known statuses: booked, cancelled.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.companies c WHERE c.id = record_appointment.company) THEN
        RAISE EXCEPTION 'record_appointment: company % does not exist', company
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF call_external_id IS NOT NULL THEN
        SELECT c.id INTO linked_call FROM billing.calls c
         WHERE c.company_id = record_appointment.company AND c.external_id = call_external_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'record_appointment: company % has no call "%"',
                company, pg_catalog.left(call_external_id, 40)
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;

    INSERT INTO billing.appointments (company_id, external_id, call_id, booked_at, status)
    VALUES (record_appointment.company, record_appointment.external_id, linked_call,
            record_appointment.booked_at, record_appointment.status)
    ON CONFLICT ON CONSTRAINT appointments_company_external_id_key DO NOTHING;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.record_appointment(bigint, text, timestamptz, text, text) IS
    'Stores an appointment once per (company, external_id); true when it was new. '
    'A later cancellation is an UPDATE of billing.appointments.status.';
