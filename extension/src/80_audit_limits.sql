------------------------------------------------------------------------------------------
-- Audit and rate limits: shared memory when the library is preloaded (src/pg/audit.cpp,
-- src/pg/rate_limit.cpp, src/pg/runtime_status.cpp)
------------------------------------------------------------------------------------------

-- Shared-memory token bucket: true when `key` may make one more call (per_minute calls a
-- minute, bursts up to per_minute). All backends and so all application servers share it. Its
-- keys live apart from the automatic per-viewer limits, so no key can exhaust a viewer's.
CREATE FUNCTION billing.throttle(key text, per_minute integer, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_throttle';
COMMENT ON FUNCTION billing.throttle(text, integer, timestamptz) IS
    'Token-bucket rate limit shared by all backends: true when the call is admitted';

-- The same limiter, with what an HTTP answer needs: whether the call is admitted, the calls
-- left in the bucket after it, and the seconds until the next call would be admitted (0 when
-- some are left).
CREATE FUNCTION billing.throttle_detail(key text, per_minute integer, as_of timestamptz DEFAULT pg_catalog.now(),
                                        OUT admitted boolean, OUT remaining integer, OUT retry_after_seconds integer)
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_throttle_detail';
COMMENT ON FUNCTION billing.throttle_detail(text, integer, timestamptz) IS
    'billing.throttle() with the calls remaining and the seconds to wait when refused';

-- What the audit and the limiter do in this database: `audit` is 'audited', 'refused' (the
-- audit writer serves another database, so API reads here are refused), 'off' (billing.audit)
-- or 'unavailable' (the library is not preloaded). The cluster-wide counters (token_failures:
-- failed authenticate_token() calls since the server started) are shown to billing_admin
-- members (and superusers) only, NULL for everyone else.
CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint,
                                       OUT audit_written bigint, OUT audit_dropped bigint,
                                       OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint,
                                       OUT token_failures bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_runtime_status_v2';
COMMENT ON FUNCTION billing.runtime_status() IS
    'Whether API reads are audited in this database, and (for administrators) the audit and limiter counters';

-- Waits until the audit writer has written everything queued so far (for tests and shutdown
-- scripts); false on timeout or when the library is not preloaded.
CREATE FUNCTION billing.audit_flush_wait(timeout interval DEFAULT '10 seconds') RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deadline timestamptz := pg_catalog.clock_timestamp() + timeout;
    status record;
BEGIN
    LOOP
        SELECT * INTO status FROM billing.runtime_status();
        IF NOT status.preloaded OR status.audit_queued IS NULL THEN
            RETURN false;
        END IF;
        IF status.audit_queued = 0 THEN
            -- The writer takes entries off the queue before committing them: one more beat.
            PERFORM pg_catalog.pg_sleep(0.2);
            RETURN true;
        END IF;
        IF pg_catalog.clock_timestamp() > deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.05);
    END LOOP;
END
$$;
COMMENT ON FUNCTION billing.audit_flush_wait(interval) IS
    'Waits until the audit writer has written every queued read (false on timeout or without preload)';

------------------------------------------------------------------------------------------
-- Viewer roles: one company each, keyed by role OID
------------------------------------------------------------------------------------------

CREATE FUNCTION billing.grant_company_access(role regrole, company bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_company bigint;
BEGIN
    IF role IS NULL OR company IS NULL THEN
        RAISE EXCEPTION 'role and company must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.pg_has_role(role::oid, 'billing_viewer', 'MEMBER')
       OR pg_catalog.pg_has_role(role::oid, 'billing_app', 'MEMBER')
       OR pg_catalog.pg_has_role(role::oid, 'billing_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'role % must be a member of billing_viewer (and of neither billing_app nor billing_admin)', role
            USING ERRCODE = 'invalid_parameter_value', HINT = 'GRANT billing_viewer TO the role first.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.companies c WHERE c.id = company) THEN
        RAISE EXCEPTION 'company % does not exist', company USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Mappings of dropped roles match no role; they go here.
    DELETE FROM billing.viewer_companies v
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = v.role::oid);
    SELECT v.company_id INTO current_company FROM billing.viewer_companies v WHERE v.role = grant_company_access.role;
    IF FOUND AND current_company <> company THEN
        RAISE EXCEPTION 'role % is already mapped to company %', role, current_company
            USING ERRCODE = 'unique_violation', HINT = 'A viewer sees one company: revoke that access first.';
    END IF;
    INSERT INTO billing.viewer_companies (role, company_id) VALUES (grant_company_access.role, company)
    ON CONFLICT ON CONSTRAINT viewer_companies_pkey DO NOTHING;
END
$$;
COMMENT ON FUNCTION billing.grant_company_access(regrole, bigint) IS
    'Pins a billing_viewer login role to one company';

CREATE FUNCTION billing.revoke_company_access(role regrole, company bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role IS NULL OR company IS NULL THEN
        RAISE EXCEPTION 'role and company must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM billing.viewer_companies v WHERE v.role = revoke_company_access.role AND v.company_id = company;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.revoke_company_access(regrole, bigint) IS
    'Removes a viewer role''s access to its company; true when there was one';
