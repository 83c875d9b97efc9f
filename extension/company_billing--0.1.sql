-- company_billing 0.1: schema, pricing evaluators, ingestion and the usage functions.
--
-- Conventions (DESIGN.md section 5): every object is schema-qualified, every function pins
-- search_path to pg_catalog, pg_temp (pg_temp last, so a temporary object can never shadow a
-- built-in), nothing is created with OR REPLACE or IF NOT EXISTS, no function is SECURITY DEFINER.

\echo Use "CREATE EXTENSION company_billing" to load this file. \quit

------------------------------------------------------------------------------------------
-- Validation helpers used by table constraints
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

------------------------------------------------------------------------------------------
-- Tables (DESIGN.md section 2). Applications may write them directly.
------------------------------------------------------------------------------------------

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
    CONSTRAINT companies_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
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
    CONSTRAINT pricing_plans_base_fee_range CHECK (base_fee >= 0 AND base_fee < 'Infinity'),
    CONSTRAINT pricing_plans_included_minutes_range CHECK (included_minutes >= 0 AND included_minutes < 'Infinity'),
    CONSTRAINT pricing_plans_overage_per_minute_range CHECK (overage_per_minute >= 0 AND overage_per_minute < 'Infinity'),
    CONSTRAINT pricing_plans_per_minute_rate_range CHECK (per_minute_rate >= 0 AND per_minute_rate < 'Infinity'),
    CONSTRAINT pricing_plans_per_appointment_rate_range CHECK (per_appointment_rate >= 0 AND per_appointment_rate < 'Infinity'),
    CONSTRAINT pricing_plans_package_minutes_range CHECK (package_minutes >= 0 AND package_minutes < 'Infinity'),
    CONSTRAINT pricing_plans_package_appointments_range CHECK (package_appointments >= 0 AND package_appointments < 'Infinity'),
    CONSTRAINT pricing_plans_overage_per_appointment_range CHECK (overage_per_appointment >= 0 AND overage_per_appointment < 'Infinity'),
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
    CONSTRAINT calls_started_at_check CHECK (pg_catalog.isfinite(started_at)),
    CONSTRAINT calls_duration_sec_check CHECK (duration_sec >= 0),
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
    CONSTRAINT appointments_booked_at_check CHECK (pg_catalog.isfinite(booked_at)),
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

-- The JSON form of a plan row: its model and its non-NULL parameters.
CREATE FUNCTION billing.plan_config(plan billing.pricing_plans) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'pricing_model', plan.pricing_model,
        'base_fee', plan.base_fee,
        'included_minutes', plan.included_minutes,
        'overage_per_minute', plan.overage_per_minute,
        'per_minute_rate', plan.per_minute_rate,
        'per_appointment_rate', plan.per_appointment_rate,
        'package_minutes', plan.package_minutes,
        'package_appointments', plan.package_appointments,
        'overage_per_appointment', plan.overage_per_appointment))
$$;

CREATE FUNCTION billing.price(plan billing.pricing_plans, minutes numeric, appointments numeric)
RETURNS billing.charge
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing.price(billing.plan_config(plan), minutes, appointments) $$;
COMMENT ON FUNCTION billing.price(billing.pricing_plans, numeric, numeric) IS
    'Prices minutes and appointments under a billing.pricing_plans row (rounded to 2 decimals)';

------------------------------------------------------------------------------------------
-- Companies and periods
------------------------------------------------------------------------------------------

-- The company a call is about: the argument, or (NULL) the transaction's billing.company_id.
CREATE FUNCTION billing.resolve_company(company bigint) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text;
BEGIN
    IF company IS NOT NULL THEN
        RETURN company;
    END IF;
    setting := pg_catalog.current_setting('billing.company_id', true);
    IF setting IS NULL OR setting = '' THEN
        RAISE EXCEPTION 'no company selected'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Pass a company id, or SET LOCAL billing.company_id in the transaction.';
    END IF;
    IF setting !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'billing.company_id must be a company id, not "%"', pg_catalog.left(setting, 40)
            USING ERRCODE = 'invalid_text_representation';
    END IF;
    RETURN setting::bigint;
END
$$;

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

------------------------------------------------------------------------------------------
-- Ingestion: idempotent on (company, external_id)
------------------------------------------------------------------------------------------

CREATE FUNCTION billing.record_call(company bigint, external_id text, started_at timestamptz,
                                    duration_sec integer, status text DEFAULT 'completed')
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF company IS NULL OR external_id IS NULL OR started_at IS NULL OR duration_sec IS NULL
       OR status IS NULL THEN
        RAISE EXCEPTION 'record_call: % must not be NULL',
            CASE WHEN company IS NULL THEN 'company' WHEN external_id IS NULL THEN 'external_id'
                 WHEN started_at IS NULL THEN 'started_at' WHEN duration_sec IS NULL THEN 'duration_sec'
                 ELSE 'status' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.length(external_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'record_call: external_id must have 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_catalog.isfinite(started_at) THEN
        RAISE EXCEPTION 'record_call: started_at must be a finite timestamp'
            USING ERRCODE = 'datetime_field_overflow';
    END IF;
    IF duration_sec < 0 THEN
        RAISE EXCEPTION 'record_call: duration_sec must not be negative, got %', duration_sec
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF status NOT IN ('completed', 'failed', 'missed', 'busy', 'no_answer') THEN
        RAISE EXCEPTION 'record_call: unknown call status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Known statuses: completed, failed, missed, busy, no_answer.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.companies c WHERE c.id = record_call.company) THEN
        RAISE EXCEPTION 'record_call: company % does not exist', company
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
    VALUES (record_call.company, record_call.external_id, record_call.started_at,
            record_call.duration_sec, record_call.status)
    ON CONFLICT ON CONSTRAINT calls_company_external_id_key DO NOTHING;
    RETURN FOUND;
END
$$;
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
    IF NOT pg_catalog.isfinite(booked_at) THEN
        RAISE EXCEPTION 'record_appointment: booked_at must be a finite timestamp'
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
-- Usage: the dashboard's current-period card and month-end projection
------------------------------------------------------------------------------------------

-- The computing half, in C++ (src/core/usage.cpp): raw totals and plan in, jsonb out.
CREATE FUNCTION billing._usage_document(config jsonb, period_start date, period_end date,
                                        today date, calls_total bigint, calls_completed bigint,
                                        total_seconds bigint, appointments bigint,
                                        with_projection boolean)
RETURNS jsonb
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_usage_document';

-- Shared steps of every company-scoped read.

-- Rejects a NULL or infinite as_of.
CREATE FUNCTION billing._check_as_of(as_of timestamptz) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION 'as_of must be a finite timestamp' USING ERRCODE = 'datetime_field_overflow';
    END IF;
END
$$;

-- The company row a read is about (the argument, or the transaction's company).
CREATE FUNCTION billing._company(company bigint) RETURNS billing.companies
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_company bigint := billing.resolve_company(company);
    company_row billing.companies;
BEGIN
    SELECT * INTO company_row FROM billing.companies c WHERE c.id = target_company;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % is not accessible', target_company
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN company_row;
END
$$;

-- The plan of a period: the latest plan that took effect by `last_day` and was still valid
-- on or after `first_day`. NULL when there is none.
CREATE FUNCTION billing.plan_for_period(company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p FROM billing.pricing_plans p
     WHERE p.company_id = plan_for_period.company AND p.valid_from <= plan_for_period.last_day
       AND (p.valid_until IS NULL OR p.valid_until >= plan_for_period.first_day)
     ORDER BY p.valid_from DESC LIMIT 1
$$;
COMMENT ON FUNCTION billing.plan_for_period(bigint, date, date) IS
    'The pricing plan that applies to a period (the latest one in force by its last day)';

-- The raw totals of a company's local date range, counting what happened up to as_of.
CREATE FUNCTION billing.period_totals(company bigint, start_date date, end_date date,
                                      as_of timestamptz DEFAULT 'infinity',
                                      OUT calls bigint, OUT completed_calls bigint,
                                      OUT seconds bigint, OUT appointments bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH bounds AS (
        -- Company-local midnight of the first day and of the day after the last one.
        SELECT (period_totals.start_date::timestamp AT TIME ZONE c.timezone) AS period_from,
               ((period_totals.end_date + 1)::timestamp AT TIME ZONE c.timezone) AS period_until
          FROM billing.companies c WHERE c.id = period_totals.company
    ), call_totals AS (
        SELECT pg_catalog.count(*) AS calls,
               pg_catalog.count(*) FILTER (WHERE k.status = 'completed') AS completed_calls,
               COALESCE(pg_catalog.sum(k.duration_sec), 0)::bigint AS seconds
          FROM bounds b JOIN billing.calls k
            ON k.company_id = period_totals.company AND k.started_at >= b.period_from
           AND k.started_at < b.period_until AND k.started_at <= period_totals.as_of
    ), appointment_totals AS (
        SELECT pg_catalog.count(*) AS appointments
          FROM bounds b JOIN billing.appointments a
            ON a.company_id = period_totals.company AND a.booked_at >= b.period_from
           AND a.booked_at < b.period_until AND a.booked_at <= period_totals.as_of
           AND a.status <> 'cancelled'
    )
    SELECT ct.calls, ct.completed_calls, ct.seconds, apt.appointments
      FROM call_totals ct, appointment_totals apt
$$;
COMMENT ON FUNCTION billing.period_totals(bigint, date, date, timestamptz) IS
    'Calls, completed calls, seconds and booked appointments of a company-local date range';

-- The gathering half: company, period, plan and the period's totals up to as_of.
CREATE FUNCTION billing._usage(company bigint, as_of timestamptz, with_projection boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today       date;
    period      record;
    plan        billing.pricing_plans;
    totals      record;
BEGIN
    PERFORM billing._check_as_of(as_of);
    company_row := billing._company(company);
    today := (as_of AT TIME ZONE company_row.timezone)::date;
    SELECT * INTO period FROM billing.period_for(company_row.id, today);
    plan := billing.plan_for_period(company_row.id, period.start_date, today);
    IF plan.id IS NULL THEN
        RAISE EXCEPTION 'company % has no pricing plan valid on %', company_row.id,
                        pg_catalog.to_char(today, 'YYYY-MM-DD')
            USING ERRCODE = 'no_data_found',
                  HINT = 'Insert a row into billing.pricing_plans whose validity covers this date.';
    END IF;
    SELECT * INTO totals FROM billing.period_totals(company_row.id, period.start_date, period.end_date, as_of);
    RETURN billing._usage_document(
        billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency),
        period.start_date, period.end_date, today,
        totals.calls, totals.completed_calls, totals.seconds, totals.appointments, with_projection);
END
$$;

CREATE FUNCTION billing.usage_current(company bigint DEFAULT NULL,
                                      as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing._usage(company, as_of, false) $$;
COMMENT ON FUNCTION billing.usage_current(bigint, timestamptz) IS
    'The current period card: calls, minutes, appointments, costs and progress against included minutes';

CREATE FUNCTION billing.usage_projection(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now())
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT billing._usage(company, as_of, true) $$;
COMMENT ON FUNCTION billing.usage_projection(bigint, timestamptz) IS
    'The current period card and its linear projection to the end of the period';

------------------------------------------------------------------------------------------
-- Periods, invoices and their lines
------------------------------------------------------------------------------------------

CREATE INDEX billing_periods_company_start_idx ON billing.billing_periods (company_id, start_date);

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

-- Creates every missing period up to the one containing as_of, for every active company,
-- from the period of its first plan's valid_from. Idempotent; returns how many it created.
CREATE FUNCTION billing.ensure_periods(as_of timestamptz DEFAULT pg_catalog.now()) RETURNS integer
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
    PERFORM billing._check_as_of(as_of);
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
COMMENT ON FUNCTION billing.ensure_periods(timestamptz) IS
    'Creates the missing billing periods of every active company up to as_of (for a daily job)';

-- The charge lines of a period's own usage under its plan, as a jsonb array of
-- {kind, description, quantity, unit_price, amount, billed_seconds, billed_appointments}.
CREATE FUNCTION billing._charge_lines(plan billing.pricing_plans, currency text, seconds bigint,
                                      appointments bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
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

-- Closes a period whose last day has passed: writes its invoice and lines, and bills usage that
-- reached earlier closed periods after they closed as adjustment lines. Idempotent: a closed
-- period returns its invoice. Concurrent calls for one period serialize on the period row.
CREATE FUNCTION billing.close_period(period bigint, as_of timestamptz DEFAULT pg_catalog.now())
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
    PERFORM billing._check_as_of(as_of);
    SELECT * INTO period_row FROM billing.billing_periods bp WHERE bp.id = period FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'billing period % is not accessible', period USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF period_row.status = 'closed' THEN
        SELECT * INTO invoice FROM billing.invoices i WHERE i.billing_period_id = period_row.id;
        RETURN invoice;
    END IF;
    company_row := billing._company(period_row.company_id);
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
    lines := billing._charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
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
    INSERT INTO billing.invoice_lines (invoice_id, line_number, kind, description, quantity, unit_price, amount,
                                       billed_period_id, billed_seconds, billed_appointments)
    SELECT invoice.id, x.ordinality, x.line ->> 'kind', x.line ->> 'description', (x.line ->> 'quantity')::numeric,
           (x.line ->> 'unit_price')::numeric, (x.line ->> 'amount')::numeric, (x.line ->> 'billed_period_id')::bigint,
           (x.line ->> 'billed_seconds')::bigint, (x.line ->> 'billed_appointments')::bigint
      FROM pg_catalog.jsonb_array_elements(lines) WITH ORDINALITY AS x(line, ordinality);
    UPDATE billing.billing_periods bp SET status = 'closed', closed_at = as_of WHERE bp.id = period_row.id;
    RETURN invoice;
END
$$;
COMMENT ON FUNCTION billing.close_period(bigint, timestamptz) IS
    'Closes an ended period and returns its invoice (the same invoice when called again)';

-- Records a payment outcome or a void, and the PDF URL the application supplies.
CREATE FUNCTION billing.mark_invoice(invoice bigint, status text, pdf_url text DEFAULT NULL,
                                     as_of timestamptz DEFAULT pg_catalog.now())
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
    PERFORM billing._check_as_of(as_of);
    IF status NOT IN ('pending', 'paid', 'failed', 'void') THEN
        RAISE EXCEPTION 'unknown invoice status "%"', pg_catalog.left(status, 40)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known statuses: pending, paid, failed, void.';
    END IF;
    UPDATE billing.invoices i
       SET status = mark_invoice.status,
           pdf_url = COALESCE(mark_invoice.pdf_url, i.pdf_url),
           status_changed_at = CASE WHEN i.status = mark_invoice.status THEN i.status_changed_at ELSE as_of END
     WHERE i.id = mark_invoice.invoice
    RETURNING * INTO result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice % is not accessible', invoice USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION billing.mark_invoice(bigint, text, text, timestamptz) IS
    'Sets an invoice''s status (paid, failed, void, pending) and optionally its PDF URL';

------------------------------------------------------------------------------------------
-- The dashboard's other cards
------------------------------------------------------------------------------------------

-- One row per period, oldest first, the current period last; periods without usage included.
CREATE FUNCTION billing.usage_trends(company bigint DEFAULT NULL, months integer DEFAULT 6,
                                     as_of timestamptz DEFAULT pg_catalog.now())
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
    PERFORM billing._check_as_of(as_of);
    company_row := billing._company(company);
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
COMMENT ON FUNCTION billing.usage_trends(bigint, integer, timestamptz) IS
    'Usage and cost of the last N periods, oldest first (the 6-month trend chart)';

-- Invoices, newest first (the billing history table with its status badges).
CREATE FUNCTION billing.billing_history(company bigint DEFAULT NULL)
RETURNS TABLE (invoice_id bigint, number text, period_start date, period_end date,
               issued_at timestamptz, total numeric, currency text, status text, pdf_url text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies := billing._company(company);
BEGIN
    RETURN QUERY
        SELECT i.id, i.number, bp.start_date, bp.end_date, i.issued_at, i.total, i.currency, i.status, i.pdf_url
          FROM billing.invoices i JOIN billing.billing_periods bp ON bp.id = i.billing_period_id
         WHERE i.company_id = company_row.id
         ORDER BY i.issued_at DESC, i.id DESC;
END
$$;
COMMENT ON FUNCTION billing.billing_history(bigint) IS 'A company''s invoices, newest first';

-- The period page: period, usage, charge lines, a daily series of every day, the invoice.
CREATE FUNCTION billing.period_detail(period bigint) RETURNS jsonb
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
    SELECT * INTO period_row FROM billing.billing_periods bp WHERE bp.id = period;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'billing period % is not accessible', period USING ERRCODE = 'insufficient_privilege';
    END IF;
    company_row := billing._company(period_row.company_id);
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
            lines := billing._charge_lines(plan, company_row.currency, totals.seconds, totals.appointments);
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
CREATE FUNCTION billing.period_csv_lines(period bigint, granularity text DEFAULT 'call')
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
    SELECT * INTO period_row FROM billing.billing_periods bp WHERE bp.id = period;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'billing period % is not accessible', period USING ERRCODE = 'insufficient_privilege';
    END IF;
    company_row := billing._company(period_row.company_id);
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
COMMENT ON FUNCTION billing.period_csv_lines(bigint, text) IS
    'The CSV export of a period as one record a row, for streaming very large periods';

-- The CSV export of a period as one text: records joined with CRLF, header first.
CREATE FUNCTION billing.period_csv(period bigint, granularity text DEFAULT 'call') RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.string_agg(line || E'\r\n', '' ORDER BY n)
      FROM billing.period_csv_lines(period, granularity) WITH ORDINALITY AS x(line, n)
$$;
COMMENT ON FUNCTION billing.period_csv(bigint, text) IS
    'The CSV export of a period (RFC 4180, CRLF, header row; granularity call or day)';

-- The upcoming charges card: next renewal, its base fee, and the projected current period.
CREATE FUNCTION billing.upcoming_charges(company bigint DEFAULT NULL,
                                         as_of timestamptz DEFAULT pg_catalog.now(),
                                         OUT renewal_date date, OUT next_base_fee numeric,
                                         OUT projected_overage numeric, OUT projected_total numeric,
                                         OUT currency text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies := billing._company(company);
    projection jsonb := billing._usage(company_row.id, as_of, true);
    next_plan billing.pricing_plans;
BEGIN
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
COMMENT ON FUNCTION billing.upcoming_charges(bigint, timestamptz) IS
    'Next renewal date and base fee, projected usage charges and total of the current period';

------------------------------------------------------------------------------------------
-- Payment methods: display data synced from the payment provider, never a card number
------------------------------------------------------------------------------------------

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

-- A company's payment methods, the default first.
CREATE FUNCTION billing.company_payment_methods(company bigint DEFAULT NULL,
                                                as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (id bigint, brand text, last4 text, expiry text, is_default boolean, expired boolean,
               provider text, provider_reference text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    company_row billing.companies;
    today date;
BEGIN
    PERFORM billing._check_as_of(as_of);
    company_row := billing._company(company);
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

------------------------------------------------------------------------------------------
-- Troubleshooting: the original guide's checks as one call
------------------------------------------------------------------------------------------

CREATE FUNCTION billing.diagnose(company bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE ("check" text, ok boolean, detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target bigint := billing.resolve_company(company);
    company_row billing.companies;
    today date;
    period record;
    plan billing.pricing_plans;
    recent bigint;
    preloaded boolean;
BEGIN
    PERFORM billing._check_as_of(as_of);
    SELECT * INTO company_row FROM billing.companies c WHERE c.id = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % is not accessible', target USING ERRCODE = 'insufficient_privilege';
    END IF;
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

    preloaded := 'company_billing' = ANY (pg_catalog.string_to_array(
                     pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','));
    "check" := 'library_preloaded';
    ok := preloaded;
    detail := CASE WHEN preloaded THEN 'company_billing is in shared_preload_libraries'
                   ELSE 'company_billing is not in shared_preload_libraries' END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION billing.diagnose(bigint, timestamptz) IS
    'The troubleshooting guide as one call: one row per check';

------------------------------------------------------------------------------------------
-- Test support
------------------------------------------------------------------------------------------

-- Exercises the C++/PostgreSQL exception boundary in both directions (src/pg/boundary_selftest.cpp).
CREATE FUNCTION billing._boundary_selftest(mode text) RETURNS bigint
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'billing_boundary_selftest';
REVOKE ALL ON FUNCTION billing._boundary_selftest(text) FROM PUBLIC;
