-- company_billing 1.5 -> 1.6: API tokens (create_api_token, authenticate_token,
-- revoke_api_token), the end user of token-authenticated reads in the audit log, and
-- throttle_detail() for HTTP rate-limit headers, record_appointment in C. The current
-- definitions are in extension/src/.
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.6'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- The audit log names the token and its user; a failed authentication of an unknown token id
-- has no company.
ALTER TABLE billing.audit_log ALTER COLUMN company_id DROP NOT NULL;
ALTER TABLE billing.audit_log ADD COLUMN api_token_id bigint, ADD COLUMN api_user text;
COMMENT ON COLUMN billing.audit_log.api_token_id IS
    'The API token the reading transaction authenticated (billing.authenticate_token), if any';
COMMENT ON COLUMN billing.audit_log.api_user IS 'The user_name of that API token when the row was written';

-- API tokens (the shape of personal access tokens): "<id>|<secret>", of which only the SHA-256
-- of the secret is kept. Created and revoked by administrators; verified by
-- billing.authenticate_token() (src/pg/api_tokens.cpp). last_used_at is set by the audit
-- writer from the successful authentications it writes (so authenticating writes nothing).
CREATE TABLE billing.api_tokens (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL REFERENCES billing.companies (id),
    name         text NOT NULL,
    user_name    text,
    abilities    text[] NOT NULL DEFAULT '{view_billing}',
    secret_hash  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_id_check CHECK (id > 0),
    CONSTRAINT api_tokens_name_check CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
    CONSTRAINT api_tokens_user_name_check CHECK (pg_catalog.length(user_name) BETWEEN 1 AND 200),
    -- One or more abilities, each a lower-case word (view_billing, or the application's own).
    CONSTRAINT api_tokens_abilities_check CHECK (
        pg_catalog.array_ndims(abilities) = 1 AND pg_catalog.array_position(abilities, NULL) IS NULL
        AND pg_catalog.array_to_string(abilities, ',') OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_:.-]{0,62}(,[a-z][a-z0-9_:.-]{0,62})*$'),
    CONSTRAINT api_tokens_secret_hash_check CHECK (pg_catalog.octet_length(secret_hash) = 32),
    CONSTRAINT api_tokens_expires_at_check CHECK (pg_catalog.isfinite(expires_at))
);
CREATE INDEX api_tokens_company_id_idx ON billing.api_tokens (company_id);
SELECT pg_catalog.pg_extension_config_dump('billing.api_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('billing.api_tokens_id_seq', '');
COMMENT ON TABLE billing.api_tokens IS
    'API tokens "<id>|<secret>": one company, an optional user, abilities, expiry, revocation; the secret only as its SHA-256';
ALTER TABLE billing.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_admin ON billing.api_tokens TO billing_admin USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.api_tokens TO billing_admin;
GRANT USAGE ON SEQUENCE billing.api_tokens_id_seq TO billing_admin;

-- The same limiter, with what an HTTP answer needs: whether the call is admitted, the calls
-- left in the bucket after it, and the seconds until the next call would be admitted (0 when
-- some are left).
CREATE FUNCTION billing.throttle_detail(key text, per_minute integer, as_of timestamptz DEFAULT pg_catalog.now(),
                                        OUT admitted boolean, OUT remaining integer, OUT retry_after_seconds integer)
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_throttle_detail';
COMMENT ON FUNCTION billing.throttle_detail(text, integer, timestamptz) IS
    'billing.throttle() with the calls remaining and the seconds to wait when refused';

-- A new token for one company (and optionally one named user): returns its id and the
-- plaintext "<id>|<secret>" (48 random letters and digits), which is never stored and cannot be
-- shown again. expires_at NULL: never expires.
CREATE FUNCTION billing.create_api_token(company bigint, name text, user_name text DEFAULT NULL,
                                         abilities text[] DEFAULT '{view_billing}',
                                         expires_at timestamptz DEFAULT NULL,
                                         OUT token_id bigint, OUT token text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_create_api_token';
COMMENT ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamptz) IS
    'Creates an API token and returns its plaintext once (only the SHA-256 of its secret is kept)';

-- Verifies a presented token (comparing hashes in constant time) and returns its company, user
-- and abilities. Every failure (malformed, unknown id, wrong secret, expired, revoked) raises
-- the same 28000 "invalid API token" and is audited as "authenticate_token (failed)". A success
-- is audited as "authenticate_token", and the audited reads of the rest of the transaction
-- carry the token and its user. Writes nothing, so it works in READ ONLY transactions.
-- It reads billing.api_tokens without the caller's SELECT privilege, by primary key: the caller
-- learns a token's row only by presenting its secret.
CREATE FUNCTION billing.authenticate_token(token text, as_of timestamptz DEFAULT pg_catalog.now(),
                                           OUT token_id bigint, OUT company_id bigint, OUT user_name text,
                                           OUT abilities text[], OUT expires_at timestamptz,
                                           OUT company_active boolean)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_authenticate_token';
COMMENT ON FUNCTION billing.authenticate_token(text, timestamptz) IS
    'Verifies an API token "<id>|<secret>": its company, user and abilities, or 28000 for any invalid token';

CREATE FUNCTION billing.revoke_api_token(token_id bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF token_id IS NULL OR as_of IS NULL THEN
        RAISE EXCEPTION 'token_id and as_of must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE billing.api_tokens t SET revoked_at = as_of
     WHERE t.id = revoke_api_token.token_id AND t.revoked_at IS NULL;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION billing.revoke_api_token(bigint, timestamptz) IS
    'Revokes an API token from as_of on; true when it was not revoked before';

REVOKE ALL ON FUNCTION billing.throttle_detail(text, integer, timestamptz),
    billing.create_api_token(bigint, text, text, text[], timestamptz), billing.authenticate_token(text, timestamptz),
    billing.revoke_api_token(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.throttle_detail(text, integer, timestamptz),
    billing.authenticate_token(text, timestamptz) TO billing_app, billing_admin;
GRANT EXECUTE ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamptz),
    billing.revoke_api_token(bigint, timestamptz) TO billing_admin;

-- record_appointment in C: the table's constraints are its checks (no PL/pgSQL copy of them).
CREATE OR REPLACE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamptz,
                                                      status text DEFAULT 'booked',
                                                      call_external_id text DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_record_appointment';
ALTER FUNCTION billing.record_appointment(bigint, text, timestamptz, text, text) RESET ALL;

-- runtime_status() gains token_failures (a new OUT column: the function is created again).
DROP FUNCTION billing.runtime_status();
CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint,
                                       OUT audit_written bigint, OUT audit_dropped bigint,
                                       OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint,
                                       OUT token_failures bigint)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_runtime_status_v2';
COMMENT ON FUNCTION billing.runtime_status() IS
    'Whether API reads are audited in this database, and (for administrators) the audit and limiter counters';
REVOKE ALL ON FUNCTION billing.runtime_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing.runtime_status() TO billing_viewer, billing_app, billing_admin;
