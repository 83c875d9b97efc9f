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
-- C (src/pg/local_day.cpp): pg_tzset() keeps the zones it loaded, so checking a name costs
-- microseconds, where scanning pg_timezone_names read the zone directory each time.
CREATE FUNCTION billing.is_valid_timezone(name text) RETURNS boolean
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'billing_is_valid_timezone';
COMMENT ON FUNCTION billing.is_valid_timezone(text) IS
    'true when the text is an IANA time zone name that PostgreSQL knows';

-- The decimals of an active ISO 4217 currency (src/core/currency.cpp); 22023 for any other code.
CREATE FUNCTION billing.currency_minor_unit(code text) RETURNS integer
LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_currency_minor_unit';
COMMENT ON FUNCTION billing.currency_minor_unit(text) IS
    'Decimals of an active ISO 4217 currency code (JPY and XPF 0, EUR 2, KWD 3, CLF 4); 22023 for any other code';

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
    -- An unknown code raises 22023 from the function (a plain CHECK would say only 23514).
    CONSTRAINT companies_currency_check CHECK (billing.currency_minor_unit(currency) IS NOT NULL),
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

-- The raw calls and appointments are partitioned by time: one partition per UTC month, named
-- calls_YYYY_MM and appointments_YYYY_MM, created ahead by ensure_periods()
-- (52_partitions.sql), and a default partition for any instant outside them (ensure_periods()
-- moves its rows into their month). A partition is a plain part of its table: it has the
-- table's columns, constraints and indexes, the table's row level security, and no grants;
-- every read and write goes through the parent. UTC months because a partition's bound is an
-- instant: company-local months begin at a different instant in every time zone, while one
-- company-local month always lies within two UTC months. docs/performance.md, "Storage".
--
-- A unique index of a partitioned table must contain the partition key, so (company_id,
-- external_id) cannot be unique across the months of billing.calls itself. The idempotency
-- key lives in billing.call_keys (and billing.appointment_keys): one row per call ever stored,
-- kept by a trigger (40_usage.sql) and by record_call(), and kept when retention removes the
-- call (65_retention.sql), so that a call sent again after its month was archived is still not
-- new and never billed twice.
--
-- No foreign key on the partitioned tables: pg_restore loads a partition's rows before the
-- rows of the tables it would reference (it orders only the extension's own tables). The
-- trigger that keeps the keys checks what the foreign keys would, once per statement instead of
-- once per row (40_usage.sql, src/pg/ingest_keys.cpp): every row's company exists (and is
-- locked against its deletion, as a foreign key locks it), and an appointment's call is a call
-- of its company; a company with calls cannot be deleted (billing._refuse_company_with_keys). No index on them
-- either, for the same reason (pg_restore would create each partition's twice): each
-- partition has its own (billing._index_raw_partition, 52_partitions.sql).
CREATE TABLE billing.calls (
    id           bigserial NOT NULL,
    company_id   bigint NOT NULL,  -- a company's: the key's foreign key (billing.call_keys)
    external_id  text NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_sec integer NOT NULL,
    status       text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT calls_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    -- Timestamps far outside any billing period are input errors (and would overflow date
    -- arithmetic); a call longer than a week is a telephony error, not a call.
    CONSTRAINT calls_started_at_check
        CHECK (started_at >= '2000-01-01 00:00:00+00' AND started_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT calls_duration_sec_check CHECK (duration_sec BETWEEN 0 AND 604800),
    CONSTRAINT calls_status_check
        CHECK (status IN ('completed', 'failed', 'missed', 'busy', 'no_answer'))
) PARTITION BY RANGE (started_at);
COMMENT ON TABLE billing.calls IS
    'Calls as the telephony system reports them, partitioned by UTC month; billing.call_keys makes (company_id, external_id) unique';
CREATE TABLE billing.calls_default PARTITION OF billing.calls DEFAULT;
COMMENT ON TABLE billing.calls_default IS
    'The calls of months without a partition of their own (ensure_periods() moves them into one)';

-- One row per call ever stored, archived ones included: (company_id, external_id) is the
-- idempotency key, (company_id, call_id) what an appointment's call refers to.
CREATE TABLE billing.call_keys (
    company_id  bigint NOT NULL,
    external_id text NOT NULL,
    call_id     bigint NOT NULL,
    CONSTRAINT call_keys_pkey PRIMARY KEY (company_id, external_id),
    CONSTRAINT call_keys_company_call_id_key UNIQUE (company_id, call_id),
    CONSTRAINT call_keys_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255)
);
COMMENT ON TABLE billing.call_keys IS
    'The (company_id, external_id) of every call stored, archived ones included: ingestion''s idempotency key';

CREATE TABLE billing.appointments (
    id          bigserial NOT NULL,
    company_id  bigint NOT NULL,  -- a company's: the key's foreign key (billing.appointment_keys)
    external_id text NOT NULL,
    -- A call of the same company (billing.call_keys (company_id, call_id)); set to NULL when the
    -- call is deleted (its key outlives the call's archived row).
    call_id     bigint,
    booked_at   timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'booked',
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT appointments_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255),
    CONSTRAINT appointments_booked_at_check
        CHECK (booked_at >= '2000-01-01 00:00:00+00' AND booked_at < '2100-01-01 00:00:00+00'),
    CONSTRAINT appointments_status_check CHECK (status IN ('booked', 'cancelled'))
) PARTITION BY RANGE (booked_at);
COMMENT ON TABLE billing.appointments IS
    'Appointments booked by the AI receptionist, partitioned by UTC month; cancelled ones are not billed';
CREATE TABLE billing.appointments_default PARTITION OF billing.appointments DEFAULT;
COMMENT ON TABLE billing.appointments_default IS
    'The appointments of months without a partition of their own (ensure_periods() moves them into one)';

CREATE TABLE billing.appointment_keys (
    company_id     bigint NOT NULL,
    external_id    text NOT NULL,
    appointment_id bigint NOT NULL,
    CONSTRAINT appointment_keys_pkey PRIMARY KEY (company_id, external_id),
    CONSTRAINT appointment_keys_external_id_check CHECK (pg_catalog.length(external_id) BETWEEN 1 AND 255)
);
COMMENT ON TABLE billing.appointment_keys IS
    'The (company_id, external_id) of every appointment stored, archived ones included: ingestion''s idempotency key';

-- The tables belong to the extension, so pg_dump would skip their rows unless told otherwise.
-- The monthly partitions are not the extension's (ensure_periods() creates them): pg_dump
-- dumps them, rows included, as it dumps any table. pg_restore loads those rows straight into
-- the partitions, past the parent's triggers, so the rollup and the keys are dumped as well.
SELECT pg_catalog.pg_extension_config_dump('billing.companies', '');
SELECT pg_catalog.pg_extension_config_dump('billing.pricing_plans', '');
SELECT pg_catalog.pg_extension_config_dump('billing.pricing_plans_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.billing_periods', '');
SELECT pg_catalog.pg_extension_config_dump('billing.billing_periods_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.calls_default', '');
SELECT pg_catalog.pg_extension_config_dump('billing.calls_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('billing.call_keys', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointments_default', '');
SELECT pg_catalog.pg_extension_config_dump('billing.appointment_keys', '');
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
-- Reads through an API token (the gateway's requests) name the token and its user, so the end
-- user is recorded, not only the gateway's login role. company_id is NULL only for a failed
-- token authentication whose token id does not exist.
CREATE TABLE billing.audit_log (
    id                bigserial PRIMARY KEY,
    read_at           timestamptz NOT NULL,
    company_id        bigint,
    session_user_name text NOT NULL,
    current_user_name text NOT NULL,
    function_name     text NOT NULL,
    written_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    reads             integer NOT NULL DEFAULT 1 CONSTRAINT audit_log_reads_check CHECK (reads > 0),
    api_token_id      bigint,
    api_user          text
);
CREATE INDEX audit_log_company_read_at_idx ON billing.audit_log (company_id, read_at);
SELECT pg_catalog.pg_extension_config_dump('billing.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('billing.audit_log_id_seq', '');
COMMENT ON TABLE billing.audit_log IS 'Who read which company''s billing data through which function, and when';
COMMENT ON COLUMN billing.audit_log.reads IS
    'How many reads of company_id through function_name by this user within the second of read_at';
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
    'Derived, exact per-day usage (kept by triggers; rebuilt by rebuild_usage_daily)';
-- Dumped: pg_restore loads the partitions' rows past the triggers that would rebuild it.
SELECT pg_catalog.pg_extension_config_dump('billing.usage_daily', '');

-- billing.usage_profile holds the shape of the same days, for the analytics
-- (billing.usage_analytics): per company, company-local day and slot, the calls and seconds of
-- each local hour (0 to 23, by started_at) and the completed calls of each call length bucket
-- (billing.call_length_range) with their seconds. Kept by the calls rollup trigger in the same
-- statement and slot as usage_daily. A row is about 780 bytes; every ingest statement rewrites
-- it, so its pages are kept half empty (fillfactor 50): the new versions fit beside the old
-- ones (HOT updates, pruned in place) instead of moving to new pages and bloating the table.
CREATE TABLE billing.usage_profile (
    company_id          bigint NOT NULL,
    day                 date NOT NULL,             -- company-local
    slot                smallint NOT NULL,
    calls_by_hour       integer[] NOT NULL,        -- 24 counts, hour 0 first
    seconds_by_hour     bigint[] NOT NULL,         -- 24 sums
    completed_by_length integer[] NOT NULL,        -- one count per call length bucket
    completed_seconds   bigint NOT NULL,
    CONSTRAINT usage_profile_pkey PRIMARY KEY (company_id, day, slot)
) WITH (fillfactor = 50);
COMMENT ON TABLE billing.usage_profile IS
    'Derived, exact per-day call profile: calls and seconds by local hour, completed calls by length (kept by triggers)';
SELECT pg_catalog.pg_extension_config_dump('billing.usage_profile', '');

-- The usage of raw rows that billing.archive_calls() removed from closed periods, per company
-- and local day: the rollup keeps it, and raw_usage_daily() adds it back, so the rollup stays
-- verifiable and rebuildable without the rows. Written only by archive_calls(); dumped.
CREATE TABLE billing.archived_usage_daily (
    company_id      bigint NOT NULL REFERENCES billing.companies (id),
    day             date NOT NULL,
    calls           bigint NOT NULL,
    completed_calls bigint NOT NULL,
    seconds         bigint NOT NULL,
    appointments    bigint NOT NULL,
    archived_at     timestamptz NOT NULL,
    -- The call profile of the removed calls, as in usage_profile (NULL: archived before 1.7).
    calls_by_hour       integer[],
    seconds_by_hour     bigint[],
    completed_by_length integer[],
    completed_seconds   bigint,
    CONSTRAINT archived_usage_daily_pkey PRIMARY KEY (company_id, day)
);
COMMENT ON TABLE billing.archived_usage_daily IS
    'Usage of the raw calls and appointments archive_calls() removed, per company-local day';
SELECT pg_catalog.pg_extension_config_dump('billing.archived_usage_daily', '');
