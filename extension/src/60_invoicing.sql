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
-- from the period of its first plan's valid_from, where a plan applies: none after its plans
-- have all ended, none in a gap between two plans. Idempotent; returns how many it created.
-- First the monthly partitions of calls and appointments around as_of (52_partitions.sql).
-- SECURITY DEFINER because creating a partition of billing.calls takes its owner; reachable
-- only through billing.ensure_periods(), which only billing_admin may execute, and for
-- billing_admin (whose policies read and write every company) it changes nothing else.
CREATE FUNCTION billing._ensure_periods_impl(as_of timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
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
    PERFORM billing._ensure_raw_partitions(as_of);
    FOR company_row IN
        SELECT c.id, c.timezone,
               (SELECT pg_catalog.min(p.valid_from) FROM billing.pricing_plans p WHERE p.company_id = c.id) AS first_day,
               (SELECT pg_catalog.max(COALESCE(p.valid_until, 'infinity'::date)) FROM billing.pricing_plans p
                 WHERE p.company_id = c.id) AS last_day
          FROM billing.companies c WHERE c.active ORDER BY c.id
    LOOP
        CONTINUE WHEN company_row.first_day IS NULL;
        today := LEAST((as_of AT TIME ZONE company_row.timezone)::date, company_row.last_day);
        day := company_row.first_day;
        WHILE day <= today LOOP
            SELECT * INTO period FROM billing.period_for(company_row.id, day);
            IF period.period_id IS NULL
               AND (billing.plan_for_period(company_row.id, period.start_date, period.end_date)).id IS NOT NULL THEN
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
    -- Whether a period has ended is a fact of the real clock: an as_of in the future would
    -- close a running period early.
    IF as_of > pg_catalog.now() THEN
        RAISE EXCEPTION 'as_of is later than now(): a period closes only once it has ended'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('as_of is %s, now() is %s.', as_of, pg_catalog.now()),
                  HINT = 'Pass an as_of at or before now(), or leave it out.';
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

-- The daily month-end job: stores the missing periods (ensure_periods), then closes every ended
-- open period of every company, each in a subtransaction of its own, so that one failure
-- stops nothing else. One row per period it tried: 'closed' with its invoice, 'no_plan' for a
-- period no plan applies to (it bills nothing and stays open until a plan covers it), or
-- 'failed' with the error's SQLSTATE and message.
CREATE FUNCTION billing._close_ended_periods_impl(as_of timestamptz)
RETURNS TABLE (period_id bigint, company_id bigint, start_date date, end_date date, status text,
               invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text,
               error_message text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    period_row record;
    invoice billing.invoices;
BEGIN
    IF as_of > pg_catalog.now() THEN
        RAISE EXCEPTION 'as_of is later than now(): a period closes only once it has ended'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('as_of is %s, now() is %s.', as_of, pg_catalog.now()),
                  HINT = 'Pass an as_of at or before now(), or leave it out.';
    END IF;
    PERFORM billing.ensure_periods(as_of);
    FOR period_row IN
        SELECT bp.id, bp.company_id, bp.start_date, bp.end_date
          FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
         WHERE bp.status = 'open' AND bp.end_date < (as_of AT TIME ZONE c.timezone)::date
         ORDER BY bp.end_date, bp.company_id
    LOOP
        period_id := period_row.id;
        company_id := period_row.company_id;
        start_date := period_row.start_date;
        end_date := period_row.end_date;
        invoice_id := NULL; invoice_number := NULL; invoice_total := NULL;
        error_sqlstate := NULL; error_message := NULL;
        BEGIN
            invoice := billing.close_period(period_row.id, as_of);
            status := 'closed';
            invoice_id := invoice.id;
            invoice_number := invoice.number;
            invoice_total := invoice.total;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS error_sqlstate = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT;
            status := CASE WHEN error_sqlstate = 'P0002' THEN 'no_plan' ELSE 'failed' END;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION billing.close_ended_periods(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period_id bigint, company_id bigint, start_date date, end_date date, status text,
               invoice_id bigint, invoice_number text, invoice_total numeric, error_sqlstate text,
               error_message text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'billing_api_call';
COMMENT ON FUNCTION billing.close_ended_periods(timestamptz) IS
    'Month end for a daily job: closes every ended open period of every company, one row per period (closed, no_plan or failed with its SQLSTATE)';

-- DROP EXTENSION company_billing deletes the extension's tables, issued invoices included: while
-- any exist it is refused (and so are DROP EXTENSION btree_gist CASCADE and DROP SCHEMA billing
-- CASCADE), unless a superuser sets billing.allow_drop_with_invoices = on in that session.
CREATE FUNCTION billing._refuse_drop_with_invoices() RETURNS event_trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'billing_refuse_drop_with_invoices';
CREATE EVENT TRIGGER company_billing_keeps_invoices ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION billing._refuse_drop_with_invoices();

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
