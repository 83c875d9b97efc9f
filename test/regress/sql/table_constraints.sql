-- The data model's constraints: a bad row is rejected when written, naming what is wrong.
\set VERBOSITY terse
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Praxis Berlin', 'Europe/Berlin');
INSERT INTO billing.companies (id, name, timezone, currency, billing_anchor_day)
VALUES (2, 'Clinic NYC', 'America/New_York', 'USD', 15);

-- Time zones: IANA names only.
SELECT tz, billing.is_valid_timezone(tz)
  FROM unnest(ARRAY['Europe/Berlin', 'UTC', 'Etc/GMT+3', 'America/Argentina/Buenos_Aires',
                    'Mars/Olympus', 'UTC+3', 'PST', '+03', 'Europe/Berlin; DROP', '']) AS t(tz);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, timezone) VALUES (9, 'x', 'UTC+3')$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, currency) VALUES (9, 'x', 'euro')$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, billing_anchor_day) VALUES (9, 'x', 29)$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name, billing_anchor_day) VALUES (9, 'x', 0)$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name) VALUES (1, 'duplicate')$$);
SELECT regress.error_of($$INSERT INTO billing.companies (id, name) VALUES (9, '')$$);

-- Plans: each model's required fields, named by the violated constraint.
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, overage_per_minute, valid_from)
                          VALUES (1, 'per_minute', 49, 0.15, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, valid_from)
                          VALUES (1, 'per_appointment', '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, package_minutes, package_appointments, overage_per_minute, valid_from)
                          VALUES (1, 'package', 99, 1000, 50, 0.12, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, valid_from)
                          VALUES (1, 'combined', 0.10, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, base_fee, valid_from)
                          VALUES (1, 'combined', 0.10, 2, 5, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
                          VALUES (1, 'flat', 0.10, 2, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
                          VALUES (1, 'combined', -0.10, 2, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
                          VALUES (1, 'combined', 'NaN', 2, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
                          VALUES (1, 'combined', 'Infinity', 2, '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from, valid_until)
                          VALUES (1, 'combined', 0.1, 2, '2025-02-01', '2025-01-01')$$);
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
                          VALUES (77, 'combined', 0.1, 2, '2025-01-01')$$);

-- Validity ranges of one company never overlap; other companies are independent.
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from, valid_until)
VALUES (1, 'combined', 0.10, 2.00, '2025-01-01', '2025-06-30');
SELECT regress.error_of($$INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
                          VALUES (1, 'per_appointment', 5, '2025-06-30')$$);
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_appointment_rate, valid_from)
VALUES (1, 'per_appointment', 5, '2025-07-01'), (2, 'per_appointment', 5, '2025-01-01');

-- Periods never overlap either.
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-01-01', '2025-01-31');
SELECT regress.error_of($$INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-01-31', '2025-02-27')$$);
SELECT regress.error_of($$INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-03-10', '2025-03-01')$$);
SELECT regress.error_of($$INSERT INTO billing.billing_periods (company_id, start_date, end_date, status) VALUES (1, '2025-03-01', '2025-03-31', 'closed')$$);

-- Calls and appointments written directly are checked the same way.
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) VALUES (1, 'c', now(), -1, 'completed')$$);
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) VALUES (1, 'c', now(), 10, 'ringing')$$);
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) VALUES (1, 'c', 'infinity', 10, 'completed')$$);
SELECT regress.error_of($$INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) VALUES (1, '', now(), 10, 'completed')$$);
SELECT regress.error_of($$INSERT INTO billing.appointments (company_id, external_id, booked_at, status) VALUES (1, 'a', now(), 'maybe')$$);

-- An appointment can only point at a call of its own company.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
VALUES (2, 'nyc-call', '2025-01-05 10:00+00', 60, 'completed');
SELECT regress.error_of(format($$INSERT INTO billing.appointments (company_id, external_id, booked_at, call_id) VALUES (1, 'a', now(), %s)$$,
                               (SELECT id FROM billing.calls WHERE external_id = 'nyc-call')));

-- The time zone check answers as the scan of pg_timezone_names of version 1.7 did (kept here
-- as the independent definition), on every zone name, every abbreviation, their other
-- spellings and names that only look like zones.
CREATE FUNCTION pg_temp.scanned_is_valid_timezone(name text) RETURNS boolean
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
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = scanned_is_valid_timezone.name);
    END IF;
    PERFORM pg_catalog.timezone(name, TIMESTAMPTZ '2000-01-01 00:00:00+00');
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
WITH candidates AS (
    SELECT name FROM pg_catalog.pg_timezone_names
    UNION SELECT abbrev FROM pg_catalog.pg_timezone_abbrevs
    UNION SELECT pg_catalog.lower(name) FROM pg_catalog.pg_timezone_names
    UNION SELECT pg_catalog.upper(name) FROM pg_catalog.pg_timezone_names
    UNION SELECT pg_catalog.lower(abbrev) FROM pg_catalog.pg_timezone_abbrevs
    UNION SELECT unnest(ARRAY['Factory', 'posixrules', 'localtime', 'leapseconds', 'Zulu', 'utc', 'Utc', 'Europe/', '/Berlin',
                              'Europe//Berlin', 'Europe/Berlin/', 'Europe/Atlantis', 'EST5EDT', 'UTC+3', '<+03>-3', 'ABC',
                              'Europe/Berlin ', ' UTC', 'right/UTC', 'posix/Europe/Berlin', 'Etc/GMT+5', 'Etc/GMT-14', '',
                              'America/Argentina/Buenos_Aires', 'America/Port-au-Prince', 'Europe/Berlin;DROP'])
)
SELECT pg_catalog.count(*) AS names_compared,
       pg_catalog.count(*) FILTER (WHERE billing.is_valid_timezone(name)) AS valid,
       pg_catalog.array_agg(name ORDER BY name) FILTER (WHERE billing.is_valid_timezone(name)
                                                         IS DISTINCT FROM pg_temp.scanned_is_valid_timezone(name)) AS differ
  FROM candidates;
SELECT billing.is_valid_timezone(NULL) IS NULL AS strict;

-- Clean up for the following files.
DELETE FROM billing.calls;
DELETE FROM billing.billing_periods;
DELETE FROM billing.pricing_plans;
DELETE FROM billing.companies;
