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

-- The gathering half: company, period, plan and the period's totals up to as_of.
CREATE FUNCTION billing._usage(company bigint, as_of timestamptz, with_projection boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target_company bigint;
    company_row  billing.companies;
    today        date;
    period       record;
    plan         billing.pricing_plans;
    period_from  timestamptz;
    period_until timestamptz;
    calls_total     bigint;
    calls_completed bigint;
    total_seconds   bigint;
    appointment_count bigint;
BEGIN
    IF as_of IS NULL THEN
        RAISE EXCEPTION 'as_of must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION 'as_of must be a finite timestamp' USING ERRCODE = 'datetime_field_overflow';
    END IF;
    target_company := billing.resolve_company(company);
    SELECT * INTO company_row FROM billing.companies c WHERE c.id = target_company;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % is not accessible', target_company USING ERRCODE = 'insufficient_privilege';
    END IF;

    today := (as_of AT TIME ZONE company_row.timezone)::date;
    SELECT * INTO period FROM billing.period_for(target_company, today);
    -- The plan of the period: the latest one that took effect by today and was still valid
    -- at some point of the period.
    SELECT * INTO plan FROM billing.pricing_plans p
     WHERE p.company_id = company_row.id AND p.valid_from <= today
       AND (p.valid_until IS NULL OR p.valid_until >= period.start_date)
     ORDER BY p.valid_from DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'company % has no pricing plan valid on %', target_company,
                        pg_catalog.to_char(today, 'YYYY-MM-DD')
            USING ERRCODE = 'no_data_found',
                  HINT = 'Insert a row into billing.pricing_plans whose validity covers this date.';
    END IF;

    -- Company-local midnight of the first day and of the day after the last one.
    period_from := period.start_date::timestamp AT TIME ZONE company_row.timezone;
    period_until := (period.end_date + 1)::timestamp AT TIME ZONE company_row.timezone;

    SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE c.status = 'completed'),
           COALESCE(pg_catalog.sum(c.duration_sec), 0)
      INTO calls_total, calls_completed, total_seconds
      FROM billing.calls c
     WHERE c.company_id = company_row.id AND c.started_at >= period_from
       AND c.started_at < period_until AND c.started_at <= as_of;
    SELECT pg_catalog.count(*) INTO appointment_count
      FROM billing.appointments a
     WHERE a.company_id = company_row.id AND a.booked_at >= period_from
       AND a.booked_at < period_until AND a.booked_at <= as_of AND a.status <> 'cancelled';

    RETURN billing._usage_document(
        billing.plan_config(plan) || pg_catalog.jsonb_build_object('currency', company_row.currency),
        period.start_date, period.end_date, today,
        calls_total, calls_completed, total_seconds, appointment_count, with_projection);
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
-- Test support
------------------------------------------------------------------------------------------

-- Exercises the C++/PostgreSQL exception boundary in both directions (src/pg/boundary_selftest.cpp).
CREATE FUNCTION billing._boundary_selftest(mode text) RETURNS bigint
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'billing_boundary_selftest';
REVOKE ALL ON FUNCTION billing._boundary_selftest(text) FROM PUBLIC;
