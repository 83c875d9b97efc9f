-- API tokens: created and revoked by administrators, verified by the application role, every
-- failure the same error, only a hash stored, the end user in the audit. Plaintexts are random,
-- so the output shows only their shape and what they do.
\set VERBOSITY terse
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['regress_token_app', 'regress_token_viewer', 'regress_token_admin'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
            EXECUTE format('DROP OWNED BY %I', role_name);
            EXECUTE format('DROP ROLE %I', role_name);
        END IF;
    END LOOP;
END
$$;
SELECT token_failures AS failures_before FROM billing.runtime_status() \gset
CREATE ROLE regress_token_app LOGIN IN ROLE billing_app;
CREATE ROLE regress_token_viewer LOGIN IN ROLE billing_viewer;
CREATE ROLE regress_token_admin LOGIN IN ROLE billing_admin;
INSERT INTO billing.companies (id, name, timezone, active) VALUES
    (9101, 'Token Praxis', 'Europe/Berlin', true), (9102, 'Other Praxis', 'Europe/Berlin', true),
    (9103, 'Paused Praxis', 'UTC', false);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (9101, 'combined', 0.10, 2.00, '2025-01-01'), (9102, 'combined', 0.10, 2.00, '2025-01-01');
SELECT billing.record_call(9101, 'tok-call-1', '2025-06-02 10:00+02', 600, 'completed');

-- Only administrators create tokens; the plaintext is "<id>|<48 letters and digits>".
SET ROLE regress_token_admin;
SELECT token_id AS anna_id, token AS anna FROM billing.create_api_token(9101, 'dashboard', 'anna@praxis.example') \gset
SELECT token_id AS other_id, token AS other FROM billing.create_api_token(9102, 'dashboard') \gset
SELECT token_id AS reports_id, token AS reports FROM billing.create_api_token(9101, 'reports', NULL, '{export_reports}') \gset
SELECT token_id AS expiring_id, token AS expiring FROM billing.create_api_token(9101, 'short', 'ben', '{view_billing}', '2025-06-10 00:00+00') \gset
SELECT token_id AS paused_id, token AS paused FROM billing.create_api_token(9103, 'paused') \gset
RESET ROLE;
SELECT :'anna' ~ ('^' || :anna_id || '\|[A-Za-z0-9]{48}$') AS shape,
       split_part(:'anna', '|', 2) <> split_part(:'other', '|', 2) AS secrets_differ;
-- Stored: the SHA-256 of the secret, nothing that contains the secret.
SELECT t.secret_hash = sha256(convert_to(split_part(:'anna', '|', 2), 'UTF8')) AS hash_of_secret,
       position(convert_to(split_part(:'anna', '|', 2), 'UTF8') IN t.secret_hash) = 0 AS no_plaintext,
       t.company_id, t.user_name, t.abilities, t.last_used_at, t.revoked_at
  FROM billing.api_tokens t WHERE t.id = :anna_id;
-- 200 secrets: every one of the 62 symbols occurs, none repeats.
CREATE TEMP TABLE many AS
SELECT (billing.create_api_token(9102, 'bulk')).token FROM generate_series(1, 200);
SELECT count(DISTINCT split_part(token, '|', 2)) AS distinct_secrets,
       count(DISTINCT c) AS symbols_seen
  FROM many, regexp_split_to_table(split_part(token, '|', 2), '') AS c;
DELETE FROM billing.api_tokens WHERE name = 'bulk';

-- Bad input to create_api_token: a SQLSTATE each, nothing stored.
SELECT count(*) AS tokens_before FROM billing.api_tokens;
SELECT billing.create_api_token(9999, 'x');
SELECT billing.create_api_token(NULL, 'x');
SELECT billing.create_api_token(9101, NULL);
SELECT billing.create_api_token(9101, '');
SELECT billing.create_api_token(9101, repeat('n', 201));
SELECT billing.create_api_token(9101, 'x', '');
SELECT billing.create_api_token(9101, 'x', NULL, '{}');
SELECT billing.create_api_token(9101, 'x', NULL, '{View_Billing}');
SELECT billing.create_api_token(9101, 'x', NULL, '{"view billing"}');
SELECT billing.create_api_token(9101, 'x', NULL, ARRAY[NULL]::text[]);
SELECT billing.create_api_token(9101, 'x', NULL, '{{a},{b}}');
SELECT billing.create_api_token(9101, 'x', NULL, '{view_billing}', 'infinity');
SELECT count(*) AS tokens_after FROM billing.api_tokens;

-- The application role verifies tokens, in a READ ONLY transaction.
SET ROLE regress_token_app;
BEGIN READ ONLY;
SELECT token_id = :anna_id AS right_token, company_id, user_name, abilities, expires_at, company_active
  FROM billing.authenticate_token(:'anna', '2025-06-15 12:00+02');
SELECT set_config('billing.company_id', '9101', true);
SELECT billing.usage_current(NULL, '2025-06-15 12:00+02')->'calls'->>'total' AS calls;
COMMIT;
SELECT company_active FROM billing.authenticate_token(:'paused', '2025-06-15 12:00+02');
SELECT abilities FROM billing.authenticate_token(:'reports', '2025-06-15 12:00+02');
SELECT user_name, expires_at FROM billing.authenticate_token(:'expiring', '2025-06-09 23:59:59+00');
-- Every failure: the same SQLSTATE and message, whatever is wrong.
SELECT billing.authenticate_token(:'expiring', '2025-06-10 00:00+00');              -- expired
SELECT billing.authenticate_token(:'anna' || 'x');                                  -- wrong secret
SELECT billing.authenticate_token(left(:'anna', -1) || CASE WHEN right(:'anna', 1) = 'Q' THEN 'R' ELSE 'Q' END); -- one symbol changed
SELECT billing.authenticate_token('999999|' || split_part(:'anna', '|', 2));        -- unknown id
SELECT billing.authenticate_token(:other_id || '|' || split_part(:'anna', '|', 2)); -- another token's id
SELECT billing.authenticate_token('Bearer ' || :'anna');
SELECT billing.authenticate_token(' ' || :'anna');
SELECT billing.authenticate_token('0' || :'anna');
SELECT billing.authenticate_token('-' || :'anna');
SELECT billing.authenticate_token(split_part(:'anna', '|', 2));
SELECT billing.authenticate_token('');
SELECT billing.authenticate_token(NULL);
SELECT billing.authenticate_token(repeat('9', 100000) || '|' || repeat('a', 48));
SELECT billing.authenticate_token(:'anna', NULL);
SELECT billing.authenticate_token(:'anna', 'infinity');
-- The application can neither read the tokens nor create or revoke one.
SELECT count(*) FROM billing.api_tokens;
SELECT billing.create_api_token(9101, 'mine');
SELECT billing.revoke_api_token(:anna_id);
RESET ROLE;
-- A viewer may not verify tokens at all.
SET ROLE regress_token_viewer;
SELECT billing.authenticate_token(:'anna');
RESET ROLE;

-- Revocation: from its instant on, the token is refused like any other invalid one.
SET ROLE regress_token_admin;
SELECT billing.revoke_api_token(:anna_id, '2025-06-20 00:00+00') AS revoked,
       billing.revoke_api_token(:anna_id, '2025-06-21 00:00+00') AS revoked_again;
SELECT billing.revoke_api_token(999999) AS unknown_token;
SELECT billing.revoke_api_token(NULL);
SELECT billing.revoke_api_token(:anna_id, NULL);
RESET ROLE;
SET ROLE regress_token_app;
SELECT company_id FROM billing.authenticate_token(:'anna', '2025-06-19 23:59:59+00');
SELECT billing.authenticate_token(:'anna', '2025-06-20 00:00+00');
RESET ROLE;

-- The audit: successes and failures, the reads of a token's transaction with the token and its
-- user; failures of an unknown id name no company and no token. last_used_at follows the
-- successful authentications the audit writer has written.
SELECT billing.audit_flush_wait();
SELECT company_id, current_user_name, function_name,
       CASE api_token_id WHEN :anna_id THEN 'anna' WHEN :other_id THEN 'other' WHEN :reports_id THEN 'reports'
                         WHEN :expiring_id THEN 'expiring' WHEN :paused_id THEN 'paused' END AS token,
       api_user, sum(reads) AS reads
  FROM billing.audit_log
 WHERE current_user_name IN ('regress_token_app', 'regress_token_viewer')
 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1 NULLS FIRST, 3, 4, 5;
SELECT name, last_used_at IS NOT NULL AS used FROM billing.api_tokens WHERE company_id IN (9101, 9102, 9103) ORDER BY id;
-- Counted in shared memory too (audited or not), shown to administrators only.
SELECT token_failures - :failures_before AS failures_counted FROM billing.runtime_status();
SET ROLE regress_token_app;
SELECT token_failures IS NULL AS hidden_from_the_app FROM billing.runtime_status();
RESET ROLE;

-- throttle_detail: the calls left and, when refused, whole seconds to wait.
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, '2025-06-15 12:00:00+00');
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, '2025-06-15 12:00:00+00');
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, '2025-06-15 12:00:00+00');
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, '2025-06-15 12:00:29.5+00');
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, '2025-06-15 12:00:31+00');
SELECT * FROM billing.throttle_detail('regress-token-bucket', 0);
SELECT * FROM billing.throttle_detail('regress-token-bucket', 2, 'infinity');

DELETE FROM billing.calls WHERE company_id IN (9101, 9102, 9103);
DELETE FROM billing.usage_daily WHERE company_id IN (9101, 9102, 9103);
DELETE FROM billing.api_tokens WHERE company_id IN (9101, 9102, 9103);
DELETE FROM billing.pricing_plans WHERE company_id IN (9101, 9102, 9103);
DELETE FROM billing.companies WHERE id IN (9101, 9102, 9103);
