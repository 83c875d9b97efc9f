-- The three group roles (docs/design.md, "Security model"). Roles belong to the cluster, not to a database:
-- they are created when absent and left alone when present, provided they are still what this
-- extension expects (NOLOGIN, no superuser, no BYPASSRLS).
DO $$
DECLARE
    role_name text;
    existing record;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['billing_viewer', 'billing_app', 'billing_admin'] LOOP
        SELECT r.rolcanlogin, r.rolsuper, r.rolbypassrls INTO existing
          FROM pg_catalog.pg_roles r WHERE r.rolname = role_name;
        IF NOT FOUND THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', role_name);
        ELSIF existing.rolcanlogin OR existing.rolsuper OR existing.rolbypassrls THEN
            RAISE EXCEPTION 'role % exists but is not a NOLOGIN group role without superuser or BYPASSRLS', role_name
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END LOOP;
END
$$;
