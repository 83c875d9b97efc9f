------------------------------------------------------------------------------------------
-- Moving a company between databases (version 1.9): every row of one company as one jsonb
-- document, and that document stored again elsewhere, exactly. The shard router
-- (router/company_billing_router.sql) moves a company from one shard to another with these;
-- they work as well between two single databases. docs/scaling.md says how.
------------------------------------------------------------------------------------------

-- The company's tables, parents first: the order rows are stored in and removed in reverse.
-- usage_daily and usage_profile are derived: an import rebuilds them from the raw rows and
-- archived_usage_daily, which is what they must equal. Administrators read it to see what a
-- move carries.
CREATE FUNCTION billing.company_tables() RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['companies', 'pricing_plans', 'billing_periods', 'calls', 'call_keys', 'appointments',
                 'appointment_keys', 'invoices',
                 'invoice_lines', 'payment_methods', 'viewer_companies', 'api_tokens', 'archived_usage_daily',
                 'alert_settings', 'alerts', 'alert_events', 'webhook_deliveries', 'audit_log']::text[]
$$;

-- {"format": 1, "company": id, "<table>": [rows ordered by key], ...}: viewer mappings carry
-- the role's name (role OIDs differ between clusters).
CREATE FUNCTION billing.export_company(company bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    document jsonb;
    table_name text;
    rows jsonb;
BEGIN
    IF company IS NULL THEN
        RAISE EXCEPTION 'company must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) company) THEN
        RAISE EXCEPTION 'company % does not exist', company USING ERRCODE = 'P0002';
    END IF;
    document := pg_catalog.jsonb_build_object('format', 1, 'company', company);
    FOREACH table_name IN ARRAY billing.company_tables() LOOP
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) ORDER BY t.%1$s) FROM billing.%2$I t '
            'WHERE t.%3$s OPERATOR(pg_catalog.=) $1',
            CASE table_name WHEN 'viewer_companies' THEN 'role::pg_catalog.text'
                            WHEN 'companies' THEN 'id'
                            WHEN 'alert_settings' THEN 'company_id'
                            WHEN 'archived_usage_daily' THEN 'day'
                            WHEN 'call_keys' THEN 'call_id'
                            WHEN 'appointment_keys' THEN 'appointment_id'
                            ELSE 'id' END,
            table_name,
            CASE table_name WHEN 'companies' THEN 'id' ELSE 'company_id' END)
            INTO rows USING company;
        document := document OPERATOR(pg_catalog.||)
                    pg_catalog.jsonb_build_object(table_name, COALESCE(rows, '[]'::jsonb));
    END LOOP;
    RETURN document;
END
$$;
COMMENT ON FUNCTION billing.export_company(bigint) IS
    'Every row of one company as one jsonb document, for billing.import_company() in another database';

-- Stores an export_company() document as it is: the same ids, invoices, closed periods, alerts
-- and audit rows. Superusers only: it writes what only the extension writes (invoices, closed
-- periods), with the extension's other triggers off (session_replication_role = replica; the
-- rollup triggers fire always, and the rollup is rebuilt and verified at the end). The rows'
-- ids come from the exporting database: its sequences and this one's must not overlap
-- (docs/scaling.md gives each shard its own range), otherwise a duplicate key stops the
-- import and nothing is stored.
CREATE FUNCTION billing.import_company(document jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company bigint := (document OPERATOR(pg_catalog.->>) 'company')::bigint;
    table_name text;
    stored bigint;
    total bigint := 0;
BEGIN
    IF document IS NULL OR pg_catalog.jsonb_typeof(document) IS DISTINCT FROM 'object'
       OR (document OPERATOR(pg_catalog.->>) 'format') IS DISTINCT FROM '1' OR company IS NULL THEN
        RAISE EXCEPTION 'not a document of billing.export_company()' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM billing.companies c WHERE c.id OPERATOR(pg_catalog.=) company) THEN
        RAISE EXCEPTION 'company % exists already', company USING ERRCODE = '23505',
            HINT = 'billing.remove_company() removes it first.';
    END IF;
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOREACH table_name IN ARRAY billing.company_tables() LOOP
        IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(COALESCE(document OPERATOR(pg_catalog.->) table_name,
                                                                        '[]'::jsonb)) AS r(row)
                    WHERE (r.row OPERATOR(pg_catalog.->>) CASE table_name WHEN 'companies' THEN 'id'
                                                                          ELSE 'company_id' END)::bigint
                          IS DISTINCT FROM company) THEN
            RAISE EXCEPTION 'the % rows of the document belong to another company than %', table_name, company
                USING ERRCODE = '22023';
        END IF;
        EXECUTE pg_catalog.format(
            'INSERT INTO billing.%1$I SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::billing.%1$I, $1)',
            table_name)
            USING COALESCE(document OPERATOR(pg_catalog.->) table_name, '[]'::jsonb);
        GET DIAGNOSTICS stored = ROW_COUNT;
        total := total OPERATOR(pg_catalog.+) stored;
    END LOOP;
    -- A document of a version before 1.10 has no keys: they are the stored rows' keys.
    INSERT INTO billing.call_keys (company_id, external_id, call_id)
    SELECT k.company_id, k.external_id, k.id FROM billing.calls k WHERE k.company_id OPERATOR(pg_catalog.=) company
    ON CONFLICT DO NOTHING;
    INSERT INTO billing.appointment_keys (company_id, external_id, appointment_id)
    SELECT a.company_id, a.external_id, a.id FROM billing.appointments a WHERE a.company_id OPERATOR(pg_catalog.=) company
    ON CONFLICT DO NOTHING;
    PERFORM billing.rebuild_usage_daily(company);
    PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
    IF EXISTS (SELECT FROM billing.verify_usage_daily(company)) OR EXISTS (SELECT FROM billing.verify_usage_profile(company)) THEN
        RAISE EXCEPTION 'the rollup of company % does not match its rows after the import', company
            USING ERRCODE = 'XX000';
    END IF;
    RETURN total;
END
$$;
COMMENT ON FUNCTION billing.import_company(jsonb) IS
    'Stores a billing.export_company() document exactly (superusers); returns the rows stored';

-- Removes every row of one company, invoices and closed periods included (superusers; the
-- other half of a move, after the import elsewhere succeeded).
CREATE FUNCTION billing.remove_company(company bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tables text[] := billing.company_tables();
    removed bigint;
    total bigint := 0;
BEGIN
    IF company IS NULL THEN
        RAISE EXCEPTION 'company must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    FOR position IN REVERSE pg_catalog.array_length(tables, 1)..1 LOOP
        EXECUTE pg_catalog.format('DELETE FROM billing.%I t WHERE t.%s OPERATOR(pg_catalog.=) $1', tables[position],
                                  CASE tables[position] WHEN 'companies' THEN 'id' ELSE 'company_id' END)
            USING company;
        GET DIAGNOSTICS removed = ROW_COUNT;
        total := total OPERATOR(pg_catalog.+) removed;
    END LOOP;
    DELETE FROM billing.usage_daily u WHERE u.company_id OPERATOR(pg_catalog.=) company;
    DELETE FROM billing.usage_profile u WHERE u.company_id OPERATOR(pg_catalog.=) company;
    PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
    RETURN total;
END
$$;
COMMENT ON FUNCTION billing.remove_company(bigint) IS
    'Removes every row of one company, invoices included (superusers); returns the rows removed';
