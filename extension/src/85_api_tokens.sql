------------------------------------------------------------------------------------------
-- API tokens (src/pg/api_tokens.cpp): created and revoked by administrators, verified by any
-- application (the gateway, src/gateway/, is one)
------------------------------------------------------------------------------------------

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
