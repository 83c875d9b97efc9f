-- company_billing 1.4 -> 1.5: exact calendar days (a day whose midnight repeats begins at the
-- first one), ... (the current definitions are in extension/src/).
\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.5'" to load this file. \quit

SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);

CREATE FUNCTION billing.local_day_start(day date, zone text) RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_local_day_start';
COMMENT ON FUNCTION billing.local_day_start(date, text) IS
    'The earliest instant whose local date in zone is day or later';

CREATE FUNCTION billing.local_day_end(day date, zone text) RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_local_day_end';
COMMENT ON FUNCTION billing.local_day_end(date, text) IS
    'Just after the latest instant whose local date in zone is day or earlier (the next day''s start, unless the clock goes back across midnight)';
GRANT EXECUTE ON FUNCTION billing.local_day_start(date, text), billing.local_day_end(date, text) TO PUBLIC;

-- period_totals: one rule for every usage figure, in C (the calls of the range's local dates
-- that started by as_of; on a clock that goes back across midnight, yesterday's too).
CREATE OR REPLACE FUNCTION billing.period_totals(company bigint, start_date date, end_date date,
                                                 as_of timestamptz DEFAULT 'infinity',
                                                 OUT calls bigint, OUT completed_calls bigint,
                                                 OUT seconds bigint, OUT appointments bigint)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_period_totals';
ALTER FUNCTION billing.period_totals(bigint, date, date, timestamptz) RESET ALL;

-- Currencies: the ISO 4217 minor units of every active code; other codes are refused (22023).
CREATE FUNCTION billing.currency_minor_unit(code text) RETURNS integer
LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT
AS 'MODULE_PATHNAME', 'billing_currency_minor_unit';
COMMENT ON FUNCTION billing.currency_minor_unit(text) IS
    'Decimals of an active ISO 4217 currency code (JPY and XPF 0, EUR 2, KWD 3, CLF 4); 22023 for any other code';
GRANT EXECUTE ON FUNCTION billing.currency_minor_unit(text) TO PUBLIC;
-- Companies whose code ISO 4217 does not list (or no longer lists) stop the update with a list
-- of them, rather than with the first failing row.
DO $$
DECLARE
    company_row record;
    unknown text[] := '{}';
BEGIN
    FOR company_row IN SELECT c.id, c.currency FROM billing.companies c ORDER BY c.id LOOP
        BEGIN
            PERFORM billing.currency_minor_unit(company_row.currency);
        EXCEPTION WHEN invalid_parameter_value THEN
            unknown := unknown || pg_catalog.format('company %s (%s)', company_row.id, company_row.currency);
        END;
    END LOOP;
    IF pg_catalog.cardinality(unknown) > 0 THEN
        RAISE EXCEPTION 'company_billing 1.5 bills only active ISO 4217 currencies: %', pg_catalog.array_to_string(unknown, ', ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Set these companies'' currency to an active code (HRK: EUR, SLL: SLE, ZWL: ZWG, ANG: XCG), then update again.';
    END IF;
END
$$;
ALTER TABLE billing.companies DROP CONSTRAINT companies_currency_check,
    ADD CONSTRAINT companies_currency_check CHECK (billing.currency_minor_unit(currency) IS NOT NULL);
