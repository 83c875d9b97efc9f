-- Installing the extension: its objects, and the tables pg_dump must keep.
CREATE EXTENSION company_billing;
SELECT extversion FROM pg_extension WHERE extname = 'company_billing';

-- Every table and sequence of the extension is registered for pg_dump.
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'company_billing'
 ORDER BY 1;

-- Every function pins its search_path (C functions have no search path to hijack).
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
  FROM pg_proc p
 WHERE p.pronamespace = 'billing'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.prokind <> 'a'  -- an aggregate runs its state function, found by OID when it was created
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) cfg WHERE cfg = 'search_path=pg_catalog, pg_temp')
 ORDER BY 1;

-- No function is SECURITY DEFINER but the two internal bodies that create and drop the monthly
-- partitions (which takes the tables' owner), and no group role may execute them.
SELECT p.proname, has_function_privilege('billing_admin', p.oid, 'EXECUTE') AS admin_may_execute,
       has_function_privilege('billing_app', p.oid, 'EXECUTE') AS app_may_execute,
       has_function_privilege('billing_viewer', p.oid, 'EXECUTE') AS viewer_may_execute
  FROM pg_proc p WHERE p.pronamespace = 'billing'::regnamespace AND p.prosecdef ORDER BY 1;

-- Test-only functions: not part of the extension, declared by the tests over the library's
-- symbols (the exception boundary self-test, and the document builder for differential tests).
CREATE FUNCTION billing._boundary_selftest(mode text) RETURNS bigint
LANGUAGE C VOLATILE STRICT AS '$libdir/company_billing', 'billing_boundary_selftest';
REVOKE ALL ON FUNCTION billing._boundary_selftest(text) FROM PUBLIC;
CREATE FUNCTION billing._usage_document(config jsonb, period_start date, period_end date,
                                        today date, calls_total bigint, calls_completed bigint,
                                        total_seconds bigint, appointments bigint,
                                        with_projection boolean)
RETURNS jsonb LANGUAGE C IMMUTABLE STRICT AS '$libdir/company_billing', 'billing_usage_document';
REVOKE ALL ON FUNCTION billing._usage_document(jsonb, date, date, date, bigint, bigint, bigint, bigint, boolean) FROM PUBLIC;
-- A helper for the other test files: the SQLSTATE and message of a statement's error.
CREATE SCHEMA regress;
CREATE FUNCTION regress.error_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
