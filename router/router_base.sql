-- company_billing_router: the billing.* API of company_billing on a router database that holds
-- no billing data, each call sent by PL/Proxy to the shard (a database with company_billing)
-- that holds the company. docs/scaling.md is the DBA's guide. Built by router/generate.py from
-- this file (routing rules), the extension's catalog (the routed functions) and
-- router/router_admin.sql (access, tokens, moves); released scripts are frozen like the
-- extension's.
--
-- The shards decide everything: who may read which company, every error and every figure. The
-- router only chooses the shard and passes on the caller's role (PL/Proxy connects as
-- current_user) and the transaction's company (billing.company_id, set again for the shard's
-- statement). Each call on a shard is a transaction of its own: a rollback on the router does
-- not undo what a shard stored.
--
-- Conventions: search_path = pg_catalog, pg_temp while the script runs and in every SQL
-- function; the functions of schema billing_remote are PL/Proxy functions, one per routed API
-- function, executable by the roles that may call that API function (they grant nothing: the
-- shard checks the call as if it came directly).

\echo Use "CREATE EXTENSION company_billing_router CASCADE" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

-- The group roles of company_billing, the same names on the router, so that a login role has
-- the same rights through the router as on a shard: the extension's own definition,
-- extension/src/05_roles.sql, which router/generate.py puts in place of the next line.
-- INCLUDE extension/src/05_roles.sql

CREATE SCHEMA billing_remote;
COMMENT ON SCHEMA billing_remote IS 'PL/Proxy functions of the shard router: one per routed API function';

-- Where each company lives: shard n is partition pn of the foreign server billing_shards.
-- Written when a company is imported through the router, by billing.map_shard_companies() for
-- companies created on a shard, and by billing.move_company(). A company without a row is
-- looked for on its default shard (billing.default_shard()).
CREATE TABLE billing.company_shards (
    company_id bigint PRIMARY KEY,
    shard      integer NOT NULL CHECK (shard >= 0),
    placed_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE billing.company_shards IS 'The shard of each company (partition pN of server billing_shards)';

-- The company of each billing_viewer login role, as the shards map it (grant_company_access()
-- through the router writes both): the router needs it to route a viewer's call without a
-- company. The shard's mapping is the one that admits the viewer.
CREATE TABLE billing.viewer_companies (
    role       regrole PRIMARY KEY,
    company_id bigint NOT NULL
);
COMMENT ON TABLE billing.viewer_companies IS 'The company of each billing_viewer login role, for routing';

-- Which company each API token belongs to (create_api_token() through the router writes it):
-- authenticate_token() is called before any company is known.
CREATE TABLE billing.api_token_companies (
    token_id   bigint PRIMARY KEY,
    company_id bigint NOT NULL
);
COMMENT ON TABLE billing.api_token_companies IS 'The company of each API token, for routing authenticate_token()';

-- Companies moved between shards (billing.move_company()).
CREATE TABLE billing.company_moves (
    id             bigserial PRIMARY KEY,
    company_id     bigint NOT NULL,
    from_shard     integer NOT NULL,
    to_shard       integer NOT NULL,
    rows_moved     bigint NOT NULL,
    moved_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    source_removed boolean NOT NULL
);
COMMENT ON TABLE billing.company_moves IS 'Companies moved between shards, and whether the old copy was removed';

-- The partitions of server billing_shards (p0, p1, ...): fixed when the router is set up.
CREATE FUNCTION billing.shard_count() RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    shards integer;
BEGIN
    SELECT pg_catalog.count(*) INTO shards
      FROM pg_catalog.pg_foreign_server s, pg_catalog.pg_options_to_table(s.srvoptions) o
     WHERE s.srvname = 'billing_shards' AND o.option_name ~ '^p[0-9]+$';
    IF shards = 0 THEN
        RAISE EXCEPTION 'the router has no shards'
            USING ERRCODE = '55000',
                  HINT = 'CREATE SERVER billing_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping ''1'', '
                         'p0 ''host=... dbname=...'', ...); see docs/scaling.md.';
    END IF;
    RETURN shards;
END
$$;
COMMENT ON FUNCTION billing.shard_count() IS 'The number of shards (partitions of server billing_shards)';

-- Where a company that the map does not name is placed: a hash of its id.
CREATE FUNCTION billing.default_shard(company bigint) RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (pg_catalog.abs(pg_catalog.hashint8(company)::bigint) OPERATOR(pg_catalog.%) billing.shard_count())::integer
$$;
COMMENT ON FUNCTION billing.default_shard(bigint) IS 'The shard of a company the map does not name: hash of the id';

-- SECURITY DEFINER: every caller must route by the map, and no caller may read it (the list of
-- companies would be an existence oracle the shards do not offer). It returns a shard number
-- only; NULL (no company) goes to shard 0, which answers as a shard does without a company.
-- PL/pgSQL, as the other helpers every call runs: its plans are kept for the session (a SQL
-- function's are made again at every call).
CREATE FUNCTION billing.shard_of(company bigint) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mapped integer;
BEGIN
    IF company IS NULL THEN
        RETURN 0;
    END IF;
    SELECT s.shard INTO mapped FROM billing.company_shards s WHERE s.company_id OPERATOR(pg_catalog.=) company;
    RETURN COALESCE(mapped, billing.default_shard(company));
END
$$;
COMMENT ON FUNCTION billing.shard_of(bigint) IS 'The shard that holds a company';

-- The same for a call that writes: it waits while the company is being moved (move_company()
-- holds the lock in exclusive mode), then reads the map in a snapshot taken after the wait.
CREATE FUNCTION billing.shard_for_write(company bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF company IS NOT NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock_shared(1114989932, pg_catalog.hashint8(company));
    END IF;
    RETURN billing.shard_of(company);
END
$$;
COMMENT ON FUNCTION billing.shard_for_write(bigint) IS 'The shard of a company, after any move of it has ended';

-- company_billing's own check of billing.company_id: the value set with SET LOCAL in this
-- transaction, NULL when none, and 42501 for a session-level SET (the same C function the
-- shards use, so that the router refuses what a shard would).
CREATE FUNCTION billing.transaction_company_setting() RETURNS text
LANGUAGE C STABLE
AS '$libdir/company_billing', 'billing_transaction_company_setting';
COMMENT ON FUNCTION billing.transaction_company_setting() IS
    'billing.company_id as set with SET LOCAL in this transaction (company_billing''s check)';

-- A viewer: member of billing_viewer only (as company_billing decides; a shard checks again).
CREATE FUNCTION billing.is_viewer_role() RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.pg_has_role(CURRENT_USER, 'billing_viewer', 'MEMBER')
           AND NOT pg_catalog.pg_has_role(CURRENT_USER, 'billing_app', 'MEMBER')
           AND NOT pg_catalog.pg_has_role(CURRENT_USER, 'billing_admin', 'MEMBER');
END
$$;
COMMENT ON FUNCTION billing.is_viewer_role() IS 'The current role is a billing_viewer (and no app or admin)';

-- The company a call is routed by: a viewer's own, whatever it passes (its shard then refuses
-- another id exactly as a node does); else the one passed, or the transaction's (SET LOCAL);
-- else the fallback (the owner of the row an id names).
CREATE FUNCTION billing.routed_company(company bigint, fallback bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text;
BEGIN
    IF billing.is_viewer_role() THEN
        RETURN COALESCE((SELECT v.company_id FROM billing.viewer_companies v
                          WHERE v.role::pg_catalog.oid OPERATOR(pg_catalog.=)
                                (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)),
                        company, fallback);
    END IF;
    IF company IS NOT NULL THEN
        RETURN company;
    END IF;
    setting := billing.transaction_company_setting();
    RETURN COALESCE(CASE WHEN setting ~ '^[0-9]{1,18}$' THEN setting::bigint END, fallback);
END
$$;
COMMENT ON FUNCTION billing.routed_company(bigint, bigint) IS 'The company a call goes by';

-- What the shard's statement gets as billing.company_id: the transaction's value (a viewer's is
-- ignored by the shards anyway).
CREATE FUNCTION billing.forwarded_company_setting() RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF billing.is_viewer_role() THEN
        RETURN '';
    END IF;
    RETURN COALESCE(billing.transaction_company_setting(), '');
END
$$;
COMMENT ON FUNCTION billing.forwarded_company_setting() IS 'billing.company_id for the shard''s statement';
