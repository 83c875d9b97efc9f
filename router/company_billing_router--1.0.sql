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
-- The three group roles (docs/design.md, "Security model"). Roles belong to the cluster, not to a database:
-- they are created when absent and left alone when present, provided they are still what this
-- extension expects (NOLOGIN, no superuser, no BYPASSRLS).
DO $$
DECLARE
    role_name text;
    existing record;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['billing_viewer', 'billing_app', 'billing_admin'] LOOP
        SELECT r.rolcanlogin, r.rolsuper, r.rolbypassrls INTO existing
          FROM pg_catalog.pg_roles r WHERE r.rolname = role_name;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        ELSIF existing.rolcanlogin OR existing.rolsuper OR existing.rolbypassrls THEN
            RAISE EXCEPTION 'role % exists but is not a NOLOGIN group role without superuser or BYPASSRLS', role_name
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END LOOP;
END
$$;

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


-- Row types of the API (generated).

CREATE TYPE billing.invoices AS (
    id bigint,
    company_id bigint,
    billing_period_id bigint,
    number text,
    issued_at timestamp with time zone,
    due_date date,
    currency text,
    total numeric,
    status text,
    status_changed_at timestamp with time zone,
    pdf_url text
);

COMMENT ON TYPE billing.invoices IS 'The row of company_billing''s table billing.invoices, as the API returns it';

CREATE TYPE billing.pricing_plans AS (
    id bigint,
    company_id bigint,
    pricing_model text,
    base_fee numeric,
    included_minutes numeric,
    overage_per_minute numeric,
    per_minute_rate numeric,
    per_appointment_rate numeric,
    package_minutes numeric,
    package_appointments numeric,
    overage_per_appointment numeric,
    valid_from date,
    valid_until date,
    created_at timestamp with time zone
);

COMMENT ON TYPE billing.pricing_plans IS 'The row of company_billing''s table billing.pricing_plans, as the API returns it';


-- Who holds a row, for the id routes (generated).

CREATE FUNCTION billing_remote.invoice_owner(id bigint)
RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT t.company_id AS invoice_owner FROM billing.invoices AS t WHERE t.id OPERATOR(pg_catalog.=) $1;
$$;

CREATE FUNCTION billing_remote.payment_method_owner(id bigint)
RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT t.company_id AS payment_method_owner FROM billing.payment_methods AS t WHERE t.id OPERATOR(pg_catalog.=) $1;
$$;

CREATE FUNCTION billing_remote.period_owner(id bigint)
RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT t.company_id AS period_owner FROM billing.billing_periods AS t WHERE t.id OPERATOR(pg_catalog.=) $1;
$$;

CREATE FUNCTION billing_remote.webhook_delivery_owner(id bigint)
RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT t.company_id AS webhook_delivery_owner FROM billing.webhook_deliveries AS t WHERE t.id OPERATOR(pg_catalog.=) $1;
$$;


-- The API, routed (generated by router/generate.py from the extension's catalog).

CREATE FUNCTION billing_remote.archive_calls_all(company_setting text, before date)
RETURNS TABLE(company_id bigint, calls bigint, appointments bigint)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.archive_calls((SELECT $2::date FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.archive_calls(before date)
RETURNS TABLE(company_id bigint, calls bigint, appointments bigint)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM billing_remote.archive_calls_all(billing.forwarded_company_setting(), before) AS r ORDER BY r.company_id
$$;

COMMENT ON FUNCTION billing.archive_calls(date) IS 'company_billing''s billing.archive_calls on the shard every shard, rows merged';

CREATE FUNCTION billing_remote.audit_flush_wait_all(company_setting text, timeout interval)
RETURNS SETOF boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT billing.audit_flush_wait((SELECT $2::interval FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS audit_flush_wait;
$$;

CREATE FUNCTION billing.audit_flush_wait(timeout interval DEFAULT '00:00:10'::interval)
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.bool_and(n) FROM billing_remote.audit_flush_wait_all(billing.forwarded_company_setting(), timeout) AS n
$$;

COMMENT ON FUNCTION billing.audit_flush_wait(interval) IS 'company_billing''s billing.audit_flush_wait on the shard every shard';

CREATE FUNCTION billing_remote.authenticate_token(shard integer, company_setting text, token text, as_of timestamp with time zone, OUT token_id bigint, OUT company_id bigint, OUT user_name text, OUT abilities text[], OUT expires_at timestamp with time zone, OUT company_active boolean)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.authenticate_token((SELECT $3::text FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing_remote.billing_history(shard integer, company_setting text, company bigint)
RETURNS TABLE(invoice_id bigint, number text, period_start date, period_end date, issued_at timestamp with time zone, total numeric, currency text, status text, pdf_url text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.billing_history((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.billing_history(company bigint DEFAULT NULL::bigint)
RETURNS TABLE(invoice_id bigint, number text, period_start date, period_end date, issued_at timestamp with time zone, total numeric, currency text, status text, pdf_url text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.billing_history(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company)
$$;

COMMENT ON FUNCTION billing.billing_history(bigint) IS 'company_billing''s billing.billing_history on the shard of the company';

CREATE FUNCTION billing_remote.budget_status(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.budget_status((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS budget_status;
$$;

CREATE FUNCTION billing.budget_status(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.budget_status(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.budget_status(bigint, timestamp with time zone) IS 'company_billing''s billing.budget_status on the shard of the company';

CREATE FUNCTION billing_remote.can_consume(shard integer, company_setting text, company bigint, minutes numeric, as_of timestamp with time zone, OUT allowed boolean, OUT reason text, OUT marginal_cost numeric, OUT total_after numeric, OUT minutes_left numeric, OUT amount_left numeric, OUT currency text)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.can_consume((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::numeric, $5::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.can_consume(company bigint, minutes numeric, as_of timestamp with time zone DEFAULT now(), OUT allowed boolean, OUT reason text, OUT marginal_cost numeric, OUT total_after numeric, OUT minutes_left numeric, OUT amount_left numeric, OUT currency text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.can_consume(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, minutes, as_of)
$$;

COMMENT ON FUNCTION billing.can_consume(bigint, numeric, timestamp with time zone) IS 'company_billing''s billing.can_consume on the shard of the company';

CREATE FUNCTION billing_remote.close_ended_periods_all(company_setting text, as_of timestamp with time zone)
RETURNS TABLE(period_id bigint, company_id bigint, start_date date, end_date date, status text, invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text, error_message text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.close_ended_periods((SELECT $2::timestamp with time zone FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.close_ended_periods(as_of timestamp with time zone DEFAULT now())
RETURNS TABLE(period_id bigint, company_id bigint, start_date date, end_date date, status text, invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text, error_message text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM billing_remote.close_ended_periods_all(billing.forwarded_company_setting(), as_of) AS r ORDER BY r.start_date, r.company_id, r.period_id
$$;

COMMENT ON FUNCTION billing.close_ended_periods(timestamp with time zone) IS 'company_billing''s billing.close_ended_periods on the shard every shard, rows merged';

CREATE FUNCTION billing_remote.close_period(shard integer, company_setting text, period bigint, as_of timestamp with time zone)
RETURNS billing.invoices
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.close_period((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.close_period(period bigint, as_of timestamp with time zone DEFAULT now())
RETURNS billing.invoices
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.close_period(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.period_owner(period) AS o LIMIT 1))), billing.forwarded_company_setting(), period, as_of)
$$;

COMMENT ON FUNCTION billing.close_period(bigint, timestamp with time zone) IS 'company_billing''s billing.close_period on the shard that holds the row';

CREATE FUNCTION billing_remote.company_alerts(shard integer, company_setting text, company bigint, max_rows integer)
RETURNS TABLE(id bigint, period_start date, period_end date, kind text, threshold numeric, state text, value numeric, fired_at timestamp with time zone, resolved_at timestamp with time zone, times_fired integer)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.company_alerts((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::integer) AS r;
$$;

CREATE FUNCTION billing.company_alerts(company bigint DEFAULT NULL::bigint, max_rows integer DEFAULT 20)
RETURNS TABLE(id bigint, period_start date, period_end date, kind text, threshold numeric, state text, value numeric, fired_at timestamp with time zone, resolved_at timestamp with time zone, times_fired integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.company_alerts(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, max_rows)
$$;

COMMENT ON FUNCTION billing.company_alerts(bigint, integer) IS 'company_billing''s billing.company_alerts on the shard of the company';

CREATE FUNCTION billing_remote.company_payment_methods(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS TABLE(id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean, provider text, provider_reference text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.company_payment_methods((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.company_payment_methods(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS TABLE(id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean, provider text, provider_reference text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.company_payment_methods(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.company_payment_methods(bigint, timestamp with time zone) IS 'company_billing''s billing.company_payment_methods on the shard of the company';

CREATE FUNCTION billing_remote.compare_plans(shard integer, company_setting text, company bigint, periods integer, as_of timestamp with time zone, OUT plan_id bigint, OUT name text, OUT pricing_model text, OUT is_current boolean, OUT periods_priced integer, OUT total numeric, OUT saving numeric, OUT currency text)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.compare_plans((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::integer, $5::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.compare_plans(company bigint DEFAULT NULL::bigint, periods integer DEFAULT 6, as_of timestamp with time zone DEFAULT now(), OUT plan_id bigint, OUT name text, OUT pricing_model text, OUT is_current boolean, OUT periods_priced integer, OUT total numeric, OUT saving numeric, OUT currency text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.compare_plans(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, periods, as_of)
$$;

COMMENT ON FUNCTION billing.compare_plans(bigint, integer, timestamp with time zone) IS 'company_billing''s billing.compare_plans on the shard of the company';

CREATE FUNCTION billing_remote.create_api_token(shard integer, company_setting text, company bigint, name text, user_name text, abilities text[], expires_at timestamp with time zone, OUT token_id bigint, OUT token text)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.create_api_token((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text, $5::text, $6::text[], $7::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing_remote.current_company(shard integer, company_setting text)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.current_company() AS current_company FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded;
$$;

CREATE FUNCTION billing.current_company()
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.current_company(billing.shard_of(billing.routed_company(NULL::bigint)), billing.forwarded_company_setting())
$$;

COMMENT ON FUNCTION billing.current_company() IS 'company_billing''s billing.current_company on the shard of the company';

CREATE FUNCTION billing_remote.diagnose(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS TABLE("check" text, ok boolean, detail text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.diagnose((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.diagnose(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS TABLE("check" text, ok boolean, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.diagnose(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.diagnose(bigint, timestamp with time zone) IS 'company_billing''s billing.diagnose on the shard of the company';

CREATE FUNCTION billing_remote.due_webhooks_all(company_setting text, max_rows integer, as_of timestamp with time zone)
RETURNS TABLE(delivery_id bigint, event_id bigint, company_id bigint, url text, secret text, body text, attempts integer)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.due_webhooks((SELECT $2::integer FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded), $3::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.due_webhooks(max_rows integer DEFAULT 50, as_of timestamp with time zone DEFAULT now())
RETURNS TABLE(delivery_id bigint, event_id bigint, company_id bigint, url text, secret text, body text, attempts integer)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM billing_remote.due_webhooks_all(billing.forwarded_company_setting(), max_rows, as_of) AS r ORDER BY r.delivery_id LIMIT max_rows
$$;

COMMENT ON FUNCTION billing.due_webhooks(integer, timestamp with time zone) IS 'company_billing''s billing.due_webhooks on the shard every shard, rows merged';

CREATE FUNCTION billing_remote.ensure_periods_all(company_setting text, as_of timestamp with time zone)
RETURNS SETOF integer
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT billing.ensure_periods((SELECT $2::timestamp with time zone FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS ensure_periods;
$$;

CREATE FUNCTION billing.ensure_periods(as_of timestamp with time zone DEFAULT now())
RETURNS integer
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sum(n)::integer FROM billing_remote.ensure_periods_all(billing.forwarded_company_setting(), as_of) AS n
$$;

COMMENT ON FUNCTION billing.ensure_periods(timestamp with time zone) IS 'company_billing''s billing.ensure_periods on the shard every shard, summed';

CREATE FUNCTION billing_remote.evaluate_alerts(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS void
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.evaluate_alerts((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS evaluate_alerts;
$$;

CREATE FUNCTION billing.evaluate_alerts(company bigint, as_of timestamp with time zone DEFAULT now())
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.evaluate_alerts(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.evaluate_alerts(bigint, timestamp with time zone) IS 'company_billing''s billing.evaluate_alerts on the shard of the company';

CREATE FUNCTION billing_remote.export_company(shard integer, company_setting text, company bigint)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.export_company((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS export_company;
$$;

CREATE FUNCTION billing.export_company(company bigint)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.export_company(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company)
$$;

COMMENT ON FUNCTION billing.export_company(bigint) IS 'company_billing''s billing.export_company on the shard of the company';

CREATE FUNCTION billing_remote.import_company(shard integer, company_setting text, document jsonb)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.import_company((SELECT $3::jsonb FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS import_company;
$$;

CREATE FUNCTION billing_remote.mark_invoice(shard integer, company_setting text, invoice bigint, status text, pdf_url text, as_of timestamp with time zone)
RETURNS billing.invoices
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.mark_invoice((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text, $5::text, $6::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.mark_invoice(invoice bigint, status text, pdf_url text DEFAULT NULL::text, as_of timestamp with time zone DEFAULT now())
RETURNS billing.invoices
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.mark_invoice(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.invoice_owner(invoice) AS o LIMIT 1))), billing.forwarded_company_setting(), invoice, status, pdf_url, as_of)
$$;

COMMENT ON FUNCTION billing.mark_invoice(bigint, text, text, timestamp with time zone) IS 'company_billing''s billing.mark_invoice on the shard that holds the row';

CREATE FUNCTION billing_remote.period_csv(shard integer, company_setting text, period bigint, granularity text)
RETURNS text
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.period_csv((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text) AS period_csv;
$$;

CREATE FUNCTION billing.period_csv(period bigint, granularity text DEFAULT 'call'::text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.period_csv(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.period_owner(period) AS o LIMIT 1))), billing.forwarded_company_setting(), period, granularity)
$$;

COMMENT ON FUNCTION billing.period_csv(bigint, text) IS 'company_billing''s billing.period_csv on the shard that holds the row';

CREATE FUNCTION billing_remote.period_csv_lines(shard integer, company_setting text, period bigint, granularity text)
RETURNS SETOF text
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.period_csv_lines((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text) AS r;
$$;

CREATE FUNCTION billing.period_csv_lines(period bigint, granularity text DEFAULT 'call'::text)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.period_csv_lines(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.period_owner(period) AS o LIMIT 1))), billing.forwarded_company_setting(), period, granularity)
$$;

COMMENT ON FUNCTION billing.period_csv_lines(bigint, text) IS 'company_billing''s billing.period_csv_lines on the shard that holds the row';

CREATE FUNCTION billing_remote.period_detail(shard integer, company_setting text, period bigint)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.period_detail((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS period_detail;
$$;

CREATE FUNCTION billing.period_detail(period bigint)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.period_detail(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.period_owner(period) AS o LIMIT 1))), billing.forwarded_company_setting(), period)
$$;

COMMENT ON FUNCTION billing.period_detail(bigint) IS 'company_billing''s billing.period_detail on the shard that holds the row';

CREATE FUNCTION billing_remote.period_for(shard integer, company_setting text, company bigint, day date, OUT period_id bigint, OUT start_date date, OUT end_date date, OUT status text)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.period_for((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::date) AS r;
$$;

CREATE FUNCTION billing.period_for(company bigint, day date, OUT period_id bigint, OUT start_date date, OUT end_date date, OUT status text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.period_for(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, day)
$$;

COMMENT ON FUNCTION billing.period_for(bigint, date) IS 'company_billing''s billing.period_for on the shard of the company';

CREATE FUNCTION billing_remote.period_totals(shard integer, company_setting text, company bigint, start_date date, end_date date, as_of timestamp with time zone, OUT calls bigint, OUT completed_calls bigint, OUT seconds bigint, OUT appointments bigint)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.period_totals((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::date, $5::date, $6::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.period_totals(company bigint, start_date date, end_date date, as_of timestamp with time zone DEFAULT 'infinity'::timestamp with time zone, OUT calls bigint, OUT completed_calls bigint, OUT seconds bigint, OUT appointments bigint)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.period_totals(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, start_date, end_date, as_of)
$$;

COMMENT ON FUNCTION billing.period_totals(bigint, date, date, timestamp with time zone) IS 'company_billing''s billing.period_totals on the shard of the company';

CREATE FUNCTION billing_remote.plan_for_period(shard integer, company_setting text, company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.plan_for_period((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::date, $5::date) AS r;
$$;

CREATE FUNCTION billing.plan_for_period(company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.plan_for_period(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, first_day, last_day)
$$;

COMMENT ON FUNCTION billing.plan_for_period(bigint, date, date) IS 'company_billing''s billing.plan_for_period on the shard of the company';

CREATE FUNCTION billing_remote.raw_usage_daily(shard integer, company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, calls bigint, completed_calls bigint, seconds bigint, appointments bigint, last_call_at timestamp with time zone, last_appointment_at timestamp with time zone)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.raw_usage_daily((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing_remote.raw_usage_daily_all(company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, calls bigint, completed_calls bigint, seconds bigint, appointments bigint, last_call_at timestamp with time zone, last_appointment_at timestamp with time zone)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.raw_usage_daily((SELECT $2::bigint FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.raw_usage_daily(company bigint)
RETURNS TABLE(company_id bigint, day date, calls bigint, completed_calls bigint, seconds bigint, appointments bigint, last_call_at timestamp with time zone, last_appointment_at timestamp with time zone)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.raw_usage_daily(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company) WHERE company IS NOT NULL
    UNION ALL
    SELECT * FROM billing_remote.raw_usage_daily_all(billing.forwarded_company_setting(), company) WHERE company IS NULL
$$;

COMMENT ON FUNCTION billing.raw_usage_daily(bigint) IS 'company_billing''s billing.raw_usage_daily on the shard of the company (NULL: every shard)';

CREATE FUNCTION billing_remote.raw_usage_profile(shard integer, company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, calls_by_hour bigint[], seconds_by_hour bigint[], completed_by_length bigint[], completed_seconds bigint)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.raw_usage_profile((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing_remote.raw_usage_profile_all(company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, calls_by_hour bigint[], seconds_by_hour bigint[], completed_by_length bigint[], completed_seconds bigint)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.raw_usage_profile((SELECT $2::bigint FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.raw_usage_profile(company bigint)
RETURNS TABLE(company_id bigint, day date, calls_by_hour bigint[], seconds_by_hour bigint[], completed_by_length bigint[], completed_seconds bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.raw_usage_profile(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company) WHERE company IS NOT NULL
    UNION ALL
    SELECT * FROM billing_remote.raw_usage_profile_all(billing.forwarded_company_setting(), company) WHERE company IS NULL
$$;

COMMENT ON FUNCTION billing.raw_usage_profile(bigint) IS 'company_billing''s billing.raw_usage_profile on the shard of the company (NULL: every shard)';

CREATE FUNCTION billing_remote.rebuild_usage_daily(shard integer, company_setting text, company bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.rebuild_usage_daily((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS rebuild_usage_daily;
$$;

CREATE FUNCTION billing_remote.rebuild_usage_daily_all(company_setting text, company bigint)
RETURNS SETOF bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT billing.rebuild_usage_daily((SELECT $2::bigint FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS rebuild_usage_daily;
$$;

CREATE FUNCTION billing.rebuild_usage_daily(company bigint DEFAULT NULL::bigint)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN company IS NOT NULL THEN billing_remote.rebuild_usage_daily(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company)
                ELSE (SELECT pg_catalog.sum(n)::bigint FROM billing_remote.rebuild_usage_daily_all(billing.forwarded_company_setting(), company) AS n) END
$$;

COMMENT ON FUNCTION billing.rebuild_usage_daily(bigint) IS 'company_billing''s billing.rebuild_usage_daily on the shard of the company (NULL: every shard)';

CREATE FUNCTION billing_remote.record_appointment(shard integer, company_setting text, company bigint, external_id text, booked_at timestamp with time zone, status text, call_external_id text)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.record_appointment((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text, $5::timestamp with time zone, $6::text, $7::text) AS record_appointment;
$$;

CREATE FUNCTION billing.record_appointment(company bigint, external_id text, booked_at timestamp with time zone, status text DEFAULT 'booked'::text, call_external_id text DEFAULT NULL::text)
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.record_appointment(billing.shard_for_write(billing.routed_company(company)), billing.forwarded_company_setting(), company, external_id, booked_at, status, call_external_id)
$$;

COMMENT ON FUNCTION billing.record_appointment(bigint, text, timestamp with time zone, text, text) IS 'company_billing''s billing.record_appointment on the shard of the company';

CREATE FUNCTION billing_remote.record_call(shard integer, company_setting text, company bigint, external_id text, started_at timestamp with time zone, duration_sec integer, status text)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.record_call((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text, $5::timestamp with time zone, $6::integer, $7::text) AS record_call;
$$;

CREATE FUNCTION billing.record_call(company bigint, external_id text, started_at timestamp with time zone, duration_sec integer, status text DEFAULT 'completed'::text)
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.record_call(billing.shard_for_write(billing.routed_company(company)), billing.forwarded_company_setting(), company, external_id, started_at, duration_sec, status)
$$;

COMMENT ON FUNCTION billing.record_call(bigint, text, timestamp with time zone, integer, text) IS 'company_billing''s billing.record_call on the shard of the company';

CREATE FUNCTION billing_remote.record_calls(shard integer, company_setting text, company bigint, external_ids text[], started_ats timestamp with time zone[], durations integer[], statuses text[])
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.record_calls((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::text[], $5::timestamp with time zone[], $6::integer[], $7::text[]) AS record_calls;
$$;

CREATE FUNCTION billing.record_calls(company bigint, external_ids text[], started_ats timestamp with time zone[], durations integer[], statuses text[] DEFAULT NULL::text[])
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.record_calls(billing.shard_for_write(billing.routed_company(company)), billing.forwarded_company_setting(), company, external_ids, started_ats, durations, statuses)
$$;

COMMENT ON FUNCTION billing.record_calls(bigint, text[], timestamp with time zone[], integer[], text[]) IS 'company_billing''s billing.record_calls on the shard of the company';

CREATE FUNCTION billing_remote.remove_company(shard integer, company_setting text, company bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.remove_company((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS remove_company;
$$;

CREATE FUNCTION billing_remote.resolve_company(shard integer, company_setting text, company bigint)
RETURNS bigint
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.resolve_company((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS resolve_company;
$$;

CREATE FUNCTION billing.resolve_company(company bigint)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.resolve_company(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company)
$$;

COMMENT ON FUNCTION billing.resolve_company(bigint) IS 'company_billing''s billing.resolve_company on the shard of the company';

CREATE FUNCTION billing_remote.revoke_api_token(shard integer, company_setting text, token_id bigint, as_of timestamp with time zone)
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.revoke_api_token((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS revoke_api_token;
$$;

CREATE FUNCTION billing_remote.runtime_status_all(company_setting text, OUT preloaded boolean, OUT audit text, OUT audit_database text, OUT audit_writer_pid integer, OUT audit_queued bigint, OUT audit_written bigint, OUT audit_dropped bigint, OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint, OUT token_failures bigint)
RETURNS SETOF record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded, billing.runtime_status() AS r;
$$;

CREATE FUNCTION billing_remote.set_default_payment_method(shard integer, company_setting text, method bigint)
RETURNS void
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.set_default_payment_method((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS set_default_payment_method;
$$;

CREATE FUNCTION billing.set_default_payment_method(method bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.set_default_payment_method(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.payment_method_owner(method) AS o LIMIT 1))), billing.forwarded_company_setting(), method)
$$;

COMMENT ON FUNCTION billing.set_default_payment_method(bigint) IS 'company_billing''s billing.set_default_payment_method on the shard that holds the row';

CREATE FUNCTION billing.throttle(key text, per_minute integer, as_of timestamp with time zone DEFAULT now())
RETURNS boolean
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON billing.throttle_shard(key);
$$;

COMMENT ON FUNCTION billing.throttle(text, integer, timestamp with time zone) IS 'company_billing''s billing.throttle on the shard of the key (billing.throttle_shard)';

CREATE FUNCTION billing.throttle_detail(key text, per_minute integer, as_of timestamp with time zone DEFAULT now(), OUT admitted boolean, OUT remaining integer, OUT retry_after_seconds integer)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON billing.throttle_shard(key);
$$;

COMMENT ON FUNCTION billing.throttle_detail(text, integer, timestamp with time zone) IS 'company_billing''s billing.throttle_detail on the shard of the key (billing.throttle_shard)';

CREATE FUNCTION billing_remote.upcoming_charges(shard integer, company_setting text, company bigint, as_of timestamp with time zone, OUT renewal_date date, OUT next_base_fee numeric, OUT projected_minutes_cost numeric, OUT projected_appointments_cost numeric, OUT projected_total numeric, OUT currency text)
RETURNS record
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.upcoming_charges((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.upcoming_charges(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now(), OUT renewal_date date, OUT next_base_fee numeric, OUT projected_minutes_cost numeric, OUT projected_appointments_cost numeric, OUT projected_total numeric, OUT currency text)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.upcoming_charges(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.upcoming_charges(bigint, timestamp with time zone) IS 'company_billing''s billing.upcoming_charges on the shard of the company';

CREATE FUNCTION billing_remote.usage_analytics(shard integer, company_setting text, company bigint, from_day date, to_day date, as_of timestamp with time zone)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.usage_analytics((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::date, $5::date, $6::timestamp with time zone) AS usage_analytics;
$$;

CREATE FUNCTION billing.usage_analytics(company bigint DEFAULT NULL::bigint, from_day date DEFAULT NULL::date, to_day date DEFAULT NULL::date, as_of timestamp with time zone DEFAULT now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.usage_analytics(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, from_day, to_day, as_of)
$$;

COMMENT ON FUNCTION billing.usage_analytics(bigint, date, date, timestamp with time zone) IS 'company_billing''s billing.usage_analytics on the shard of the company';

CREATE FUNCTION billing_remote.usage_anomalies(shard integer, company_setting text, company bigint, days integer, as_of timestamp with time zone)
RETURNS TABLE(day date, weekday integer, minutes numeric, baseline numeric, scale numeric, score numeric, kind text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.usage_anomalies((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::integer, $5::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.usage_anomalies(company bigint DEFAULT NULL::bigint, days integer DEFAULT 28, as_of timestamp with time zone DEFAULT now())
RETURNS TABLE(day date, weekday integer, minutes numeric, baseline numeric, scale numeric, score numeric, kind text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.usage_anomalies(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, days, as_of)
$$;

COMMENT ON FUNCTION billing.usage_anomalies(bigint, integer, timestamp with time zone) IS 'company_billing''s billing.usage_anomalies on the shard of the company';

CREATE FUNCTION billing_remote.usage_current(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.usage_current((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS usage_current;
$$;

CREATE FUNCTION billing.usage_current(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.usage_current(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.usage_current(bigint, timestamp with time zone) IS 'company_billing''s billing.usage_current on the shard of the company';

CREATE FUNCTION billing_remote.usage_forecast(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.usage_forecast((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS usage_forecast;
$$;

CREATE FUNCTION billing.usage_forecast(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.usage_forecast(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.usage_forecast(bigint, timestamp with time zone) IS 'company_billing''s billing.usage_forecast on the shard of the company';

CREATE FUNCTION billing_remote.usage_projection(shard integer, company_setting text, company bigint, as_of timestamp with time zone)
RETURNS jsonb
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.usage_projection((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::timestamp with time zone) AS usage_projection;
$$;

CREATE FUNCTION billing.usage_projection(company bigint DEFAULT NULL::bigint, as_of timestamp with time zone DEFAULT now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.usage_projection(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, as_of)
$$;

COMMENT ON FUNCTION billing.usage_projection(bigint, timestamp with time zone) IS 'company_billing''s billing.usage_projection on the shard of the company';

CREATE FUNCTION billing_remote.usage_trends(shard integer, company_setting text, company bigint, months integer, as_of timestamp with time zone)
RETURNS TABLE(period_start date, period_end date, month text, calls bigint, minutes numeric, appointments bigint, cost numeric, currency text)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.usage_trends((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::integer, $5::timestamp with time zone) AS r;
$$;

CREATE FUNCTION billing.usage_trends(company bigint DEFAULT NULL::bigint, months integer DEFAULT 6, as_of timestamp with time zone DEFAULT now())
RETURNS TABLE(period_start date, period_end date, month text, calls bigint, minutes numeric, appointments bigint, cost numeric, currency text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.usage_trends(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company, months, as_of)
$$;

COMMENT ON FUNCTION billing.usage_trends(bigint, integer, timestamp with time zone) IS 'company_billing''s billing.usage_trends on the shard of the company';

CREATE FUNCTION billing_remote.verify_usage_daily(shard integer, company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls bigint, raw_calls bigint, rollup_seconds bigint, raw_seconds bigint, rollup_appointments bigint, raw_appointments bigint)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.verify_usage_daily((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing_remote.verify_usage_daily_all(company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls bigint, raw_calls bigint, rollup_seconds bigint, raw_seconds bigint, rollup_appointments bigint, raw_appointments bigint)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.verify_usage_daily((SELECT $2::bigint FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.verify_usage_daily(company bigint DEFAULT NULL::bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls bigint, raw_calls bigint, rollup_seconds bigint, raw_seconds bigint, rollup_appointments bigint, raw_appointments bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.verify_usage_daily(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company) WHERE company IS NOT NULL
    UNION ALL
    SELECT * FROM billing_remote.verify_usage_daily_all(billing.forwarded_company_setting(), company) WHERE company IS NULL
$$;

COMMENT ON FUNCTION billing.verify_usage_daily(bigint) IS 'company_billing''s billing.verify_usage_daily on the shard of the company (NULL: every shard)';

CREATE FUNCTION billing_remote.verify_usage_profile(shard integer, company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls_by_hour bigint[], raw_calls_by_hour bigint[], rollup_completed_by_length bigint[], raw_completed_by_length bigint[])
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT r.* FROM billing.verify_usage_profile((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing_remote.verify_usage_profile_all(company_setting text, company bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls_by_hour bigint[], raw_calls_by_hour bigint[], rollup_completed_by_length bigint[], raw_completed_by_length bigint[])
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT r.* FROM billing.verify_usage_profile((SELECT $2::bigint FROM pg_catalog.set_config('billing.company_id', $1, true) AS forwarded)) AS r;
$$;

CREATE FUNCTION billing.verify_usage_profile(company bigint DEFAULT NULL::bigint)
RETURNS TABLE(company_id bigint, day date, rollup_calls_by_hour bigint[], raw_calls_by_hour bigint[], rollup_completed_by_length bigint[], raw_completed_by_length bigint[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM billing_remote.verify_usage_profile(billing.shard_of(billing.routed_company(company)), billing.forwarded_company_setting(), company) WHERE company IS NOT NULL
    UNION ALL
    SELECT * FROM billing_remote.verify_usage_profile_all(billing.forwarded_company_setting(), company) WHERE company IS NULL
$$;

COMMENT ON FUNCTION billing.verify_usage_profile(bigint) IS 'company_billing''s billing.verify_usage_profile on the shard of the company (NULL: every shard)';

CREATE FUNCTION billing_remote.webhook_attempted(shard integer, company_setting text, delivery bigint, delivered boolean, http_status integer, error text, as_of timestamp with time zone)
RETURNS text
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON shard;
    SELECT billing.webhook_attempted((SELECT $3::bigint FROM pg_catalog.set_config('billing.company_id', $2, true) AS forwarded), $4::boolean, $5::integer, $6::text, $7::timestamp with time zone) AS webhook_attempted;
$$;

CREATE FUNCTION billing.webhook_attempted(delivery bigint, delivered boolean, http_status integer DEFAULT NULL::integer, error text DEFAULT NULL::text, as_of timestamp with time zone DEFAULT now())
RETURNS text
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT billing_remote.webhook_attempted(billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), (SELECT o FROM billing_remote.webhook_delivery_owner(delivery) AS o LIMIT 1))), billing.forwarded_company_setting(), delivery, delivered, http_status, error, as_of)
$$;

COMMENT ON FUNCTION billing.webhook_attempted(bigint, boolean, integer, text, timestamp with time zone) IS 'company_billing''s billing.webhook_attempted on the shard that holds the row';


-- The report view's rows from every shard (generated).

CREATE FUNCTION billing_remote.period_usage_all()
RETURNS TABLE (period_id bigint, company_id bigint, start_date date, end_date date, status text, calls numeric, completed_calls numeric, minutes numeric, appointments numeric, pricing_model text, currency text, base_fee numeric, minutes_cost numeric, appointments_cost numeric, total_cost numeric, invoice_id bigint, invoice_number text, invoice_status text, invoice_total numeric, invoiced_minutes numeric, invoiced_appointments numeric, invoiced_amount numeric)
LANGUAGE plproxy VOLATILE
AS $$
    CLUSTER 'billing_shards';
    RUN ON ALL;
    SELECT u.* FROM billing.period_usage AS u;
$$;



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


-- Privileges (generated from the extension's).

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing, billing_remote FROM PUBLIC;

REVOKE ALL ON ALL PROCEDURES IN SCHEMA billing FROM PUBLIC;

GRANT USAGE ON SCHEMA billing, billing_remote TO PUBLIC;

-- The PL/Proxy functions carry a call to a shard, which checks it as if it came directly.

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA billing_remote TO billing_viewer, billing_app, billing_admin;

GRANT EXECUTE ON FUNCTION billing.shard_count(), billing.default_shard(bigint), billing.shard_of(bigint),
    billing.shard_for_write(bigint), billing.transaction_company_setting(), billing.is_viewer_role(),
    billing.routed_company(bigint, bigint), billing.forwarded_company_setting(), billing.token_company(text),
    billing.throttle_shard(text)
    TO billing_viewer, billing_app, billing_admin;

GRANT EXECUTE ON FUNCTION billing.archive_calls(date) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.audit_flush_wait(interval) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.authenticate_token(text, timestamp with time zone) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.billing_history(bigint) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.budget_status(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.can_consume(bigint, numeric, timestamp with time zone) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.close_ended_periods(timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.close_period(bigint, timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.company_alerts(bigint, integer) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.company_payment_methods(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.compare_plans(bigint, integer, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.create_api_token(bigint, text, text, text[], timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.current_company() TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.diagnose(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.due_webhooks(integer, timestamp with time zone) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.ensure_periods(timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.evaluate_alerts(bigint, timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.export_company(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.grant_company_access(regrole, bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.mark_invoice(bigint, text, text, timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.period_csv(bigint, text) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.period_csv_lines(bigint, text) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.period_detail(bigint) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.period_for(bigint, date) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.period_totals(bigint, date, date, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.plan_for_period(bigint, date, date) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.raw_usage_daily(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.raw_usage_profile(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.rebuild_usage_daily(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.record_appointment(bigint, text, timestamp with time zone, text, text) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.record_call(bigint, text, timestamp with time zone, integer, text) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.record_calls(bigint, text[], timestamp with time zone[], integer[], text[]) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.resolve_company(bigint) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.revoke_api_token(bigint, timestamp with time zone) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.revoke_company_access(regrole, bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.runtime_status() TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.set_default_payment_method(bigint) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.throttle(text, integer, timestamp with time zone) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.throttle_detail(text, integer, timestamp with time zone) TO billing_admin, billing_app;

GRANT EXECUTE ON FUNCTION billing.upcoming_charges(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_analytics(bigint, date, date, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_anomalies(bigint, integer, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_current(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_forecast(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_projection(bigint, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.usage_trends(bigint, integer, timestamp with time zone) TO billing_admin, billing_app, billing_viewer;

GRANT EXECUTE ON FUNCTION billing.verify_usage_daily(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.verify_usage_profile(bigint) TO billing_admin;

GRANT EXECUTE ON FUNCTION billing.webhook_attempted(bigint, boolean, integer, text, timestamp with time zone) TO billing_admin, billing_app;
