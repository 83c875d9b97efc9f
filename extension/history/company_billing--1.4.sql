-- company_billing, the current version's install script, built by the Makefile from
-- extension/src/*.sql (one area a file, in file name order). Released scripts are frozen in
-- extension/history/; a change to any object here also ships as an upgrade script.
--
-- Conventions (docs/design.md, "Security model"):
--   * the script runs with search_path = pg_catalog, pg_temp (set below): nothing a role put in
--     public, in its own schema or in pg_temp can stand in for a built-in while it runs, and
--     every expression stored here (CHECKs, defaults, indexes, policies, views) binds to
--     pg_catalog or billing objects only (test/attacks/install.sh plants look-alikes to show it);
--   * every object is schema-qualified, every SQL and PL/pgSQL function pins search_path to
--     pg_catalog, pg_temp; the C functions of the hot paths qualify every name in their queries;
--   * nothing is created with OR REPLACE or IF NOT EXISTS, no function is SECURITY DEFINER;
--   * functions whose names start with "_" are internal: no group role may execute them.

\echo Use "CREATE EXTENSION company_billing" to load this file. \quit

-- Restored by PostgreSQL when the script ends.
SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
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
------------------------------------------------------------------------------------------
-- Tables and their indexes (docs/design.md, "Data model"). Applications may write them directly
-- (within their role's privileges); row level security is in 90_security.sql.
--
-- Literals in constraints carry a type that makes every comparison an exact match of a
-- pg_catalog operator ('0'::numeric, not 0: numeric >= integer exists nowhere in pg_catalog, so
-- a look-alike of it in public would be an exact match).
------------------------------------------------------------------------------------------

-- IANA zone names only ('Europe/Berlin', 'UTC', 'Etc/GMT+1'). POSIX strings such as 'UTC+3'
-- and abbreviations such as 'PST' are accepted by AT TIME ZONE, but with fixed offsets (and
-- POSIX inverts the sign), which silently bills calls into the wrong day: they are refused.
CREATE FUNCTION billing.is_valid_timezone(name text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF name !~ '^[A-Za-z]+(/[A-Za-z0-9_+-]+)*$' THEN
        RETURN false;
    END IF;
    IF strpos(name, '/') = 0 THEN
        -- Few zone names have no slash (UTC, GMT, CET); abbreviations look the same, so ask
        -- the zone list itself.
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = is_valid_timezone.name);
    END IF;
    PERFORM pg_catalog.timezone(name, TIMESTAMPTZ '2000-01-01 00:00:00+00');
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
COMMENT ON FUNCTION billing.is_valid_timezone(text) IS
    'true when the text is an IANA time zone name that PostgreSQL knows';

CREATE TABLE billing.companies (
    id                 bigint PRIMARY KEY,
    name               text NOT NULL,
    timezone           text NOT NULL DEFAULT 'UTC',
    currency           text NOT NULL DEFAULT 'EUR',
    billing_anchor_day smallint NOT NULL DEFAULT 1,
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT companies_name_check CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
    CONSTRAINT companies_timezone_check CHECK (billing.is_valid_timezone(timezone)),
    CONSTRAINT companies_currency_check CHECK (currency OPERATOR(pg_catalog.~) '^[A-Z]{3}$'::text),
    CONSTRAINT companies_billing_anchor_day_check CHECK (billing_anchor_day BETWEEN 1 AND 28)
);
COMMENT ON TABLE billing.companies IS
    'Customer companies; id is chosen by the application, timezone is an IANA name';

CREATE TABLE billing.pricing_plans (
    id                      bigserial PRIMARY KEY,
    company_id              bigint NOT NULL REFERENCES billing.companies (id),
    pricing_model           text NOT NULL,
    base_fee                numeric,
    included_minutes        numeric,
    overage_per_minute      numeric,
    per_minute_rate         numeric,
    per_appointment_rate    numeric,
    package_minutes         numeric,
    package_appointments    numeric,
    overage_per_appointment numeric,
    valid_from              date NOT NULL,
    valid_until             date,                 -- inclusive; NULL = open-ended
    created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT pricing_plans_pricing_model_check
        CHECK (pricing_model IN ('per_minute', 'per_appointment', 'package', 'combined')),
    CONSTRAINT pricing_plans_validity_check
        CHECK (pg_catalog.isfinite(valid_from) AND (valid_until IS NULL OR
               (pg_catalog.isfinite(valid_until) AND valid_until >= valid_from))),
    CONSTRAINT pricing_plans_validity_overlap
        EXCLUDE USING gist (company_id WITH OPERATOR(pg_catalog.=),
                            pg_catalog.daterange(valid_from, valid_until, '[]') WITH OPERATOR(pg_catalog.&&)),
    -- Each parameter is a finite number >= 0 (NaN and Infinity compare >= 0 in numeric).
    CONSTRAINT pricing_plans_base_fee_range
        CHECK (base_fee >= '0'::numeric AND base_fee < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_included_minutes_range
        CHECK (included_minutes >= '0'::numeric AND included_minutes < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_overage_per_minute_range
        CHECK (overage_per_minute >= '0'::numeric AND overage_per_minute < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_per_minute_rate_range
        CHECK (per_minute_rate >= '0'::numeric AND per_minute_rate < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_per_appointment_rate_range
        CHECK (per_appointment_rate >= '0'::numeric AND per_appointment_rate < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_package_minutes_range
        CHECK (package_minutes >= '0'::numeric AND package_minutes < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_package_appointments_range
        CHECK (package_appointments >= '0'::numeric AND package_appointments < 'Infinity'::numeric),
    CONSTRAINT pricing_plans_overage_per_appointment_range
        CHECK (overage_per_appointment >= '0'::numeric AND overage_per_appointment < 'Infinity'::numeric),
    -- Required parameters of each model: the violated constraint's name names the missing field.
    CONSTRAINT pricing_plans_per_minute_requires_base_fee
        CHECK (pricing_model <> 'per_minute' OR base_fee IS NOT NULL),
    CONSTRAINT pricing_plans_per_minute_requires_included_minutes
        CHECK (pricing_model <> 'per_minute' OR included_minutes IS NOT NULL),
    CONSTRAINT pricing_plans_per_minute_requires_overage_per_minute
        CHECK (pricing_model <> 'per_minute' OR overage_per_minute IS NOT NULL),
    CONSTRAINT pricing_plans_per_appointment_requires_per_appointment_rate
        CHECK (pricing_model <> 'per_appointment' OR per_appointment_rate IS NOT NULL),
    CONSTRAINT pricing_plans_package_requires_base_fee
        CHECK (pricing_model <> 'package' OR base_fee IS NOT NULL),
    CONSTRAINT pricing_plans_package_requires_package_minutes
        CHECK (pricing_model <> 'package' OR package_minutes IS NOT NULL),
    CONSTRAINT pricing_plans_package_requires_package_appointments
        CHECK (pricing_model <> 'package' OR package_appointments IS NOT NULL),
    CONSTRAINT pricing_plans_package_requires_overage_per_minute
        CHECK (pricing_model <> 'package' OR overage_per_minute IS NOT NULL),
    CONSTRAINT pricing_plans_package_requires_overage_per_appointment
        CHECK (pricing_model <> 'package' OR overage_per_appointment IS NOT NULL),
    CONSTRAINT pricing_plans_combined_requires_per_minute_rate
        CHECK (pricing_model <> 'combined' OR per_minute_rate IS NOT NULL),
    CONSTRAINT pricing_plans_combined_requires_per_appointment_rate
        CHECK (pricing_model <> 'combined' OR per_appointment_rate IS NOT NULL),
    -- Parameters a model does not use must stay empty, so a plan means one thing only.
    CONSTRAINT pricing_plans_per_minute_unused_parameters
        CHECK (pricing_model <> 'per_minute' OR
               pg_catalog.num_nonnulls(per_minute_rate, package_minutes, package_appointments,
                                       overage_per_appointment) = 0),
    CONSTRAINT pricing_plans_per_appointment_unused_parameters
        CHECK (pricing_model <> 'per_appointment' OR
               pg_catalog.num_nonnulls(included_minutes, overage_per_minute, per_minute_rate,
                                       package_minutes, package_appointments,
                                       overage_per_appointment) = 0),
    CONSTRAINT pricing_plans_package_unused_parameters
        CHECK (pricing_model <> 'package' OR
               pg_catalog.num_nonnulls(included_minutes, per_minute_rate, per_appointment_rate) = 0),
    CONSTRAINT pricing_plans_combined_unused_parameters
        CHECK (pricing_model <> 'combined' OR
               pg_catalog.num_nonnulls(base_fee, included_minutes, overage_per_minute,
                                       package_minutes, package_appointments,
                                       overage_per_appointment) = 0)
);
COMMENT ON TABLE billing.pricing_plans IS
    'Pricing plan of a company over a validity range of company-local dates; ranges never overlap';

CREATE TABLE billing.billing_periods (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES billing.companies (id),
    start_date date NOT NULL,
    end_date   date NOT NULL,                     -- inclusive, company-local
    status     text NOT NULL DEFAULT 'open',
    closed_at  timestamptz,
    CONSTRAINT billing_periods_dates_check
        CHECK (pg_catalog.isfinite(start_date) AND pg_catalog.isfinite(end_date) AND end_date >= start_date),
    CONSTRAINT billing_periods_status_check CHECK (status IN ('open', 'closed')),
    CONSTRAINT billing_periods_closed_at_check CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CONSTRAINT billing_periods_overlap
        EXCLUDE USING gist (company_id WITH OPERATOR(pg_catalog.=),
                            pg_catalog.daterange(start_date, end_date, '[]') WITH OPERATOR(pg_catalog.&&))
);
COMMENT ON TABLE billing.billing_periods IS
    'Billing periods of company-local dates; where none is stored, one is derived from the anchor day';

CREATE TABLE billing.calls (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL REFERENCES billing.companies (id),
    external_id  text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_sec integer NOT NULL,
    status       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT calls_company_external_id_key UNIQUE (company_id, external_id),
    -- Lets appointments reference a call of their own company only.
    CONSTRAINT calls_company_id_id_key UNIQUE (company_id, id),
    CONSTRAINT calls_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    -- Timestamps far outside any billing period are input errors (and would overflow date
    -- arithmetic); a call longer than a week is a telephony error, not a call.
    CONSTRAINT calls_started_at_check
        CHECK (started_at >= '2000-01-01 00:00:00+00' AND started_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT calls_duration_sec_check CHECK (duration_sec BETWEEN 0 AND 604800),
    CONSTRAINT calls_status_check
        CHECK (status IN ('completed', 'failed', 'missed', 'busy', 'no_answer'))
);
CREATE INDEX calls_company_started_at_idx
    ON billing.calls (company_id, started_at) INCLUDE (duration_sec, status);
CREATE INDEX calls_company_status_idx ON billing.calls (company_id, status);
COMMENT ON TABLE billing.calls IS
    'Calls as the telephony system reports them; (company_id, external_id) makes ingestion idempotent';

CREATE TABLE billing.appointments (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES billing.companies (id),
    external_id text NOT NULL,
    call_id     bigint,
    booked_at   timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'booked',
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT appointments_company_external_id_key UNIQUE (company_id, external_id),
    CONSTRAINT appointments_call_fkey FOREIGN KEY (company_id, call_id)
        REFERENCES billing.calls (company_id, id) ON DELETE SET NULL (call_id),
    CONSTRAINT appointments_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    CONSTRAINT appointments_booked_at_check
        CHECK (booked_at >= '2000-01-01 00:00:00+00' AND booked_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT appointments_status_check CHECK (status IN ('booked', 'cancelled'))
);
CREATE INDEX appointments_company_booked_at_idx
    ON billing.appointments (company_id, booked_at) INCLUDE (status);
CREATE INDEX appointments_company_status_idx ON billing.appointments (company_id, status);
CREATE INDEX appointments_call_id_idx ON billing.appointments (company_id, call_id);
COMMENT ON TABLE billing.appointments IS
    'Appointments booked by the AI receptionist; cancelled ones are not billed';

-- The tables belong to the extension, so pg_dump would skip their rows unless told otherwise.
SELECT pg_catalog.pg_extension_config_dump('billing.companies', '');
SELECT pg_catalog.pg_extension_config_dump('billing.pricing_plans', '');
SELECT pg_catalog.pg_extension_config_dump('billing.pricing_plans_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.billing_periods', '');
SELECT pg_catalog.pg_extension_config_dump('billing.billing_periods_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.calls', '');
SELECT pg_catalog.pg_extension_config_dump('billing.calls_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointments', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointments_id_seq', '');

CREATE INDEX billing_periods_company_start_idx ON billing.billing_periods (company_id, start_date);
-- The plan lookup of every read (company, latest valid_from by a date) as an index range scan.
CREATE INDEX pricing_plans_company_valid_from_idx ON billing.pricing_plans (company_id, valid_from);

CREATE TABLE billing.invoices (
    id                bigserial PRIMARY KEY,
    company_id        bigint NOT NULL REFERENCES billing.companies (id),
    billing_period_id bigint NOT NULL REFERENCES billing.billing_periods (id),
    number            text NOT NULL,
    issued_at         timestamptz NOT NULL,
    due_date          date NOT NULL,
    currency          text NOT NULL,
    total             numeric NOT NULL,
    status            text NOT NULL DEFAULT 'pending',
    status_changed_at timestamptz,
    pdf_url           text,
    CONSTRAINT invoices_billing_period_id_key UNIQUE (billing_period_id),
    CONSTRAINT invoices_number_key UNIQUE (number),
    CONSTRAINT invoices_status_check CHECK (status IN ('pending', 'paid', 'failed', 'void')),
    CONSTRAINT invoices_pdf_url_check
        CHECK (pdf_url ~ '^https?://[^[:space:]]+$' AND pg_catalog.length(pdf_url) <= 2048)
);
CREATE INDEX invoices_company_issued_at_idx ON billing.invoices (company_id, issued_at);
COMMENT ON TABLE billing.invoices IS
    'Invoices written by close_period(); immutable except for status and pdf_url';
CREATE TABLE billing.invoice_lines (
    id                  bigserial PRIMARY KEY,
    invoice_id          bigint NOT NULL REFERENCES billing.invoices (id),
    company_id          bigint NOT NULL REFERENCES billing.companies (id),
    line_number         integer NOT NULL,
    kind                text NOT NULL,
    description         text NOT NULL,
    quantity            numeric NOT NULL,
    unit_price          numeric,
    amount              numeric NOT NULL,
    -- What the line bills, so that later corrections are billed exactly once: the period whose
    -- usage it covers and the seconds and appointments it covers.
    billed_period_id    bigint NOT NULL REFERENCES billing.billing_periods (id),
    billed_seconds      bigint NOT NULL DEFAULT 0,
    billed_appointments bigint NOT NULL DEFAULT 0,
    CONSTRAINT invoice_lines_invoice_line_key UNIQUE (invoice_id, line_number),
    CONSTRAINT invoice_lines_kind_check
        CHECK (kind IN ('base_fee', 'minutes', 'appointments', 'minutes_adjustment', 'appointments_adjustment'))
);
CREATE INDEX invoice_lines_billed_period_idx ON billing.invoice_lines (billed_period_id);
COMMENT ON TABLE billing.invoice_lines IS 'The charge lines of an invoice; never changed';

SELECT pg_catalog.pg_extension_config_dump('billing.invoices', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoices_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_lines', '');
SELECT pg_catalog.pg_extension_config_dump('billing.invoice_lines_id_seq', '');

-- 13 to 19 digits, optionally separated by single spaces or dashes: a primary account number.
CREATE FUNCTION billing.looks_like_card_number(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT value ~ '[0-9]([ -]?[0-9]){12,18}' $$;

CREATE TABLE billing.payment_methods (
    id                 bigserial PRIMARY KEY,
    company_id         bigint NOT NULL REFERENCES billing.companies (id),
    provider           text NOT NULL DEFAULT 'stripe',
    provider_reference text NOT NULL,
    brand              text NOT NULL,
    last4              text NOT NULL,
    exp_month          smallint NOT NULL,
    exp_year           smallint NOT NULL,
    is_default         boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT payment_methods_provider_reference_key UNIQUE (company_id, provider_reference),
    CONSTRAINT payment_methods_last4_check CHECK (last4 ~ '^[0-9]{4}$'),
    CONSTRAINT payment_methods_exp_month_check CHECK (exp_month BETWEEN 1 AND 12),
    CONSTRAINT payment_methods_exp_year_check CHECK (exp_year BETWEEN 2000 AND 2100),
    CONSTRAINT payment_methods_text_lengths_check
        CHECK (pg_catalog.length(provider) BETWEEN 1 AND 50 AND pg_catalog.length(provider_reference) BETWEEN 1 AND 255
               AND pg_catalog.length(brand) BETWEEN 1 AND 50),
    CONSTRAINT payment_methods_no_card_number CHECK (
        NOT billing.looks_like_card_number(provider) AND NOT billing.looks_like_card_number(provider_reference)
        AND NOT billing.looks_like_card_number(brand))
);
CREATE UNIQUE INDEX payment_methods_one_default_idx ON billing.payment_methods (company_id) WHERE is_default;
SELECT pg_catalog.pg_extension_config_dump('billing.payment_methods', '');
SELECT pg_catalog.pg_extension_config_dump('billing.payment_methods_id_seq', '');
COMMENT ON TABLE billing.payment_methods IS
    'Payment methods for display (brand, last 4 digits, expiry); at most one default per company';

-- Which login role of billing_viewer sees which company (one company per role). Keyed by the
-- role's OID: a role dropped and created again under the same name is a new role and sees
-- nothing; mappings of dropped roles are removed by grant_company_access and ensure_periods.
CREATE TABLE billing.viewer_companies (
    role       regrole PRIMARY KEY,
    company_id bigint NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT viewer_companies_company_id_fkey FOREIGN KEY (company_id) REFERENCES billing.companies (id)
);
SELECT pg_catalog.pg_extension_config_dump('billing.viewer_companies', '');
COMMENT ON TABLE billing.viewer_companies IS
    'The company each billing_viewer login role is pinned to (see grant_company_access)';

-- Every API read, written by the audit writer (a background worker) from a shared-memory queue.
-- Repeated reads coalesce: one row per reader, company, function and second, `reads` of them.
CREATE TABLE billing.audit_log (
    id                bigserial PRIMARY KEY,
    read_at           timestamptz NOT NULL,
    company_id        bigint NOT NULL,
    session_user_name text NOT NULL,
    current_user_name text NOT NULL,
    function_name     text NOT NULL,
    written_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reads             integer NOT NULL DEFAULT 1 CONSTRAINT audit_log_reads_check CHECK (reads > 0)
);
CREATE INDEX audit_log_company_read_at_idx ON billing.audit_log (company_id, read_at);
SELECT pg_catalog.pg_extension_config_dump('billing.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.audit_log_id_seq', '');
COMMENT ON TABLE billing.audit_log IS 'Who read which company''s billing data through which function, and when';
COMMENT ON COLUMN billing.audit_log.reads IS
    'How many reads of company_id through function_name by this user within the second of read_at';

-- billing.usage_daily holds, per company, company-local day and slot, the calls, completed
-- calls, seconds and booked appointments. Statement-level triggers on calls and appointments
-- (40_usage.sql) keep it exact through inserts, updates and deletes. Each backend writes its
-- own slot (its PGPROC number modulo 8), so concurrent ingestion for one company spreads over
-- eight rows a day instead of queueing on one.
CREATE TABLE billing.usage_daily (
    company_id          bigint NOT NULL,
    day                 date NOT NULL,             -- company-local
    slot                smallint NOT NULL,
    calls               bigint NOT NULL DEFAULT 0,
    completed_calls     bigint NOT NULL DEFAULT 0,
    seconds             bigint NOT NULL DEFAULT 0,
    appointments        bigint NOT NULL DEFAULT 0, -- booked, not cancelled
    -- The latest started_at / booked_at ever added to the row (deletes do not lower it): when it
    -- is after as_of, a read for that day counts the raw rows instead.
    last_call_at        timestamptz,
    last_appointment_at timestamptz,
    CONSTRAINT usage_daily_pkey PRIMARY KEY (company_id, day, slot)
);
COMMENT ON TABLE billing.usage_daily IS
    'Derived, exact per-day usage (kept by triggers; rebuilt by rebuild_usage_daily, never dumped)';
------------------------------------------------------------------------------------------
-- Pricing evaluators (pure; the rules live in src/core/pricing.cpp)
------------------------------------------------------------------------------------------

CREATE TYPE billing.charge AS (
    pricing_model         text,
    currency              text,
    base_fee              numeric,   -- money: rounded to the currency's minor unit
    minutes_cost          numeric,
    appointments_cost     numeric,
    total_cost            numeric,   -- the sum of the rounded lines above
    included_minutes      numeric,   -- NULL where the model includes none (or all)
    overage_minutes       numeric,
    included_appointments numeric,
    overage_appointments  numeric
);
COMMENT ON TYPE billing.charge IS 'One evaluation of a pricing plan: the charge lines and their total';

CREATE FUNCTION billing.price(config jsonb, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_price_jsonb';
COMMENT ON FUNCTION billing.price(jsonb, numeric, numeric) IS
    'Prices minutes and appointments under a plan given as JSON, e.g. {"pricing_model":"per_minute",...}';

-- An untyped literal matches both the jsonb and the pricing_plans variant; this text variant
-- makes billing.price('{"pricing_model":...}', 687.5, 87) resolve to the JSON evaluator.
CREATE FUNCTION billing.price(config text, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing.price(config::jsonb, minutes, appointments) $$;

-- Prices a sum of call seconds: minutes are seconds / 60 exactly, never a rounded quotient.
CREATE FUNCTION billing.price_seconds(config jsonb, seconds numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_price_seconds';
COMMENT ON FUNCTION billing.price_seconds(jsonb, numeric, numeric) IS
    'Like price(), with the usage given in call seconds (minutes = seconds / 60, exact)';

-- The JSON form of a plan row: its model and its non-NULL parameters. PL/pgSQL, not SQL: a SQL
-- function called from PL/pgSQL is parsed and planned again in every transaction.
CREATE FUNCTION billing.plan_config(plan billing.pricing_plans) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'pricing_model', plan.pricing_model,
        'base_fee', plan.base_fee,
        'included_minutes', plan.included_minutes,
        'overage_per_minute', plan.overage_per_minute,
        'per_minute_rate', plan.per_minute_rate,
        'per_appointment_rate', plan.per_appointment_rate,
        'package_minutes', plan.package_minutes,
        'package_appointments', plan.package_appointments,
        'overage_per_appointment', plan.overage_per_appointment));
END
$$;

CREATE FUNCTION billing.price(plan billing.pricing_plans, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing.price(billing.plan_config(plan), minutes, appointments) $$;
COMMENT ON FUNCTION billing.price(billing.pricing_plans, numeric, numeric) IS
    'Prices minutes and appointments under a billing.pricing_plans row (rounded to 2 decimals)';

-- The charge lines of a period's own usage under its plan, as a jsonb array of
-- {kind, description, quantity, unit_price, amount, billed_seconds, billed_appointments}.
CREATE FUNCTION billing.charge_lines(plan billing.pricing_plans, currency text, seconds bigint,
                                      appointments bigint)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    charge billing.charge := billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', currency),
                                                   seconds, appointments);
    minutes numeric := pg_catalog.round(seconds / 60.0, 2);
    lines jsonb := '[]';
BEGIN
    IF plan.pricing_model <> 'combined' THEN
        lines := lines || pg_catalog.jsonb_build_object(
            'kind', 'base_fee', 'description', pg_catalog.format('Base fee (%s plan)', plan.pricing_model),
            'quantity', 1, 'unit_price', charge.base_fee, 'amount', charge.base_fee,
            'billed_seconds', 0, 'billed_appointments', 0);
    END IF;
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'minutes',
        'description', CASE plan.pricing_model
            WHEN 'per_appointment' THEN pg_catalog.format('Call minutes: %s, included in the plan', minutes)
            WHEN 'combined' THEN pg_catalog.format('Call minutes: %s', minutes)
            ELSE pg_catalog.format('Call minutes: %s used, %s included, %s over', minutes,
                                   charge.included_minutes, pg_catalog.round(charge.overage_minutes, 2)) END,
        'quantity', CASE WHEN plan.pricing_model IN ('per_minute', 'package')
                         THEN pg_catalog.round(charge.overage_minutes, 2) ELSE minutes END,
        'unit_price', CASE plan.pricing_model WHEN 'per_appointment' THEN 0
                           WHEN 'combined' THEN plan.per_minute_rate ELSE plan.overage_per_minute END,
        'amount', charge.minutes_cost, 'billed_seconds', seconds, 'billed_appointments', 0);
    lines := lines || pg_catalog.jsonb_build_object(
        'kind', 'appointments',
        'description', CASE plan.pricing_model
            WHEN 'package' THEN pg_catalog.format('Appointments: %s booked, %s included, %s over', appointments,
                                                  charge.included_appointments, charge.overage_appointments)
            ELSE pg_catalog.format('Appointments: %s booked', appointments) END,
        'quantity', CASE plan.pricing_model WHEN 'package' THEN charge.overage_appointments ELSE appointments END,
        'unit_price', CASE plan.pricing_model WHEN 'package' THEN plan.overage_per_appointment
                           ELSE COALESCE(plan.per_appointment_rate, 0) END,
        'amount', charge.appointments_cost, 'billed_seconds', 0, 'billed_appointments', appointments);
    RETURN lines;
END
$$;
COMMENT ON FUNCTION billing.charge_lines(billing.pricing_plans, text, bigint, bigint) IS
    'The invoice lines (base fee, minutes, appointments) of a usage under a plan; pure, like price()';

------------------------------------------------------------------------------------------
-- Company scope: which company a caller may read (docs/design.md, "Security model"), the period
-- containing a date and the plan of a period. The scope itself is C (src/pg/company_scope.cpp).
------------------------------------------------------------------------------------------

-- The company of the current role and transaction, for row level security and applications:
-- a viewer's mapped company, else the transaction's SET LOCAL billing.company_id, else NULL
-- (and NULL matches no row: the policies fail closed). No SET search_path: its one query
-- names its table and operator with their schemas, and every policy calls it.
CREATE FUNCTION billing.current_company() RETURNS bigint
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_current_company';
COMMENT ON FUNCTION billing.current_company() IS
    'The company the current role and transaction may see (NULL: none)';

-- The company a read is about: the argument, or the transaction's company, checked against the
-- caller as every API read checks it (an unknown and a foreign company get the same 42501).
CREATE FUNCTION billing.resolve_company(company bigint) RETURNS bigint
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_resolve_company';
COMMENT ON FUNCTION billing.resolve_company(bigint) IS
    'The company a read with this argument is about, checked against the caller (42501 if none)';

-- The period of `company` that contains the company-local date `day`: the stored row, or else
-- one derived from the anchor day, clipped so that it never overlaps a stored period.
CREATE FUNCTION billing.period_for(company bigint, day date,
                                   OUT period_id bigint, OUT start_date date,
                                   OUT end_date date, OUT status text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    anchor smallint;
    previous_end date;
    next_start date;
BEGIN
    IF company IS NULL OR day IS NULL THEN
        RAISE EXCEPTION 'company and day must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(day) THEN
        RAISE EXCEPTION 'day must be a finite date' USING ERRCODE = 'datetime_field_overflow';
    END IF;
    SELECT p.id, p.start_date, p.end_date, p.status
      INTO period_id, start_date, end_date, status
      FROM billing.billing_periods p
     WHERE p.company_id = company AND p.start_date <= day AND p.end_date >= day;
    IF FOUND THEN
        RETURN;
    END IF;

    SELECT c.billing_anchor_day INTO anchor FROM billing.companies c WHERE c.id = company;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % is not accessible', company USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Anchor days stop at 28, so make_date() is valid in every month.
    start_date := pg_catalog.make_date(pg_catalog.date_part('year', day)::int,
                                       pg_catalog.date_part('month', day)::int, anchor);
    IF start_date > day THEN
        start_date := (start_date - INTERVAL '1 month')::date;
    END IF;
    end_date := (start_date + INTERVAL '1 month')::date - 1;

    SELECT pg_catalog.max(p.end_date) INTO previous_end
      FROM billing.billing_periods p WHERE p.company_id = company AND p.end_date < day;
    SELECT pg_catalog.min(p.start_date) INTO next_start
      FROM billing.billing_periods p WHERE p.company_id = company AND p.start_date > day;
    IF previous_end IS NOT NULL AND previous_end >= start_date THEN
        start_date := previous_end + 1;
    END IF;
    IF next_start IS NOT NULL AND next_start <= end_date THEN
        end_date := next_start - 1;
    END IF;
    period_id := NULL;
    status := 'open';
END
$$;
COMMENT ON FUNCTION billing.period_for(bigint, date) IS
    'The billing period containing a company-local date (stored, or derived from the anchor day)';

-- The plan of a period: the latest plan that took effect by `last_day` and was still valid
-- on or after `first_day`. NULL when there is none.
CREATE FUNCTION billing.plan_for_period(company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result billing.pricing_plans;
BEGIN
    SELECT p.* INTO result FROM billing.pricing_plans p
     WHERE p.company_id = plan_for_period.company AND p.valid_from <= plan_for_period.last_day
       AND (p.valid_until IS NULL OR p.valid_until >= plan_for_period.first_day)
     ORDER BY p.valid_from DESC LIMIT 1;
    RETURN result;
END
$$;
COMMENT ON FUNCTION billing.plan_for_period(bigint, date, date) IS
    'The pricing plan that applies to a period (the latest one in force by its last day)';
------------------------------------------------------------------------------------------
-- Usage: the exact per-day rollup and its triggers, period totals, the dashboard's current
-- card and projection (C: src/pg/usage_read.cpp), and the report view over every period.
------------------------------------------------------------------------------------------

-- The rollup triggers (src/pg/rollup_trigger.cpp): the statement's net change per company,
-- local day and slot, one UPDATE (or upsert, for a new row) each, in (company, day) order so
-- that concurrent writers lock rollup rows in the same order.
CREATE FUNCTION billing._roll_up_calls() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_calls';

CREATE FUNCTION billing._roll_up_appointments() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_roll_up_appointments';

-- Transition tables allow one event per trigger.
CREATE TRIGGER calls_roll_up_insert AFTER INSERT ON billing.calls
    REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_update AFTER UPDATE ON billing.calls
    REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER calls_roll_up_delete AFTER DELETE ON billing.calls
    REFERENCING OLD TABLE AS old_calls FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_calls();
CREATE TRIGGER appointments_roll_up_insert AFTER INSERT ON billing.appointments
    REFERENCING NEW TABLE AS new_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_update AFTER UPDATE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments NEW TABLE AS new_appointments
    FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();
CREATE TRIGGER appointments_roll_up_delete AFTER DELETE ON billing.appointments
    REFERENCING OLD TABLE AS old_appointments FOR EACH STATEMENT EXECUTE FUNCTION billing._roll_up_appointments();

-- Derived data must follow every change, also those applied with session_replication_role =
-- replica (logical replication subscribers, maintenance scripts): the rollup triggers fire always.
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_insert;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_update;
ALTER TABLE billing.calls ENABLE ALWAYS TRIGGER calls_roll_up_delete;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_insert;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_update;
ALTER TABLE billing.appointments ENABLE ALWAYS TRIGGER appointments_roll_up_delete;

-- The raw per-day usage of one company (or all), straight from calls and appointments: what
-- the rollup must always equal. The one definition used to rebuild and to verify it.
CREATE FUNCTION billing.raw_usage_daily(company bigint)
RETURNS TABLE (company_id bigint, day date, calls bigint, completed_calls bigint, seconds bigint,
               appointments bigint, last_call_at timestamptz, last_appointment_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.company_id, x.day, pg_catalog.sum(x.calls)::bigint, pg_catalog.sum(x.completed_calls)::bigint,
           pg_catalog.sum(x.seconds)::bigint, pg_catalog.sum(x.appointments)::bigint,
           pg_catalog.max(x.last_call_at), pg_catalog.max(x.last_appointment_at)
      FROM (SELECT k.company_id, (k.started_at AT TIME ZONE c.timezone)::date AS day, 1 AS calls,
                   (k.status = 'completed')::int AS completed_calls, k.duration_sec AS seconds, 0 AS appointments,
                   k.started_at AS last_call_at, NULL::timestamptz AS last_appointment_at
              FROM billing.calls k JOIN billing.companies c ON c.id = k.company_id
             WHERE raw_usage_daily.company IS NULL OR k.company_id = raw_usage_daily.company
            UNION ALL
            SELECT a.company_id, (a.booked_at AT TIME ZONE c.timezone)::date, 0, 0, 0,
                   (a.status <> 'cancelled')::int, NULL, a.booked_at
              FROM billing.appointments a JOIN billing.companies c ON c.id = a.company_id
             WHERE raw_usage_daily.company IS NULL OR a.company_id = raw_usage_daily.company) AS x
     GROUP BY x.company_id, x.day
$$;
COMMENT ON FUNCTION billing.raw_usage_daily(bigint) IS
    'Per-day usage of one company (or all) recomputed from the raw calls and appointments';

-- Recomputes the rollup of one company (or all) from the raw rows; returns the rows written.
-- For a time zone change, and after a restore with --disable-triggers.
CREATE FUNCTION billing.rebuild_usage_daily(company bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM billing.usage_daily u WHERE company IS NULL OR u.company_id = company;
    INSERT INTO billing.usage_daily (company_id, day, slot, calls, completed_calls, seconds, appointments,
                                     last_call_at, last_appointment_at)
    SELECT r.company_id, r.day, 0, r.calls, r.completed_calls, r.seconds, r.appointments, r.last_call_at,
           r.last_appointment_at
      FROM billing.raw_usage_daily(company) AS r;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION billing.rebuild_usage_daily(bigint) IS
    'Recomputes the per-day rollup from the raw calls and appointments';
-- A company's days move with its time zone.
CREATE FUNCTION billing._rebuild_after_timezone_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM billing.rebuild_usage_daily(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER companies_timezone_rebuilds_rollup AFTER UPDATE OF timezone ON billing.companies
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION billing._rebuild_after_timezone_change();

-- Where the rollup and the raw rows disagree (nothing, always; for tests and benchmarks).
CREATE FUNCTION billing.verify_usage_daily(company bigint DEFAULT NULL)
RETURNS TABLE (company_id bigint, day date, rollup_calls bigint, raw_calls bigint, rollup_seconds bigint,
               raw_seconds bigint, rollup_appointments bigint, raw_appointments bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH rolled AS (
        SELECT u.company_id, u.day, pg_catalog.sum(u.calls)::bigint AS calls, pg_catalog.sum(u.completed_calls)::bigint AS completed,
               pg_catalog.sum(u.seconds)::bigint AS seconds, pg_catalog.sum(u.appointments)::bigint AS appointments
          FROM billing.usage_daily u
         WHERE verify_usage_daily.company IS NULL OR u.company_id = verify_usage_daily.company
         GROUP BY 1, 2
    )
    SELECT COALESCE(r.company_id, w.company_id), COALESCE(r.day, w.day), r.calls, w.calls, r.seconds, w.seconds,
           r.appointments, w.appointments
      FROM rolled r FULL JOIN billing.raw_usage_daily(verify_usage_daily.company) w
        ON w.company_id = r.company_id AND w.day = r.day
     WHERE (COALESCE(r.calls, 0), COALESCE(r.completed, 0), COALESCE(r.seconds, 0), COALESCE(r.appointments, 0))
           IS DISTINCT FROM (COALESCE(w.calls, 0), COALESCE(w.completed_calls, 0), COALESCE(w.seconds, 0), COALESCE(w.appointments, 0))
$$;
COMMENT ON FUNCTION billing.verify_usage_daily(bigint) IS
    'Rows where the rollup differs from a recomputation from the raw rows (empty when exact)';

-- The raw totals of a company's local date range, counting what happened up to as_of: whole
-- days before as_of's day from the rollup, and as_of's day itself unless something in it
-- started after as_of (then its raw rows up to as_of are counted).
CREATE FUNCTION billing.period_totals(company bigint, start_date date, end_date date,
                                                 as_of timestamptz DEFAULT 'infinity',
                                                 OUT calls bigint, OUT completed_calls bigint,
                                                 OUT seconds bigint, OUT appointments bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    zone text;
    today date;
    day_totals record;
    day_from timestamptz;
BEGIN
    calls := 0; completed_calls := 0; seconds := 0; appointments := 0;
    SELECT c.timezone INTO zone FROM billing.companies c WHERE c.id = period_totals.company;
    IF NOT FOUND OR start_date IS NULL OR end_date IS NULL OR as_of IS NULL THEN
        RETURN;
    END IF;
    today := CASE WHEN pg_catalog.isfinite(as_of) THEN (as_of AT TIME ZONE zone)::date
                  WHEN as_of > 'epoch' THEN 'infinity'::date ELSE '-infinity'::date END;
    SELECT COALESCE(pg_catalog.sum(u.calls), 0), COALESCE(pg_catalog.sum(u.completed_calls), 0),
           COALESCE(pg_catalog.sum(u.seconds), 0), COALESCE(pg_catalog.sum(u.appointments), 0)
      INTO calls, completed_calls, seconds, appointments
      FROM billing.usage_daily u
     WHERE u.company_id = period_totals.company AND u.day >= start_date AND u.day <= end_date AND u.day < today;
    IF today < start_date OR today > end_date THEN
        RETURN;
    END IF;
    SELECT COALESCE(pg_catalog.sum(u.calls), 0) AS calls, COALESCE(pg_catalog.sum(u.completed_calls), 0) AS completed_calls,
           COALESCE(pg_catalog.sum(u.seconds), 0) AS seconds, COALESCE(pg_catalog.sum(u.appointments), 0) AS appointments,
           pg_catalog.max(u.last_call_at) AS last_call_at, pg_catalog.max(u.last_appointment_at) AS last_appointment_at
      INTO day_totals
      FROM billing.usage_daily u WHERE u.company_id = period_totals.company AND u.day = today;
    day_from := today::timestamp AT TIME ZONE zone;
    IF day_totals.last_call_at IS NULL OR day_totals.last_call_at <= as_of THEN
        calls := calls + day_totals.calls;
        completed_calls := completed_calls + day_totals.completed_calls;
        seconds := seconds + day_totals.seconds;
    ELSE
        SELECT calls + pg_catalog.count(*), completed_calls + pg_catalog.count(*) FILTER (WHERE k.status = 'completed'),
               seconds + COALESCE(pg_catalog.sum(k.duration_sec), 0)
          INTO calls, completed_calls, seconds
          FROM billing.calls k
         WHERE k.company_id = period_totals.company AND k.started_at >= day_from AND k.started_at <= as_of;
    END IF;
    IF day_totals.last_appointment_at IS NULL OR day_totals.last_appointment_at <= as_of THEN
        appointments := appointments + day_totals.appointments;
    ELSE
        SELECT appointments + pg_catalog.count(*) INTO appointments
          FROM billing.appointments a
         WHERE a.company_id = period_totals.company AND a.booked_at >= day_from AND a.booked_at <= as_of
           AND a.status <> 'cancelled';
    END IF;
END
$$;
COMMENT ON FUNCTION billing.period_totals(bigint, date, date, timestamptz) IS
    'Calls, completed calls, seconds and booked appointments of a company-local date range';

CREATE FUNCTION billing.usage_current(company bigint DEFAULT NULL,
                                      as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_current';
COMMENT ON FUNCTION billing.usage_current(bigint, timestamptz) IS
    'The current period card: calls, minutes, appointments, costs and progress against included minutes';

CREATE FUNCTION billing.usage_projection(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_usage_projection';
COMMENT ON FUNCTION billing.usage_projection(bigint, timestamptz) IS
    'The current period card and its linear projection to the end of the period';

-- Usage and charges of every stored period, set-based from the rollup: one query for all
-- companies, usable in CREATE MATERIALIZED VIEW (unique on period_id, so also REFRESH
-- MATERIALIZED VIEW CONCURRENTLY). Periods without a plan have NULL charges. It runs with the
-- caller's rights (security_invoker), so row level security shows each role its own company only.
CREATE VIEW billing.period_usage WITH (security_invoker = true) AS
SELECT p.id AS period_id, p.company_id, p.start_date, p.end_date, p.status,
       COALESCE(u.calls, 0) AS calls, COALESCE(u.completed_calls, 0) AS completed_calls,
       pg_catalog.round(COALESCE(u.seconds, 0) / 60.0, 2) AS minutes, COALESCE(u.appointments, 0) AS appointments,
       plan.pricing_model, c.currency, (priced.charge).base_fee, (priced.charge).minutes_cost,
       (priced.charge).appointments_cost, (priced.charge).total_cost
  FROM billing.billing_periods p
  JOIN billing.companies c ON c.id = p.company_id
  LEFT JOIN LATERAL (
        SELECT pg_catalog.sum(d.calls) AS calls, pg_catalog.sum(d.completed_calls) AS completed_calls,
               pg_catalog.sum(d.seconds) AS seconds, pg_catalog.sum(d.appointments) AS appointments
          FROM billing.usage_daily d
         WHERE d.company_id = p.company_id AND d.day BETWEEN p.start_date AND p.end_date) AS u ON true
  LEFT JOIN LATERAL (
        SELECT pp.* FROM billing.pricing_plans pp
         WHERE pp.company_id = p.company_id AND pp.valid_from <= p.end_date
           AND (pp.valid_until IS NULL OR pp.valid_until >= p.start_date)
         ORDER BY pp.valid_from DESC LIMIT 1) AS plan ON true
  -- Priced once per period (OFFSET 0 keeps the subquery, and so the single call, intact), and
  -- only where a plan applies.
  LEFT JOIN LATERAL (
        SELECT CASE WHEN plan.id IS NOT NULL THEN
                    billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', c.currency),
                                          COALESCE(u.seconds, 0), COALESCE(u.appointments, 0)) END AS charge
        OFFSET 0) AS priced ON true;
COMMENT ON VIEW billing.period_usage IS
    'Usage and charges of every stored period, for reports and materialized views';
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
------------------------------------------------------------------------------------------
-- Periods, invoices and their lines: month end
--
-- The API functions here are C entry points (src/pg/api_call.cpp) over internal PL/pgSQL
-- bodies (_<name>_impl, executable by no group role): the entry point checks as_of, records
-- which API function is running, and calls the body. Invoices and their lines are written only
-- while close_period runs, an invoice is changed only while mark_invoice runs, and a period is
-- closed only by close_period (_written_only_by, src/pg/write_guard.cpp); superusers may insert
-- rows, so that pg_restore can restore them.
------------------------------------------------------------------------------------------

-- An issued invoice keeps its number, period, dates, currency and total forever; only its
-- payment status (along allowed transitions) and PDF URL change. It is never deleted.
CREATE FUNCTION billing._guard_invoice() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is issued and cannot be deleted', OLD.number
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Void it with billing.mark_invoice(id, ''void'').';
    END IF;
    IF (NEW.id, NEW.company_id, NEW.billing_period_id, NEW.number, NEW.issued_at, NEW.due_date,
        NEW.currency, NEW.total)
       IS DISTINCT FROM
       (OLD.id, OLD.company_id, OLD.billing_period_id, OLD.number, OLD.issued_at, OLD.due_date,
        OLD.currency, OLD.total) THEN
        RAISE EXCEPTION 'invoice % is issued: only its status and pdf_url can change', OLD.number
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'pending' AND NEW.status IN ('paid', 'failed', 'void'))
        OR (OLD.status = 'failed' AND NEW.status IN ('pending', 'paid', 'void'))) THEN
        RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.number, OLD.status, NEW.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pending -> paid, failed or void; failed -> pending, paid or void; paid and void are final.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON billing.invoices
    FOR EACH ROW EXECUTE FUNCTION billing._guard_invoice();

CREATE FUNCTION billing._refuse_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% of %.% is not allowed: issued billing records are immutable',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON billing.invoice_lines
    FOR EACH ROW EXECUTE FUNCTION billing._refuse_change();
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON billing.invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION billing._refuse_change();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON billing.invoices
    FOR EACH STATEMENT EXECUTE FUNCTION billing._refuse_change();

-- A closed period keeps its dates and stays closed.
CREATE FUNCTION billing._guard_closed_period() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'billing period % (% to %) is closed and cannot be changed', OLD.id,
            pg_catalog.to_char(OLD.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(OLD.end_date, 'YYYY-MM-DD')
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER billing_periods_closed_immutable BEFORE UPDATE OR DELETE ON billing.billing_periods
    FOR EACH ROW EXECUTE FUNCTION billing._guard_closed_period();

-- Refuses the row change unless the API function named by the trigger's argument is running.
CREATE FUNCTION billing._written_only_by() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_written_only_by';
CREATE TRIGGER invoices_written_by_close_period BEFORE INSERT ON billing.invoices
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER invoices_changed_by_mark_invoice BEFORE UPDATE ON billing.invoices
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('mark_invoice');
CREATE TRIGGER invoice_lines_written_by_close_period BEFORE INSERT ON billing.invoice_lines
    FOR EACH ROW EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER billing_periods_inserted_closed_by_close_period BEFORE INSERT ON billing.billing_periods
    FOR EACH ROW WHEN (NEW.status = 'closed' OR NEW.closed_at IS NOT NULL)
    EXECUTE FUNCTION billing._written_only_by('close_period');
CREATE TRIGGER billing_periods_updated_closed_by_close_period BEFORE UPDATE ON billing.billing_periods
    FOR EACH ROW WHEN (OLD.status = 'open' AND (NEW.status = 'closed' OR NEW.closed_at IS NOT NULL))
    EXECUTE FUNCTION billing._written_only_by('close_period');

-- Creates every missing period up to the one containing as_of, for every active company,
-- from the period of its first plan's valid_from. Idempotent; returns how many it created.
CREATE FUNCTION billing._ensure_periods_impl(as_of timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row record;
    today date;
    day date;
    period record;
    inserted integer;
    created integer := 0;
BEGIN
    FOR company_row IN
        SELECT c.id, c.timezone,
               (SELECT pg_catalog.min(p.valid_from) FROM billing.pricing_plans p WHERE p.company_id = c.id) AS first_day
          FROM billing.companies c WHERE c.active ORDER BY c.id
    LOOP
        CONTINUE WHEN company_row.first_day IS NULL;
        today := (as_of AT TIME ZONE company_row.timezone)::date;
        day := company_row.first_day;
        WHILE day <= today LOOP
            SELECT * INTO period FROM billing.period_for(company_row.id, day);
            IF period.period_id IS NULL THEN
                -- A concurrent ensure_periods() may insert the same period: the exclusion
                -- constraint makes that a no-op here.
                INSERT INTO billing.billing_periods (company_id, start_date, end_date)
                VALUES (company_row.id, period.start_date, period.end_date)
                ON CONFLICT DO NOTHING;
                GET DIAGNOSTICS inserted = ROW_COUNT;
                created := created + inserted;
            END IF;
            day := period.end_date + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

CREATE FUNCTION billing.ensure_periods(as_of timestamptz DEFAULT pg_catalog.now()) RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.ensure_periods(timestamptz) IS
    'Creates the missing billing periods of every active company up to as_of (for a daily job)';

-- Closes a period whose last day has passed: writes its invoice and lines, and bills usage that
-- reached earlier closed periods after they closed as adjustment lines. Idempotent: a closed
-- period returns its invoice. Concurrent calls for one period serialize on the period row.
CREATE FUNCTION billing._close_period_impl(period bigint, as_of timestamptz)
RETURNS billing.invoices
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    plan        billing.pricing_plans;
    totals      record;
    lines       jsonb;
    earlier     billing.billing_periods;
    earlier_plan billing.pricing_plans;
    billed      record;
    now_totals  record;
    old_charge  billing.charge;
    new_charge  billing.charge;
    config      jsonb;
    today       date;
    invoice     billing.invoices;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'period must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO period_row FROM billing.billing_periods bp WHERE bp.id = period FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'billing period % is not accessible', period USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF period_row.status = 'closed' THEN
        SELECT * INTO invoice FROM billing.invoices i WHERE i.billing_period_id = period_row.id;
        RETURN invoice;
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    IF today <= period_row.end_date THEN
        RAISE EXCEPTION 'billing period % runs until %: it can be closed from % on', period_row.id,
            pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD'),
            pg_catalog.to_char(period_row.end_date + 1, 'YYYY-MM-DD')
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    plan := billing.plan_for_period(company_row.id, period_row.start_date, period_row.end_date);
    IF plan.id IS NULL THEN
        RAISE EXCEPTION 'company % has no pricing plan for the period % to %', company_row.id,
            pg_catalog.to_char(period_row.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD')
            USING ERRCODE = 'no_data_found';
    END IF;

    SELECT * INTO totals FROM billing.period_totals(company_row.id, period_row.start_date, period_row.end_date, as_of);
    lines := billing.charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
    SELECT pg_catalog.jsonb_agg(l || pg_catalog.jsonb_build_object('billed_period_id', period_row.id))
      INTO lines FROM pg_catalog.jsonb_array_elements(lines) AS l;

    -- Usage of earlier closed periods that changed after they were billed (late, corrected or
    -- deleted calls): bill the difference between the charge of what the period holds now and
    -- the charge of what was billed for it, under that period's plan.
    FOR earlier IN
        SELECT * FROM billing.billing_periods bp
         WHERE bp.company_id = company_row.id AND bp.status = 'closed' AND bp.start_date < period_row.start_date
         ORDER BY bp.start_date
    LOOP
        SELECT COALESCE(pg_catalog.sum(l.billed_seconds), 0) AS seconds,
               COALESCE(pg_catalog.sum(l.billed_appointments), 0) AS appointments
          INTO billed FROM billing.invoice_lines l WHERE l.billed_period_id = earlier.id;
        SELECT * INTO now_totals FROM billing.period_totals(company_row.id, earlier.start_date, earlier.end_date, as_of);
        CONTINUE WHEN now_totals.seconds = billed.seconds AND now_totals.appointments = billed.appointments;
        earlier_plan := billing.plan_for_period(company_row.id, earlier.start_date, earlier.end_date);
        config := billing.plan_config(earlier_plan) || pg_catalog.jsonb_build_object('currency', company_row.currency);
        old_charge := billing.price_seconds(config, billed.seconds, billed.appointments);
        new_charge := billing.price_seconds(config, now_totals.seconds, now_totals.appointments);
        IF now_totals.seconds <> billed.seconds THEN
            lines := lines || pg_catalog.jsonb_build_object(
                'kind', 'minutes_adjustment',
                'description', pg_catalog.format('Adjustment for %s to %s: %s call minutes %s after the period was closed',
                    pg_catalog.to_char(earlier.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(earlier.end_date, 'YYYY-MM-DD'),
                    pg_catalog.round(pg_catalog.abs(now_totals.seconds - billed.seconds) / 60.0, 2),
                    CASE WHEN now_totals.seconds > billed.seconds THEN 'recorded' ELSE 'removed' END),
                'quantity', pg_catalog.round((now_totals.seconds - billed.seconds) / 60.0, 2),
                'unit_price', NULL,
                'amount', new_charge.minutes_cost - old_charge.minutes_cost,
                'billed_period_id', earlier.id,
                'billed_seconds', now_totals.seconds - billed.seconds, 'billed_appointments', 0);
        END IF;
        IF now_totals.appointments <> billed.appointments THEN
            lines := lines || pg_catalog.jsonb_build_object(
                'kind', 'appointments_adjustment',
                'description', pg_catalog.format('Adjustment for %s to %s: %s appointments %s after the period was closed',
                    pg_catalog.to_char(earlier.start_date, 'YYYY-MM-DD'), pg_catalog.to_char(earlier.end_date, 'YYYY-MM-DD'),
                    pg_catalog.abs(now_totals.appointments - billed.appointments),
                    CASE WHEN now_totals.appointments > billed.appointments THEN 'recorded' ELSE 'removed' END),
                'quantity', now_totals.appointments - billed.appointments,
                'unit_price', NULL,
                'amount', new_charge.appointments_cost - old_charge.appointments_cost,
                'billed_period_id', earlier.id,
                'billed_seconds', 0, 'billed_appointments', now_totals.appointments - billed.appointments);
        END IF;
    END LOOP;

    INSERT INTO billing.invoices (company_id, billing_period_id, number, issued_at, due_date, currency, total)
    SELECT company_row.id, period_row.id,
           pg_catalog.format('INV-%s-%s', company_row.id, pg_catalog.to_char(period_row.start_date, 'YYYYMMDD')),
           as_of, today + 14, company_row.currency,
           (SELECT COALESCE(pg_catalog.sum((l ->> 'amount')::numeric), 0) FROM pg_catalog.jsonb_array_elements(lines) l)
    RETURNING * INTO invoice;
    INSERT INTO billing.invoice_lines (invoice_id, company_id, line_number, kind, description, quantity, unit_price,
                                       amount, billed_period_id, billed_seconds, billed_appointments)
    SELECT invoice.id, company_row.id, x.ordinality, x.line ->> 'kind', x.line ->> 'description', (x.line ->> 'quantity')::numeric,
           (x.line ->> 'unit_price')::numeric, (x.line ->> 'amount')::numeric, (x.line ->> 'billed_period_id')::bigint,
           (x.line ->> 'billed_seconds')::bigint, (x.line ->> 'billed_appointments')::bigint
      FROM pg_catalog.jsonb_array_elements(lines) WITH ORDINALITY AS x(line, ordinality);
    UPDATE billing.billing_periods bp SET status = 'closed', closed_at = as_of WHERE bp.id = period_row.id;
    RETURN invoice;
END
$$;

CREATE FUNCTION billing.close_period(period bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS billing.invoices
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.close_period(bigint, timestamptz) IS
    'Closes an ended period and returns its invoice (the same invoice when called again)';

-- Records a payment outcome or a void, and the PDF URL the application supplies.
CREATE FUNCTION billing._mark_invoice_impl(invoice bigint, status text, pdf_url text,
                                     as_of timestamptz)
RETURNS billing.invoices
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result billing.invoices;
BEGIN
    IF invoice IS NULL OR status IS NULL THEN
        RAISE EXCEPTION 'invoice and status must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF status NOT IN ('pending', 'paid', 'failed', 'void') THEN
        RAISE EXCEPTION 'unknown invoice status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known statuses: pending, paid, failed, void.';
    END IF;
    UPDATE billing.invoices i
       SET status = _mark_invoice_impl.status,
           pdf_url = COALESCE(_mark_invoice_impl.pdf_url, i.pdf_url),
           status_changed_at = CASE WHEN i.status = _mark_invoice_impl.status THEN i.status_changed_at ELSE as_of END
     WHERE i.id = _mark_invoice_impl.invoice
    RETURNING * INTO result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % is not accessible', invoice USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN result;
END
$$;

CREATE FUNCTION billing.mark_invoice(invoice bigint, status text, pdf_url text DEFAULT NULL,
                                     as_of timestamptz DEFAULT pg_catalog.now())
RETURNS billing.invoices
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.mark_invoice(bigint, text, text, timestamptz) IS
    'Sets an invoice''s status (paid, failed, void, pending) and optionally its PDF URL';
------------------------------------------------------------------------------------------
-- The dashboard's other cards: trends, history, the period page and its CSV, upcoming charges,
-- payment methods, and the troubleshooting checks.
--
-- Each company-scoped read is a C entry point (src/pg/api_call.cpp) over an internal body
-- (_<name>_impl, executable by no group role). The entry point checks as_of, resolves the
-- company (or the period's company) against the caller, audits the read and applies the
-- viewer rate limit, and only then runs the body with the resolved company: calling the API
-- function is the only way to the body, so every read of it is audited and limited.
------------------------------------------------------------------------------------------

-- One row per period, oldest first, the current period last; periods without usage included.
CREATE FUNCTION billing._usage_trends_impl(company bigint, months integer,
                                     as_of timestamptz)
RETURNS TABLE (period_start date, period_end date, month text, calls bigint, minutes numeric,
               appointments bigint, cost numeric, currency text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    starts date[] := '{}';
    ends date[] := '{}';
    period record;
    day date;
    plan billing.pricing_plans;
    totals record;
BEGIN
    IF months IS NULL OR months NOT BETWEEN 1 AND 120 THEN
        RAISE EXCEPTION 'months must be between 1 and 120' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    day := today;
    FOR i IN 1..months LOOP
        SELECT * INTO period FROM billing.period_for(company_row.id, day);
        starts := period.start_date || starts;
        ends := period.end_date || ends;
        day := period.start_date - 1;
    END LOOP;
    FOR i IN 1..months LOOP
        SELECT * INTO totals FROM billing.period_totals(company_row.id, starts[i], ends[i], as_of);
        plan := billing.plan_for_period(company_row.id, starts[i], LEAST(ends[i], today));
        period_start := starts[i];
        period_end := ends[i];
        month := pg_catalog.to_char(starts[i], 'YYYY-MM');
        calls := totals.calls;
        minutes := pg_catalog.round(totals.seconds / 60.0, 2);
        appointments := totals.appointments;
        cost := CASE WHEN plan.id IS NULL THEN NULL ELSE
                (billing.price_seconds(billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency),
                                       totals.seconds, totals.appointments)).total_cost END;
        currency := company_row.currency;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION billing.usage_trends(company bigint DEFAULT NULL, months integer DEFAULT 6,
                                     as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period_start date, period_end date, month text, calls bigint, minutes numeric,
               appointments bigint, cost numeric, currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.usage_trends(bigint, integer, timestamptz) IS
    'Usage and cost of the last N periods, oldest first (the 6-month trend chart)';

-- Invoices, newest first (the billing history table with its status badges).
CREATE FUNCTION billing._billing_history_impl(company bigint)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    RETURN QUERY
        SELECT i.id, i.number, bp.start_date, bp.end_date, i.issued_at, i.total, i.currency, i.status, i.pdf_url
          FROM billing.invoices i JOIN billing.billing_periods bp ON bp.id = i.billing_period_id
         WHERE i.company_id = company_row.id
         ORDER BY i.issued_at DESC, i.id DESC;
END
$$;

CREATE FUNCTION billing.billing_history(company bigint DEFAULT NULL)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.billing_history(bigint) IS 'A company''s invoices, newest first';

-- The period page: period, usage, charge lines, a daily series of every day, the invoice.
CREATE FUNCTION billing._period_detail_impl(period bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    plan        billing.pricing_plans;
    totals      record;
    lines       jsonb;
    daily       jsonb;
    invoice_doc jsonb;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'period must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The entry point found the period under the caller's row level security.
    SELECT * INTO STRICT period_row FROM billing.billing_periods bp WHERE bp.id = period;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    SELECT * INTO totals FROM billing.period_totals(company_row.id, period_row.start_date, period_row.end_date);

    SELECT pg_catalog.to_jsonb(i) - 'company_id' INTO invoice_doc
      FROM billing.invoices i WHERE i.billing_period_id = period_row.id;
    IF invoice_doc IS NOT NULL THEN
        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'line_number', l.line_number, 'kind', l.kind, 'description', l.description,
                   'quantity', l.quantity, 'unit_price', l.unit_price, 'amount', l.amount)
                   ORDER BY l.line_number)
          INTO lines FROM billing.invoice_lines l WHERE l.invoice_id = (invoice_doc ->> 'id')::bigint;
    ELSE
        plan := billing.plan_for_period(company_row.id, period_row.start_date, period_row.end_date);
        IF plan.id IS NOT NULL THEN
            lines := billing.charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
        END IF;
    END IF;

    WITH days AS (
        SELECT d::date AS day FROM pg_catalog.generate_series(period_row.start_date::timestamp,
                                                              period_row.end_date::timestamp, interval '1 day') AS d
    ), bounds AS (
        SELECT (period_row.start_date::timestamp AT TIME ZONE company_row.timezone) AS period_from,
               ((period_row.end_date + 1)::timestamp AT TIME ZONE company_row.timezone) AS period_until
    ), call_days AS (
        SELECT (k.started_at AT TIME ZONE company_row.timezone)::date AS day, pg_catalog.count(*) AS calls,
               COALESCE(pg_catalog.sum(k.duration_sec), 0) AS seconds
          FROM bounds b JOIN billing.calls k ON k.company_id = company_row.id
           AND k.started_at >= b.period_from AND k.started_at < b.period_until
         GROUP BY 1
    ), appointment_days AS (
        SELECT (a.booked_at AT TIME ZONE company_row.timezone)::date AS day, pg_catalog.count(*) AS appointments
          FROM bounds b JOIN billing.appointments a ON a.company_id = company_row.id
           AND a.booked_at >= b.period_from AND a.booked_at < b.period_until AND a.status <> 'cancelled'
         GROUP BY 1
    )
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'date', pg_catalog.to_char(d.day, 'YYYY-MM-DD'), 'calls', COALESCE(c.calls, 0),
               'minutes', pg_catalog.round(COALESCE(c.seconds, 0) / 60.0, 2),
               'appointments', COALESCE(a.appointments, 0)) ORDER BY d.day)
      INTO daily
      FROM days d LEFT JOIN call_days c ON c.day = d.day LEFT JOIN appointment_days a ON a.day = d.day;

    RETURN pg_catalog.jsonb_build_object(
        'period', pg_catalog.jsonb_build_object(
            'id', period_row.id, 'company_id', period_row.company_id,
            'start', pg_catalog.to_char(period_row.start_date, 'YYYY-MM-DD'),
            'end', pg_catalog.to_char(period_row.end_date, 'YYYY-MM-DD'),
            'closed_at', period_row.closed_at),
        'status', period_row.status,
        'currency', company_row.currency,
        'usage', pg_catalog.jsonb_build_object(
            'calls', totals.calls, 'completed_calls', totals.completed_calls,
            'minutes', pg_catalog.round(totals.seconds / 60.0, 2), 'appointments', totals.appointments),
        'charges', COALESCE(lines, '[]'),
        'daily', daily,
        'invoice', invoice_doc);
END
$$;

CREATE FUNCTION billing.period_detail(period bigint) RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_detail(bigint) IS
    'The period page: usage, charge lines, every day''s usage and the invoice';

-- One RFC 4180 record (fields joined by commas, quoted where needed, formulas neutralized).
CREATE FUNCTION billing.csv_record(VARIADIC fields text[]) RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_csv_record';
COMMENT ON FUNCTION billing.csv_record(text[]) IS
    'One CSV record (RFC 4180); cells starting with = + - @ are neutralized with an apostrophe';

-- The CSV export of a period, one record a row (header first, no line terminators): streams
-- through a tuplestore, so a period with millions of calls needs work_mem, not its size.
CREATE FUNCTION billing._period_csv_lines_impl(period bigint, granularity text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row  billing.billing_periods;
    company_row billing.companies;
    period_from timestamptz;
    period_until timestamptz;
BEGIN
    IF period IS NULL OR granularity IS NULL THEN
        RAISE EXCEPTION 'period and granularity must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF granularity NOT IN ('call', 'day') THEN
        RAISE EXCEPTION 'granularity must be ''call'' or ''day'', not "%"', pg_catalog.left(granularity, 40)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The entry point found the period under the caller's row level security.
    SELECT * INTO STRICT period_row FROM billing.billing_periods bp WHERE bp.id = period;
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = period_row.company_id;
    period_from := period_row.start_date::timestamp AT TIME ZONE company_row.timezone;
    period_until := (period_row.end_date + 1)::timestamp AT TIME ZONE company_row.timezone;

    IF granularity = 'call' THEN
        RETURN NEXT billing.csv_record('call_id', 'started_at', 'timezone', 'duration_sec', 'minutes', 'status');
        RETURN QUERY
            SELECT billing.csv_record(k.external_id,
                                      pg_catalog.to_char(k.started_at AT TIME ZONE company_row.timezone, 'YYYY-MM-DD HH24:MI:SS'),
                                      company_row.timezone, k.duration_sec::text,
                                      pg_catalog.round(k.duration_sec / 60.0, 2)::text, k.status)
              FROM billing.calls k
             WHERE k.company_id = company_row.id AND k.started_at >= period_from AND k.started_at < period_until
             ORDER BY k.started_at, k.id;
    ELSE
        RETURN NEXT billing.csv_record('date', 'calls', 'completed_calls', 'minutes', 'appointments');
        RETURN QUERY
            SELECT billing.csv_record(pg_catalog.to_char(d.day, 'YYYY-MM-DD'), d.calls::text,
                                      d.completed_calls::text, pg_catalog.round(d.seconds / 60.0, 2)::text,
                                      d.appointments::text)
              FROM (SELECT g::date AS day, t.calls, t.completed_calls, t.seconds, t.appointments
                      FROM pg_catalog.generate_series(period_row.start_date::timestamp, period_row.end_date::timestamp,
                                                      interval '1 day') AS g,
                           LATERAL billing.period_totals(company_row.id, g::date, g::date) AS t) AS d
             ORDER BY d.day;
    END IF;
END
$$;

CREATE FUNCTION billing.period_csv_lines(period bigint, granularity text DEFAULT 'call')
RETURNS SETOF text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv_lines(bigint, text) IS
    'The CSV export of a period as one record a row, for streaming very large periods';

-- The CSV export of a period as one text: the records of _period_csv_lines_impl, each ended
-- by CRLF, header first (joined by the C entry point).
CREATE FUNCTION billing.period_csv(period bigint, granularity text DEFAULT 'call') RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.period_csv(bigint, text) IS
    'The CSV export of a period (RFC 4180, CRLF, header row; granularity call or day)';

-- The upcoming charges card: next renewal, its base fee, and the projected current period.
CREATE FUNCTION billing._upcoming_charges_impl(company bigint,
                                         as_of timestamptz, projection jsonb,
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_overage numeric, OUT projected_total numeric,
                                         OUT currency text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    next_plan billing.pricing_plans;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    renewal_date := (projection #>> '{current,period,end}')::date + 1;
    next_plan := billing.plan_for_period(company_row.id, renewal_date, renewal_date);
    IF next_plan.id IS NOT NULL THEN
        next_base_fee := (billing.price_seconds(billing.plan_config(next_plan)
                              || pg_catalog.jsonb_build_object('currency', company_row.currency), 0, 0)).base_fee;
    END IF;
    projected_total := (projection #>> '{projected,costs,total_cost}')::numeric;
    projected_overage := projected_total - (projection #>> '{projected,costs,base_fee}')::numeric;
    currency := company_row.currency;
END
$$;

CREATE FUNCTION billing.upcoming_charges(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now(),
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_overage numeric, OUT projected_total numeric,
                                         OUT currency text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.upcoming_charges(bigint, timestamptz) IS
    'Next renewal date and base fee, projected usage charges and total of the current period';

-- A company's payment methods, the default first.
CREATE FUNCTION billing._company_payment_methods_impl(company bigint,
                                                as_of timestamptz)
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    RETURN QUERY
        SELECT m.id, m.brand, m.last4, pg_catalog.format('%s/%s', pg_catalog.lpad(m.exp_month::text, 2, '0'), m.exp_year),
               m.is_default,
               pg_catalog.make_date(m.exp_year, m.exp_month, 1) + interval '1 month' <= today,
               m.provider, m.provider_reference
          FROM billing.payment_methods m
         WHERE m.company_id = company_row.id
         ORDER BY m.is_default DESC, m.created_at DESC, m.id DESC;
END
$$;

CREATE FUNCTION billing.company_payment_methods(company bigint DEFAULT NULL,
                                                as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.company_payment_methods(bigint, timestamptz) IS
    'A company''s payment methods for display, the default first and marked';

-- Makes one method the company's default (and no other).
CREATE FUNCTION billing.set_default_payment_method(method bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner bigint;
BEGIN
    SELECT m.company_id INTO owner FROM billing.payment_methods m WHERE m.id = method FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment method % is not accessible', method USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE billing.payment_methods m SET is_default = false WHERE m.company_id = owner AND m.is_default AND m.id <> method;
    UPDATE billing.payment_methods m SET is_default = true WHERE m.id = method;
END
$$;


CREATE FUNCTION billing._diagnose_impl(company bigint, as_of timestamptz)
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
    period record;
    plan billing.pricing_plans;
    recent bigint;
    runtime record;
BEGIN
    SELECT * INTO STRICT company_row FROM billing.companies c WHERE c.id = company;
    "check" := 'company_active';
    ok := company_row.active;
    detail := pg_catalog.format('%s (%s, %s)', company_row.name, company_row.timezone,
                                CASE WHEN company_row.active THEN 'active' ELSE 'inactive' END);
    RETURN NEXT;

    today := (as_of AT TIME ZONE company_row.timezone)::date;
    SELECT * INTO period FROM billing.period_for(company_row.id, today);
    "check" := 'current_period';
    ok := true;
    detail := pg_catalog.format('%s to %s, %s', pg_catalog.to_char(period.start_date, 'YYYY-MM-DD'),
                                pg_catalog.to_char(period.end_date, 'YYYY-MM-DD'),
                                CASE WHEN period.period_id IS NULL
                                     THEN pg_catalog.format('derived from anchor day %s (no stored row; billing.ensure_periods() creates it)',
                                                            company_row.billing_anchor_day)
                                     ELSE pg_catalog.format('stored as period %s (%s)', period.period_id, period.status) END);
    RETURN NEXT;

    SELECT pg_catalog.count(*) INTO recent FROM billing.calls k
     WHERE k.company_id = company_row.id AND k.started_at > as_of - interval '30 days' AND k.started_at <= as_of;
    "check" := 'calls_last_30_days';
    ok := recent > 0;
    detail := pg_catalog.format('%s calls', recent);
    RETURN NEXT;

    plan := billing.plan_for_period(company_row.id, today, today);
    "check" := 'plan_valid_now';
    ok := plan.id IS NOT NULL;
    detail := CASE WHEN plan.id IS NULL
                   THEN pg_catalog.format('no plan is valid on %s', pg_catalog.to_char(today, 'YYYY-MM-DD'))
                   ELSE pg_catalog.format('plan %s (%s) valid from %s', plan.id, plan.pricing_model,
                                          pg_catalog.to_char(plan.valid_from, 'YYYY-MM-DD')) END;
    RETURN NEXT;

    "check" := 'plan_parameters_complete';
    IF plan.id IS NULL THEN
        ok := false;
        detail := 'no plan to check';
    ELSE
        BEGIN
            PERFORM billing.price(billing.plan_config(plan), 0, 0);
            ok := true;
            detail := billing.plan_config(plan)::text;
        EXCEPTION WHEN OTHERS THEN
            ok := false;
            detail := SQLERRM;
        END;
    END IF;
    RETURN NEXT;

    SELECT * INTO runtime FROM billing.runtime_status();
    "check" := 'library_preloaded';
    ok := runtime.preloaded;
    detail := CASE WHEN runtime.preloaded THEN 'company_billing is in shared_preload_libraries'
                   ELSE 'company_billing is not in shared_preload_libraries: the rate limiter and the audit writer are off' END;
    RETURN NEXT;

    -- What happens to an API read in this database; the cluster's counters only for administrators.
    "check" := 'audit_writer';
    ok := runtime.audit IN ('audited', 'off');
    detail := CASE runtime.audit
        WHEN 'audited' THEN 'API reads in this database are audited in billing.audit_log'
        WHEN 'off' THEN 'billing.audit is off: API reads in this database are not audited'
        WHEN 'refused' THEN pg_catalog.format('API reads in this database are refused: the audit writer serves database %s '
                                              '(set billing.database, or billing.audit = off for this database)',
                                              runtime.audit_database)
        ELSE 'library not preloaded: API reads are not audited' END
        || CASE WHEN runtime.audit_queued IS NULL THEN ''
                WHEN runtime.audit_writer_pid IS NULL THEN pg_catalog.format('; the audit writer is not running (a standby, or it is restarting): %s queued, %s written, %s dropped',
                                       runtime.audit_queued, runtime.audit_written, runtime.audit_dropped)
                ELSE pg_catalog.format('; writer pid %s: %s queued, %s written, %s dropped', runtime.audit_writer_pid,
                                       runtime.audit_queued, runtime.audit_written, runtime.audit_dropped) END;
    RETURN NEXT;

    "check" := 'rate_limiter';
    ok := runtime.preloaded;
    detail := CASE WHEN NOT runtime.preloaded THEN 'off (library not preloaded): viewers are not rate limited'
                   ELSE pg_catalog.format('on: %s calls a minute per viewer role', pg_catalog.current_setting('billing.viewer_rate_limit'))
                        || CASE WHEN runtime.rate_limit_keys IS NULL THEN ''
                                ELSE pg_catalog.format('; %s application keys and %s viewer keys tracked',
                                                       runtime.rate_limit_keys, runtime.viewer_rate_limit_keys) END END;
    RETURN NEXT;
END
$$;

CREATE FUNCTION billing.diagnose(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.diagnose(bigint, timestamptz) IS
    'The troubleshooting guide as one call: one row per check';
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

-- What the audit and the limiter do in this database: `audit` is 'audited', 'refused' (the
-- audit writer serves another database, so API reads here are refused), 'off' (billing.audit)
-- or 'unavailable' (the library is not preloaded). The cluster-wide counters are shown to
-- billing_admin members (and superusers) only, NULL for everyone else.
CREATE FUNCTION billing.runtime_status(OUT preloaded boolean, OUT audit text, OUT audit_database text,
                                       OUT audit_writer_pid integer, OUT audit_queued bigint,
                                       OUT audit_written bigint, OUT audit_dropped bigint,
                                       OUT rate_limit_keys bigint, OUT viewer_rate_limit_keys bigint)
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
------------------------------------------------------------------------------------------
-- Security (docs/design.md, "Security model"): row level security and privileges
------------------------------------------------------------------------------------------

-- Row level security on every table, forced (also for the table owner), failing closed.
DO $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY ARRAY['companies', 'pricing_plans', 'billing_periods', 'calls', 'appointments',
                                      'invoices', 'invoice_lines', 'payment_methods', 'viewer_companies', 'audit_log',
                                      'usage_daily'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I ENABLE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('ALTER TABLE billing.%I FORCE ROW LEVEL SECURITY', table_name);
        EXECUTE pg_catalog.format('CREATE POLICY %I ON billing.%I TO billing_admin USING (true) WITH CHECK (true)',
                                  table_name || '_admin', table_name);
    END LOOP;
    -- Viewers and the application read one company: the scalar subquery evaluates the company
    -- once per statement.
    FOREACH table_name IN ARRAY ARRAY['pricing_plans', 'billing_periods', 'calls', 'appointments',
                                      'invoices', 'invoice_lines', 'payment_methods', 'usage_daily'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY %I ON billing.%I FOR SELECT TO billing_viewer, billing_app '
            'USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()))',
            table_name || '_company', table_name);
    END LOOP;
END
$$;
CREATE POLICY companies_company ON billing.companies FOR SELECT TO billing_viewer, billing_app
    USING (id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
-- The application keeps payment methods in sync with the payment provider.
CREATE POLICY payment_methods_app_write ON billing.payment_methods FOR ALL TO billing_app
    USING (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()))
    WITH CHECK (company_id OPERATOR(pg_catalog.=) (SELECT billing.current_company()));
-- A viewer may read its own mapping (the company it already sees), nothing else.
CREATE POLICY viewer_companies_own ON billing.viewer_companies FOR SELECT TO billing_viewer
    USING (role::pg_catalog.oid OPERATOR(pg_catalog.=)
           (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER));

-- Privileges. PUBLIC: the schema's names and the pure functions. Every function whose name
-- starts with "_" stays executable by nobody but its owner (superusers): API functions reach
-- their internal bodies from C, without SQL.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing FROM PUBLIC;
GRANT USAGE ON SCHEMA billing TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    billing.price(jsonb, numeric, numeric), billing.price(text, numeric, numeric),
    billing.price(billing.pricing_plans, numeric, numeric), billing.price_seconds(jsonb, numeric, numeric),
    billing.plan_config(billing.pricing_plans), billing.charge_lines(billing.pricing_plans, text, bigint, bigint),
    billing.csv_record(text[]), billing.is_valid_timezone(text), billing.looks_like_card_number(text)
    TO PUBLIC;

-- Reading: the dashboard API (audited; see the README) and the scope helpers (not audited: they
-- return what the caller's row level security already lets it select).
GRANT EXECUTE ON FUNCTION
    billing.usage_current(bigint, timestamptz), billing.usage_projection(bigint, timestamptz),
    billing.usage_trends(bigint, integer, timestamptz), billing.upcoming_charges(bigint, timestamptz),
    billing.billing_history(bigint), billing.period_detail(bigint),
    billing.period_csv(bigint, text), billing.period_csv_lines(bigint, text),
    billing.company_payment_methods(bigint, timestamptz), billing.diagnose(bigint, timestamptz),
    billing.current_company(), billing.resolve_company(bigint), billing.period_for(bigint, date),
    billing.plan_for_period(bigint, date, date), billing.period_totals(bigint, date, date, timestamptz),
    billing.runtime_status()
    TO billing_viewer, billing_app, billing_admin;
GRANT SELECT ON billing.companies, billing.pricing_plans, billing.billing_periods, billing.calls,
    billing.appointments, billing.invoices, billing.invoice_lines, billing.payment_methods,
    billing.usage_daily, billing.period_usage
    TO billing_viewer, billing_app;
GRANT SELECT ON billing.viewer_companies TO billing_viewer;
GRANT SELECT ON billing.period_usage TO billing_admin;

-- The application: rate limits of its own and payment method sync.
GRANT EXECUTE ON FUNCTION billing.throttle(text, integer, timestamptz),
    billing.set_default_payment_method(bigint) TO billing_app, billing_admin;
GRANT INSERT, UPDATE, DELETE ON billing.payment_methods TO billing_app;
GRANT USAGE ON SEQUENCE billing.payment_methods_id_seq TO billing_app;

-- Administration: plans, periods, ingestion, closing, access, the rollup.
GRANT EXECUTE ON FUNCTION
    billing.record_call(bigint, text, timestamptz, integer, text),
    billing.record_appointment(bigint, text, timestamptz, text, text),
    billing.ensure_periods(timestamptz), billing.close_period(bigint, timestamptz),
    billing.mark_invoice(bigint, text, text, timestamptz),
    billing.grant_company_access(regrole, bigint), billing.revoke_company_access(regrole, bigint),
    billing.audit_flush_wait(interval),
    billing.rebuild_usage_daily(bigint), billing.verify_usage_daily(bigint), billing.raw_usage_daily(bigint)
    TO billing_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA billing TO billing_admin;
REVOKE INSERT, UPDATE, DELETE ON billing.period_usage FROM billing_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA billing TO billing_admin;
