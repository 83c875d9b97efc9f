"""Reads a company's billing figures as the application (or as a viewer) with psycopg 3, money as
Decimal. Usage: usage_card.py COMPANY|viewer (connection from the PG* environment variables).
The README's Python example; test/clients.sh runs it through pgbouncer and compares its output
with the other languages' and with psql's."""
import decimal
import hashlib
import json
import sys

import psycopg

company = sys.argv[1]
# Through pgbouncer in transaction mode (before 1.21) a prepared statement may land on another
# server connection: prepare_threshold=None keeps psycopg from preparing any.
with psycopg.connect(prepare_threshold=None) as connection:
    with connection.transaction(), connection.cursor() as cursor:
        if company != "viewer":
            # The company of this transaction only; a pooled connection forgets it at COMMIT.
            cursor.execute("SELECT set_config('billing.company_id', %s, true)", (company,))
        cursor.execute("SELECT billing.usage_current()::text")
        usage = json.loads(cursor.fetchone()[0], parse_float=decimal.Decimal)
        print(f"usage total_cost={usage['total_cost']} calls.cost={usage['calls']['cost']} "
              f"appointments.cost={usage['appointments']['cost']} base_fee={usage['base_fee']} currency={usage['currency']}")
        cursor.execute("SELECT month, calls, minutes, cost FROM billing.usage_trends()")
        for month, calls, minutes, cost in cursor.fetchall():
            print(f"trend {month} calls={calls} minutes={minutes} cost={'null' if cost is None else cost}")
        cursor.execute("SELECT number, total, status FROM billing.billing_history()")
        total = decimal.Decimal(0)
        for number, amount, status in cursor.fetchall():
            print(f"history {number} total={amount} status={status}")
            total += amount
        print(f"history_sum={total}")
        cursor.execute("SELECT id FROM billing.billing_periods WHERE status = 'closed' ORDER BY start_date DESC LIMIT 1")
        period = cursor.fetchone()[0]
        digest = hashlib.sha256()
        records = 0
        cursor.execute("SELECT line FROM billing.period_csv_lines(%s) AS line", (period,))
        for (line,) in cursor:
            digest.update(line.encode("utf-8") + b"\r\n")
            records += 1
        print(f"csv records={records} sha256={digest.hexdigest()}")
