-- Every object of the extension in a normalized, sorted form: two databases print the same lines
-- exactly when their company_billing objects are the same (definitions, privileges, policies,
-- constraints, triggers, comments, row level security flags, extension membership).
\pset format unaligned
\pset tuples_only on
WITH members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
       AND e.extname = 'company_billing'
), funcs AS (
    SELECT p.oid, p.oid::pg_catalog.regprocedure::text AS sig FROM pg_catalog.pg_proc p
     WHERE p.oid IN (SELECT objid FROM members WHERE classid = 'pg_catalog.pg_proc'::pg_catalog.regclass)
), rels AS (
    SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_class c
     WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass)
)
SELECT line FROM (
    SELECT 'function ' || f.sig || E'\n' || pg_catalog.pg_get_functiondef(f.oid) AS line FROM funcs f
     WHERE (SELECT p.prokind FROM pg_catalog.pg_proc p WHERE p.oid = f.oid) <> 'a'
    UNION ALL
    SELECT 'function acl ' || f.sig || ' ' || COALESCE((SELECT pg_catalog.array_to_string(ARRAY(
               SELECT x::text FROM pg_catalog.unnest(p.proacl) x ORDER BY 1), ',') FROM pg_catalog.pg_proc p WHERE p.oid = f.oid), 'default')
      FROM funcs f
    UNION ALL
    SELECT 'comment function ' || f.sig || ': ' || COALESCE(pg_catalog.obj_description(f.oid, 'pg_proc'), '') FROM funcs f
    UNION ALL
    SELECT 'relation ' || r.relname || ' kind ' || r.relkind::text || ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity
           || ' options ' || COALESCE(c.reloptions::text, '') || ' acl '
           || COALESCE(pg_catalog.array_to_string(ARRAY(SELECT x::text FROM pg_catalog.unnest(c.relacl) x ORDER BY 1), ','), 'default')
           || ' comment ' || COALESCE(pg_catalog.obj_description(r.oid, 'pg_class'), '')
      FROM rels r JOIN pg_catalog.pg_class c ON c.oid = r.oid
    UNION ALL
    SELECT 'column ' || r.relname || '.' || a.attname || ' #' || a.attnum || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || COALESCE(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
           || COALESCE(' comment ' || pg_catalog.col_description(r.oid, a.attnum), '')
      FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
     WHERE r.relkind IN ('r', 'v', 'c')
    UNION ALL
    SELECT 'constraint ' || r.relname || '.' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid)
      FROM rels r JOIN pg_catalog.pg_constraint k ON k.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM rels r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
      FROM rels r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || p.tablename || '.' || p.policyname || ' ' || p.permissive || ' ' || p.cmd || ' ' || p.roles::text
           || ' using ' || COALESCE(p.qual, '') || ' check ' || COALESCE(p.with_check, '')
      FROM pg_catalog.pg_policies p WHERE p.schemaname = 'billing'
    UNION ALL
    SELECT 'view ' || r.relname || E'\n' || pg_catalog.pg_get_viewdef(r.oid) FROM rels r WHERE r.relkind = 'v'
    UNION ALL
    SELECT 'dumped ' || c.relname || ' ' || COALESCE(cond, '')
      FROM pg_catalog.pg_extension e, ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS x(cfg, cond)
      JOIN pg_catalog.pg_class c ON c.oid = x.cfg WHERE e.extname = 'company_billing'
    UNION ALL
    SELECT 'type ' || t.typname FROM pg_catalog.pg_type t
     WHERE t.oid IN (SELECT objid FROM members WHERE classid = 'pg_catalog.pg_type'::pg_catalog.regclass)
    UNION ALL
    SELECT 'event trigger ' || et.evtname || ' on ' || et.evtevent || ' tags ' || COALESCE(et.evttags::text, '')
           || ' function ' || et.evtfoid::pg_catalog.regprocedure::text || ' enabled ' || et.evtenabled::text
      FROM pg_catalog.pg_event_trigger et
     WHERE et.oid IN (SELECT objid FROM members WHERE classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass)
    UNION ALL
    SELECT 'schema billing acl ' || COALESCE(n.nspacl::text, 'default') FROM pg_catalog.pg_namespace n WHERE n.nspname = 'billing'
) x ORDER BY line COLLATE "C";
