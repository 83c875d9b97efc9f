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
