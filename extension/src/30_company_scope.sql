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

-- The instants of a company-local day. A call belongs to the local date of its start; where
-- clocks go back across midnight (America/Havana, 01:00 to 00:00) the day begins at the first
-- midnight, not at the one `day::timestamp AT TIME ZONE zone` picks (src/core/local_day.h).
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

-- The period of `company` that contains the company-local date `day`: the stored row, or else
-- one derived from the anchor day, clipped so that it never overlaps a stored period
-- (src/pg/usage_read.cpp, current_period; the dashboard reads use the same code). 42501 for a
-- company the caller's row level security hides.
CREATE FUNCTION billing.period_for(company bigint, day date,
                                   OUT period_id bigint, OUT start_date date,
                                   OUT end_date date, OUT status text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_period_for';
COMMENT ON FUNCTION billing.period_for(bigint, date) IS
    'The billing period containing a company-local date (stored, or derived from the anchor day)';

-- The plan of a period: the latest plan that took effect by `last_day` and was still valid
-- on or after `first_day` (src/pg/usage_read.cpp, seek_plan_for_period). A row of NULLs when
-- there is none, or when the caller's row level security hides the company.
CREATE FUNCTION billing.plan_for_period(company bigint, first_day date, last_day date)
RETURNS billing.pricing_plans
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'billing_plan_for_period';
COMMENT ON FUNCTION billing.plan_for_period(bigint, date, date) IS
    'The pricing plan that applies to a period (the latest one in force by its last day)';
