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
