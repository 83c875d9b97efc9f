-- Calls that also keep the router's maps: viewer mappings, API tokens, imports and removals.

CREATE FUNCTION billing.grant_company_access(role regrole, company bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Role OIDs differ between clusters: the shard gets the role's name.
    PERFORM billing_remote.grant_company_access(billing.shard_of(company), billing.forwarded_company_setting(),
                                                role::pg_catalog.text, company);
    INSERT INTO billing.viewer_companies AS v (role, company_id) VALUES (role, company)
        ON CONFLICT ON CONSTRAINT viewer_companies_pkey DO UPDATE SET company_id = EXCLUDED.company_id;
END
$$;
COMMENT ON FUNCTION billing.grant_company_access(regrole, bigint) IS
    'company_billing''s grant_company_access on the company''s shard, and the router''s viewer map';

CREATE FUNCTION billing.revoke_company_access(role regrole, company bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    revoked boolean;
BEGIN
    revoked := billing_remote.revoke_company_access(billing.shard_of(company), billing.forwarded_company_setting(),
                                                    role::pg_catalog.text, company);
    DELETE FROM billing.viewer_companies v
     WHERE v.role OPERATOR(pg_catalog.=) revoke_company_access.role AND v.company_id OPERATOR(pg_catalog.=) company;
    RETURN revoked;
END
$$;
COMMENT ON FUNCTION billing.revoke_company_access(regrole, bigint) IS
    'company_billing''s revoke_company_access on the company''s shard, and the router''s viewer map';

CREATE FUNCTION billing_remote.grant_company_access(shard integer, company_setting text, role text, company bigint)
RETURNS void
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.grant_company_access((SELECT $3::pg_catalog.text FROM pg_catalog.set_config('billing.company_id', $2, true)
                                          AS forwarded)::pg_catalog.regrole, $4::bigint) AS grant_company_access;
$$;
CREATE FUNCTION billing_remote.revoke_company_access(shard integer, company_setting text, role text, company bigint)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.revoke_company_access((SELECT $3::pg_catalog.text FROM pg_catalog.set_config('billing.company_id', $2, true)
                                           AS forwarded)::pg_catalog.regrole, $4::bigint) AS revoke_company_access;
$$;

-- SECURITY DEFINER: the gateway's role must route a token before it knows the company, and must
-- not read which token belongs to which company. Returns the company of the token's id, NULL for
-- a token the router did not create (shard 0 then answers 28000 as for any invalid token).
CREATE FUNCTION billing.token_company(token text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.company_id FROM billing.api_token_companies t
     WHERE t.token_id OPERATOR(pg_catalog.=)
           (SELECT CASE WHEN i ~ '^[0-9]{1,18}$' THEN i::bigint END FROM pg_catalog.split_part(token, '|', 1) AS i)
$$;
COMMENT ON FUNCTION billing.token_company(text) IS 'The company of an API token created through the router';

-- Where a rate limiter key's bucket lives: the gateway's key of an API token
-- ('api_token:<id>') on the shard of the token's company, so that a stopped shard stops only its
-- own companies' tokens; any other key on the shard of its hash.
CREATE FUNCTION billing.throttle_shard(key text) RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN key ~ '^api_token:[0-9]{1,18}$'
                THEN billing.shard_of(billing.token_company(pg_catalog.substr(key, 11)))
                ELSE (pg_catalog.abs(pg_catalog.hashtext(key)::bigint) OPERATOR(pg_catalog.%) billing.shard_count())::integer END
$$;
COMMENT ON FUNCTION billing.throttle_shard(text) IS 'The shard of a rate limiter key''s bucket';

CREATE FUNCTION billing.create_api_token(company bigint, name text, user_name text DEFAULT NULL::text,
                                         abilities text[] DEFAULT '{view_billing}'::text[],
                                         expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone,
                                         OUT token_id bigint, OUT token text)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT r.token_id, r.token INTO token_id, token
      FROM billing_remote.create_api_token(billing.shard_of(billing.routed_company(company)),
                                           billing.forwarded_company_setting(), company, name, user_name, abilities,
                                           expires_at) AS r;
    INSERT INTO billing.api_token_companies (token_id, company_id) VALUES (token_id, company);
END
$$;
COMMENT ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamptz) IS
    'company_billing''s create_api_token on the company''s shard, and the router''s token map';

CREATE FUNCTION billing.authenticate_token(token text, as_of timestamp with time zone DEFAULT now(),
                                           OUT token_id bigint, OUT company_id bigint, OUT user_name text,
                                           OUT abilities text[], OUT expires_at timestamp with time zone,
                                           OUT company_active boolean)
RETURNS record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.authenticate_token(billing.shard_of(billing.token_company(token)), '', token, as_of)
$$;
COMMENT ON FUNCTION billing.authenticate_token(text, timestamptz) IS
    'company_billing''s authenticate_token on the shard of the token''s company';

CREATE FUNCTION billing.revoke_api_token(token_id bigint, as_of timestamp with time zone DEFAULT now())
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.revoke_api_token(billing.shard_of(billing.token_company(token_id::pg_catalog.text)),
                                           billing.forwarded_company_setting(), token_id, as_of)
$$;
COMMENT ON FUNCTION billing.revoke_api_token(bigint, timestamptz) IS
    'company_billing''s revoke_api_token on the shard of the token''s company';

-- A company's rows (an export_company() document) stored on the shard the map names, or its
-- default shard for a new company, which the map then records (superusers, as on a shard).
CREATE FUNCTION billing.import_company(document jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company bigint := (document OPERATOR(pg_catalog.->>) 'company')::bigint;
    shard integer := billing.shard_for_write(company);
    stored bigint;
BEGIN
    stored := billing_remote.import_company(shard, billing.forwarded_company_setting(), document);
    INSERT INTO billing.company_shards (company_id, shard) VALUES (company, shard)
        ON CONFLICT ON CONSTRAINT company_shards_pkey DO NOTHING;
    INSERT INTO billing.viewer_companies (role, company_id)
    SELECT (v.row OPERATOR(pg_catalog.->>) 'role')::pg_catalog.regrole, company
      FROM pg_catalog.jsonb_array_elements(COALESCE(document OPERATOR(pg_catalog.->) 'viewer_companies', '[]')) AS v(row)
        ON CONFLICT ON CONSTRAINT viewer_companies_pkey DO UPDATE SET company_id = EXCLUDED.company_id;
    INSERT INTO billing.api_token_companies (token_id, company_id)
    SELECT (t.row OPERATOR(pg_catalog.->>) 'id')::bigint, company
      FROM pg_catalog.jsonb_array_elements(COALESCE(document OPERATOR(pg_catalog.->) 'api_tokens', '[]')) AS t(row)
        ON CONFLICT ON CONSTRAINT api_token_companies_pkey DO NOTHING;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION billing.import_company(jsonb) IS
    'company_billing''s import_company on the company''s shard; the router''s maps learn the company';

CREATE FUNCTION billing.remove_company(company bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    removed := billing_remote.remove_company(billing.shard_for_write(company), billing.forwarded_company_setting(), company);
    DELETE FROM billing.company_shards s WHERE s.company_id OPERATOR(pg_catalog.=) company;
    DELETE FROM billing.viewer_companies v WHERE v.company_id OPERATOR(pg_catalog.=) company;
    DELETE FROM billing.api_token_companies t WHERE t.company_id OPERATOR(pg_catalog.=) company;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION billing.remove_company(bigint) IS
    'company_billing''s remove_company on the company''s shard; the router forgets the company';

-- One row for the router, from every shard: the library is preloaded and the audit is on where
-- it is on every shard; the counters are the shards' sums.
CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint, OUT audit_written bigint,
                                       OUT audit_dropped bigint, OUT rate_limit_keys bigint,
                                       OUT viewer_rate_limit_keys bigint, OUT token_failures bigint)
RETURNS record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.bool_and(s.preloaded), pg_catalog.string_agg(DISTINCT s.audit, ','),
           pg_catalog.string_agg(DISTINCT s.audit_database, ','), NULL::integer,
           pg_catalog.sum(s.audit_queued)::bigint, pg_catalog.sum(s.audit_written)::bigint,
           pg_catalog.sum(s.audit_dropped)::bigint, pg_catalog.sum(s.rate_limit_keys)::bigint,
           pg_catalog.sum(s.viewer_rate_limit_keys)::bigint, pg_catalog.sum(s.token_failures)::bigint
      FROM billing_remote.runtime_status_all(billing.forwarded_company_setting()) AS s
$$;
COMMENT ON FUNCTION billing.runtime_status() IS 'company_billing''s runtime_status of every shard, in one row';

-- The report over all companies: every shard's periods (administrators see all; a viewer its
-- company's; the application, whose company a view cannot pass on, reads its periods through
-- the API functions).
CREATE VIEW billing.period_usage AS SELECT * FROM billing_remote.period_usage_all();
COMMENT ON VIEW billing.period_usage IS 'company_billing''s billing.period_usage of every shard';

-- The companies each shard holds, into the map (for companies created on the shards).
CREATE FUNCTION billing_remote.shard_companies(shard integer) RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT c.id AS shard_companies FROM billing.companies AS c;
$$;
CREATE FUNCTION billing.map_shard_companies() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mapped bigint := 0;
    written bigint;
    misplaced bigint;
BEGIN
    FOR shard_number IN 0..billing.shard_count() OPERATOR(pg_catalog.-) 1 LOOP
        SELECT c INTO misplaced FROM billing_remote.shard_companies(shard_number) AS c
          JOIN billing.company_shards s ON s.company_id OPERATOR(pg_catalog.=) c
         WHERE s.shard OPERATOR(pg_catalog.<>) shard_number LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'company % is on shard % but the map says shard %', misplaced, shard_number,
                (SELECT s.shard FROM billing.company_shards s WHERE s.company_id OPERATOR(pg_catalog.=) misplaced)
                USING ERRCODE = '55000', HINT = 'A company lives on one shard: remove one of its copies.';
        END IF;
        INSERT INTO billing.company_shards (company_id, shard)
        SELECT c, shard_number FROM billing_remote.shard_companies(shard_number) AS c
            ON CONFLICT ON CONSTRAINT company_shards_pkey DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        mapped := mapped OPERATOR(pg_catalog.+) written;
    END LOOP;
    RETURN mapped;
END
$$;
COMMENT ON FUNCTION billing.map_shard_companies() IS 'Records in the map every company the shards hold; returns how many were new';

-- Each shard's ids in a range of its own (shard n: from n * 10^15), so that rows keep their ids
-- when their company moves and an id names one row on all shards (the id routes look it up).
CREATE FUNCTION billing_remote.reserve_ids(shard integer, base bigint) RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT pg_catalog.count(pg_catalog.setval(c.oid::pg_catalog.regclass,
                                              GREATEST(COALESCE(pg_catalog.pg_sequence_last_value(c.oid), 1), $2)))
           AS reserve_ids
      FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
     WHERE n.nspname OPERATOR(pg_catalog.=) 'billing' AND c.relkind OPERATOR(pg_catalog.=) 'S';
$$;
CREATE FUNCTION billing.reserve_shard_ids() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sequences bigint := 0;
BEGIN
    FOR shard IN 0..billing.shard_count() OPERATOR(pg_catalog.-) 1 LOOP
        sequences := sequences OPERATOR(pg_catalog.+)
                     billing_remote.reserve_ids(shard, GREATEST(shard::bigint OPERATOR(pg_catalog.*) 1000000000000000, 1));
    END LOOP;
    RETURN sequences;
END
$$;
COMMENT ON FUNCTION billing.reserve_shard_ids() IS 'Gives shard n the ids from n * 10^15 (run once at setup)';

-- Moves one company to another shard with every row (export_company, import_company,
-- remove_company). Writes through the router wait until the move is over; reads go to the old
-- shard until the map changes (a commit in the middle), then to the new one. A procedure
-- because of that commit, hence no SET clause: it pins search_path itself.
CREATE PROCEDURE billing.move_company(company bigint, to_shard integer)
LANGUAGE plpgsql
AS $$
DECLARE
    from_shard integer;
    document jsonb;
    moved bigint;
    removed boolean := true;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF to_shard IS NULL OR to_shard < 0 OR to_shard >= billing.shard_count() THEN
        RAISE EXCEPTION 'shard % does not exist (the router has shards 0 to %)', to_shard,
            billing.shard_count() OPERATOR(pg_catalog.-) 1 USING ERRCODE = '22023';
    END IF;
    PERFORM pg_catalog.pg_advisory_lock(1114989932, pg_catalog.hashint8(company));
    BEGIN
        from_shard := billing.shard_of(company);
        IF from_shard OPERATOR(pg_catalog.=) to_shard THEN
            RAISE EXCEPTION 'company % is on shard % already', company, to_shard USING ERRCODE = '22023';
        END IF;
        document := billing_remote.export_company(from_shard, '', company);
        moved := billing_remote.import_company(to_shard, '', document);
        INSERT INTO billing.company_shards AS s (company_id, shard) VALUES (company, to_shard)
            ON CONFLICT ON CONSTRAINT company_shards_pkey DO UPDATE SET shard = EXCLUDED.shard, placed_at = pg_catalog.now();
    EXCEPTION WHEN OTHERS THEN
        PERFORM pg_catalog.pg_advisory_unlock(1114989932, pg_catalog.hashint8(company));
        RAISE;
    END;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        PERFORM billing_remote.remove_company(from_shard, '', company);
    EXCEPTION WHEN OTHERS THEN
        removed := false;
        RAISE WARNING 'company % is on shard % now, but its old copy on shard % was not removed: %', company, to_shard,
            from_shard, SQLERRM
            USING HINT = pg_catalog.format('SELECT billing_remote.remove_company(%s, '''', %s) removes it.', from_shard, company);
    END;
    INSERT INTO billing.company_moves (company_id, from_shard, to_shard, rows_moved, source_removed)
    VALUES (company, from_shard, to_shard, moved, removed);
    COMMIT;
    PERFORM pg_catalog.pg_advisory_unlock(1114989932, pg_catalog.hashint8(company));
END
$$;
COMMENT ON PROCEDURE billing.move_company(bigint, integer) IS
    'Moves a company with every row to another shard (superusers; CALL outside a transaction block)';

-- Privileges: as on a shard. Nothing for PUBLIC but the schemas' names; each routed function
-- (and its PL/Proxy function) for the roles that may call it on a shard; the routing helpers for
-- every group role; the maps for administrators (company_shards only through the functions).
ALTER TABLE billing.viewer_companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.viewer_companies FORCE ROW LEVEL SECURITY;
CREATE POLICY viewer_companies_admin ON billing.viewer_companies TO billing_admin USING (true) WITH CHECK (true);
CREATE POLICY viewer_companies_own ON billing.viewer_companies FOR SELECT TO billing_viewer
    USING (role::pg_catalog.oid OPERATOR(pg_catalog.=)
           (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER));
-- The application reads none of its rows (no policy); it needs the privilege because routing
-- names the table for every caller.
GRANT SELECT ON billing.viewer_companies TO billing_viewer, billing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON billing.viewer_companies, billing.api_token_companies TO billing_admin;
GRANT SELECT ON billing.company_moves TO billing_admin;
GRANT SELECT ON billing.period_usage TO billing_viewer, billing_app, billing_admin;
