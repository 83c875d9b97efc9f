#!/usr/bin/env python3
"""Writes router/company_billing_router--1.0.sql: the shard router's billing.* API.

Each API function of the extension gets a function of the same name, arguments, defaults and
result on the router, which sends the call to the shard that holds the company (PL/Proxy) and
returns what the shard returned. The signatures are read from a database where company_billing
is installed (psql and the PG* environment variables), so that the router cannot drift from the
extension; test/shards.sh compares both catalogs again. Run it after changing the API:

    PGDATABASE=<a database with company_billing> python3 router/generate.py [OUTPUT]

The routing rules themselves are plain SQL in router/router_base.sql (shard map, context
company, id lookups) and router/router_admin.sql (access mapping, tokens, moves), both written by
hand and included as they are; a line "-- INCLUDE <path>" there stands for that file of the
extension's source (the group roles).
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# How each function is routed.
#   company        the company argument (first), or the caller's company (SET LOCAL or viewer mapping)
#   company_write  the same, and waits while the company is being moved (ingestion)
#   company_or_all company NULL: every shard, rows merged
#   period, invoice, payment_method, webhook_delivery
#                  the caller's company, or (administrators) the shard that holds that row
#   key            one rate limiter bucket per key: an API token's on its company's shard,
#                  any other key's on the shard of hashtext(key)
#   all_sum, all_and, all_rows
#                  every shard: the sum, the AND, or the rows of all of them
ROUTES = {
    'usage_current': 'company', 'usage_projection': 'company', 'usage_forecast': 'company',
    'usage_anomalies': 'company', 'usage_analytics': 'company', 'usage_trends': 'company',
    'upcoming_charges': 'company', 'billing_history': 'company', 'compare_plans': 'company',
    'company_payment_methods': 'company', 'diagnose': 'company', 'budget_status': 'company',
    'company_alerts': 'company', 'can_consume': 'company', 'period_for': 'company',
    'plan_for_period': 'company', 'period_totals': 'company', 'resolve_company': 'company',
    'current_company': 'company', 'evaluate_alerts': 'company', 'export_company': 'company',
    'raw_usage_daily': 'company_or_all', 'raw_usage_profile': 'company_or_all',
    'verify_usage_daily': 'company_or_all', 'verify_usage_profile': 'company_or_all',
    'rebuild_usage_daily': 'company_or_all',
    'record_call': 'company_write', 'record_calls': 'company_write', 'record_appointment': 'company_write',
    'period_detail': 'period', 'period_csv': 'period', 'period_csv_lines': 'period', 'close_period': 'period',
    'mark_invoice': 'invoice', 'set_default_payment_method': 'payment_method',
    'webhook_attempted': 'webhook_delivery',
    'throttle': 'key', 'throttle_detail': 'key',
    'ensure_periods': 'all_sum', 'audit_flush_wait': 'all_and',
    'close_ended_periods': 'all_rows', 'archive_calls': 'all_rows', 'due_webhooks': 'all_rows',
    # Written by hand in router_admin.sql, which also keeps the router's maps: 'inner' generates
    # only the PL/Proxy function, 'inner_all' the one that runs on every shard, 'hand' nothing.
    'create_api_token': 'inner', 'authenticate_token': 'inner', 'revoke_api_token': 'inner',
    'import_company': 'inner', 'remove_company': 'inner', 'runtime_status': 'inner_all',
    'grant_company_access': 'hand', 'revoke_company_access': 'hand',
}
# The table whose row an id names, for the id routes.
OWNER_TABLES = {'period': 'billing_periods', 'invoice': 'invoices', 'payment_method': 'payment_methods',
                'webhook_delivery': 'webhook_deliveries'}
# Merged rows come back in this order (the shards answer in parallel).
ALL_ROWS_ORDER = {'close_ended_periods': 'r.start_date, r.company_id, r.period_id',
                  'archive_calls': 'r.company_id', 'due_webhooks': 'r.delivery_id'}
# Row types the API returns, declared on the router as composite types of the same columns.
ROW_TYPES = ['invoices', 'pricing_plans']


def psql(query):
    output = subprocess.run(['psql', '-X', '-q', '-At', '-F', '\x1f', '-R', '\x1e', '-c', query],
                            check=True, capture_output=True, text=True).stdout
    return [line.split('\x1f') for line in output.rstrip('\n').split('\x1e') if line]


def functions():
    rows = psql("""
        SELECT p.proname, pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
               p.provolatile, p.proretset, p.pronargs,
               pg_catalog.array_to_string(p.proargnames, ','),
               pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.format_type(t, NULL)
                                                  FROM pg_catalog.unnest(p.proargtypes) AS t), ','),
               (p.prorettype = 'pg_catalog.record'::pg_catalog.regtype OR t.typtype = 'c')::text,
               pg_catalog.array_to_string(ARRAY(SELECT DISTINCT r.rolname FROM pg_catalog.aclexplode(p.proacl) AS a
                                                  JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
                                                 WHERE r.rolname LIKE 'billing\\_%' AND a.privilege_type = 'EXECUTE'
                                                 ORDER BY 1), ','),
               pg_catalog.pg_get_function_identity_arguments(p.oid)
          FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_catalog.pg_type t ON t.oid = p.prorettype
         WHERE n.nspname = 'billing' AND p.prokind = 'f' ORDER BY p.proname""")
    found = {}
    for name, arguments, result, volatility, returns_set, nargs, argnames, argtypes, row_result, grantees, identity in rows:
        if name in ROUTES:
            found[name] = dict(arguments=arguments, result=result,
                               volatility={'i': 'IMMUTABLE', 's': 'STABLE', 'v': 'VOLATILE'}[volatility],
                               returns_set=returns_set == 't', nargs=int(nargs),
                               names=argnames.split(',')[:int(nargs)] if argnames else [],
                               types=argtypes.split(',') if argtypes else [],
                               row_result=row_result == 'true', grantees=grantees, identity=identity)
    missing = sorted(set(ROUTES) - set(found))
    if missing:
        sys.exit('not in the database: ' + ', '.join(missing))
    return found


def without_defaults(arguments):
    """The argument list with its DEFAULTs removed (the inner functions take every argument)."""
    parts, depth, current = [], 0, ''
    for char in arguments:
        if char == ',' and depth == 0:
            parts.append(current.strip())
            current = ''
            continue
        depth += char in '([' and 1 or 0
        depth -= char in ')]' and 1 or 0
        current += char
    if current.strip():
        parts.append(current.strip())
    return ', '.join(part.split(' DEFAULT ')[0] for part in parts)


def remote_query(name, f, first_parameter):
    """The query a shard runs: the API function, its first argument evaluated after the caller's
    company was set for the statement (a function's arguments are computed before it runs)."""
    arguments = []
    for position, argument_type in enumerate(f['types']):
        parameter = '$%d::%s' % (first_parameter + position, argument_type)
        if position == 0:
            parameter = ("(SELECT %s FROM pg_catalog.set_config('billing.company_id', $%d, true) AS forwarded)"
                         % (parameter, first_parameter - 1))
        arguments.append(parameter)
    call = 'billing.%s(%s)' % (name, ', '.join(arguments))
    forwarded = "pg_catalog.set_config('billing.company_id', $%d, true) AS forwarded" % (first_parameter - 1)
    if not arguments and (f['returns_set'] or f['row_result']):
        return 'SELECT r.* FROM %s, billing.%s() AS r' % (forwarded, name)  # needs no company
    if not arguments:
        return 'SELECT billing.%s() AS %s FROM %s' % (name, name, forwarded)  # after the FROM row
    if f['returns_set'] or f['row_result']:
        return 'SELECT r.* FROM %s AS r' % call
    return 'SELECT %s AS %s' % (call, name)


def inner(name, f, suffix, run_on, extra_arguments):
    """A PL/Proxy function in billing_remote: where to run, and the remote query."""
    arguments = ', '.join(extra_arguments + ([without_defaults(f['arguments'])] if f['arguments'] else []))
    result = f['result']
    if suffix == '_all' and not f['returns_set']:
        result = 'SETOF ' + result
    first = len(extra_arguments) + 1
    return ("CREATE FUNCTION billing_remote.%s%s(%s)\nRETURNS %s\nLANGUAGE plproxy VOLATILE\nAS $$\n"
            "    CLUSTER 'billing_shards';\n    RUN ON %s;\n    %s;\n$$;\n"
            % (name, suffix, arguments, result, run_on, remote_query(name, f, first)))


def outer(name, f, body):
    return ("CREATE FUNCTION billing.%s(%s)\nRETURNS %s\nLANGUAGE sql %s\nSET search_path = pg_catalog, pg_temp\n"
            "AS $$\n    %s\n$$;\n" % (name, f['arguments'], f['result'], f['volatility'], body))


def call_arguments(f):
    return ', '.join(f['names'])


def select(f, inner_call):
    if f['returns_set'] or f['row_result']:
        return 'SELECT * FROM %s' % inner_call
    return 'SELECT %s' % inner_call


def generate(found):
    out = []
    for name in sorted(found):
        f, route = found[name], ROUTES[name]
        args = call_arguments(f)
        first = f['names'][0] if f['names'] else None
        if route in ('company', 'company_write', 'company_or_all'):
            company = first if first == 'company' else 'NULL::bigint'
            shard = 'billing.%s(billing.routed_company(%s))' % (
                'shard_for_write' if route == 'company_write' else 'shard_of', company)
            out.append(inner(name, f, '', 'shard', ['shard integer', 'company_setting text']))
            call = 'billing_remote.%s(%s, billing.forwarded_company_setting()%s)' % (
                name, shard, ', ' + args if args else '')
            if route == 'company_or_all':
                out.append(inner(name, f, '_all', 'ALL', ['company_setting text']))
                all_call = 'billing_remote.%s_all(billing.forwarded_company_setting(), %s)' % (name, args)
                if f['returns_set']:
                    body = ('SELECT * FROM %s WHERE %s IS NOT NULL\n    UNION ALL\n    SELECT * FROM %s WHERE %s IS NULL'
                            % (call, company, all_call, company))
                else:
                    body = ('SELECT CASE WHEN %s IS NOT NULL THEN %s\n                ELSE (SELECT pg_catalog.sum(n)::bigint FROM %s AS n) END'
                            % (company, call, all_call))
                out.append(outer(name, f, body))
            else:
                out.append(outer(name, f, select(f, call)))
        elif route in OWNER_TABLES:
            # The owner is looked up on every shard only when the caller has no company.
            shard = ('billing.shard_of(COALESCE(billing.routed_company(NULL::bigint), '
                     '(SELECT o FROM billing_remote.%s_owner(%s) AS o LIMIT 1)))' % (route, first))
            out.append(inner(name, f, '', 'shard', ['shard integer', 'company_setting text']))
            out.append(outer(name, f, select(f, 'billing_remote.%s(%s, billing.forwarded_company_setting(), %s)'
                                             % (name, shard, args))))
        elif route == 'key':
            out.append("CREATE FUNCTION billing.%s(%s)\nRETURNS %s\nLANGUAGE plproxy %s\nAS $$\n"
                       "    CLUSTER 'billing_shards';\n    RUN ON billing.throttle_shard(%s);\n$$;\n"
                       % (name, f['arguments'], f['result'], f['volatility'], first))
        elif route == 'inner':
            out.append(inner(name, f, '', 'shard', ['shard integer', 'company_setting text']))
            continue
        elif route == 'inner_all':
            out.append(inner(name, f, '_all', 'ALL', ['company_setting text']))
            continue
        elif route == 'hand':
            continue
        else:
            out.append(inner(name, f, '_all', 'ALL', ['company_setting text']))
            call = 'billing_remote.%s_all(billing.forwarded_company_setting()%s)' % (name, ', ' + args if args else '')
            if route == 'all_sum':
                body = 'SELECT pg_catalog.sum(n)::integer FROM %s AS n' % call
            elif route == 'all_and':
                body = 'SELECT pg_catalog.bool_and(n) FROM %s AS n' % call
            else:
                order = ALL_ROWS_ORDER[name]
                limit = ' LIMIT max_rows' if 'max_rows' in f['names'] else ''
                body = 'SELECT r.* FROM %s AS r ORDER BY %s%s' % (call, order, limit)
            out.append(outer(name, f, body))
        comment = "COMMENT ON FUNCTION billing.%s(%s) IS 'company_billing''s billing.%s on the shard %s';\n" % (
            name, ', '.join(f['types']), name, {
                'company': 'of the company', 'company_write': 'of the company',
                'company_or_all': 'of the company (NULL: every shard)', 'key': 'of the key (billing.throttle_shard)',
                'all_sum': 'every shard, summed', 'all_and': 'every shard', 'all_rows': 'every shard, rows merged',
            }.get(route, 'that holds the row'))
        out.append(comment)
    return out


def grants(found):
    """EXECUTE as on a shard: each API function for the group roles the extension grants it to."""
    out = ['REVOKE ALL ON ALL FUNCTIONS IN SCHEMA billing, billing_remote FROM PUBLIC;\n',
           'REVOKE ALL ON ALL PROCEDURES IN SCHEMA billing FROM PUBLIC;\n',
           'GRANT USAGE ON SCHEMA billing, billing_remote TO PUBLIC;\n',
           '-- The PL/Proxy functions carry a call to a shard, which checks it as if it came directly.\n',
           'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA billing_remote TO billing_viewer, billing_app, billing_admin;\n',
           'GRANT EXECUTE ON FUNCTION billing.shard_count(), billing.default_shard(bigint), billing.shard_of(bigint),\n'
           '    billing.shard_for_write(bigint), billing.transaction_company_setting(), billing.is_viewer_role(),\n'
           '    billing.routed_company(bigint, bigint), billing.forwarded_company_setting(), billing.token_company(text),\n'
           '    billing.throttle_shard(text)\n'
           '    TO billing_viewer, billing_app, billing_admin;\n']
    for name in sorted(found):
        f = found[name]
        if f['grantees']:
            out.append('GRANT EXECUTE ON FUNCTION billing.%s(%s) TO %s;\n' % (
                name, ', '.join(f['types']), ', '.join(f['grantees'].split(','))))
    return out


def period_usage():
    columns = psql("""SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                       WHERE a.attrelid = 'billing.period_usage'::pg_catalog.regclass AND a.attnum > 0 ORDER BY a.attnum""")
    return ["CREATE FUNCTION billing_remote.period_usage_all()\nRETURNS TABLE (%s)\nLANGUAGE plproxy VOLATILE\nAS $$\n"
            "    CLUSTER 'billing_shards';\n    RUN ON ALL;\n    SELECT u.* FROM billing.period_usage AS u;\n$$;\n"
            % ', '.join('%s %s' % tuple(column) for column in columns)]


def row_types():
    out = []
    for table in ROW_TYPES:
        columns = psql("""SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid = 'billing.%s'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum""" % table)
        out.append('CREATE TYPE billing.%s AS (\n%s\n);\n' % (
            table, ',\n'.join('    %s %s' % (column, column_type) for column, column_type in columns)))
        out.append("COMMENT ON TYPE billing.%s IS 'The row of company_billing''s table billing.%s, as the API returns it';\n"
                   % (table, table))
    return out


def owner_lookups():
    out = []
    for route, table in sorted(OWNER_TABLES.items()):
        out.append("CREATE FUNCTION billing_remote.%s_owner(id bigint)\nRETURNS SETOF bigint\nLANGUAGE plproxy VOLATILE\nAS $$\n"
                   "    CLUSTER 'billing_shards';\n    RUN ON ALL;\n"
                   "    SELECT t.company_id AS %s_owner FROM billing.%s AS t WHERE t.id OPERATOR(pg_catalog.=) $1;\n$$;\n"
                   % (route, route, table))
    return out


def main():
    found = functions()
    with open(os.path.join(HERE, 'router_base.sql')) as base, open(os.path.join(HERE, 'router_admin.sql')) as admin:
        base_sql, admin_sql = base.read(), admin.read()
    # Definitions shared with the extension, taken from its source rather than copied.
    for line in base_sql.splitlines():
        if line.startswith('-- INCLUDE '):
            with open(os.path.join(HERE, '..', line[len('-- INCLUDE '):])) as included:
                base_sql = base_sql.replace(line + '\n', included.read())
    parts = [base_sql, '\n-- Row types of the API (generated).\n'] + row_types()
    parts += ['\n-- Who holds a row, for the id routes (generated).\n'] + owner_lookups()
    parts += ['\n-- The API, routed (generated by router/generate.py from the extension\'s catalog).\n'] + generate(found)
    parts += ['\n-- The report view\'s rows from every shard (generated).\n'] + period_usage()
    parts += ['\n', admin_sql, '\n-- Privileges (generated from the extension\'s).\n'] + grants(found)
    # An argument writes elsewhere (test/shards.sh compares that with the committed script).
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'company_billing_router--1.0.sql')
    with open(target, 'w') as out:
        out.write('\n'.join(part.rstrip('\n') + '\n' for part in parts))
    print('wrote %s: %d functions routed' % (target, len(found)))


if __name__ == '__main__':
    main()
