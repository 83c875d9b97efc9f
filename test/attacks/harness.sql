-- The attack harness: attack(name, role, company, statement, expected) runs the statement as the
-- role (with billing.company_id set locally when company is given), rolls every effect back, and
-- records whether the attack was stopped as expected:
--   expected '42501' (or any SQLSTATE): the statement must fail with exactly that SQLSTATE;
--   expected 'error': it must fail;
--   expected 'value:X': it must run and its first column of its first row must be X.
CREATE SCHEMA attack;
CREATE TABLE attack.results (n serial, name text, expected text, got text, held boolean);
CREATE FUNCTION attack.attack(name text, role text, company text, statement text, expected text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    result text;
    got text;
BEGIN
    BEGIN
        PERFORM pg_catalog.set_config('role', role, true);
        IF company IS NOT NULL THEN
            PERFORM pg_catalog.set_config('billing.company_id', company, true);
        END IF;
        EXECUTE statement INTO result;
        RAISE EXCEPTION USING ERRCODE = 'ZZ999', MESSAGE = COALESCE(result, '<null>');
    EXCEPTION WHEN OTHERS THEN
        got := CASE WHEN SQLSTATE = 'ZZ999' THEN 'value:' || SQLERRM ELSE SQLSTATE || ' ' || SQLERRM END;
    END;
    INSERT INTO attack.results (name, expected, got, held)
    VALUES (name, expected, got,
            CASE WHEN expected = 'error' THEN got NOT LIKE 'value:%'
                 WHEN expected LIKE 'value:%' THEN got = expected
                 ELSE got LIKE expected || ' %' END);
END
$$;
