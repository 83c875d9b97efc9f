#!/usr/bin/env bash
# The README's recipes for a period's CSV give byte for byte what billing.period_csv() returns:
# psql (streaming, FETCH_COUNT) and a client library (psycopg2), on a period whose call ids hold
# commas, quotes, CR, LF, CRLF, tabs, backslashes, formula starts and non-ASCII text. And the
# COPY recipe it warns against really does change the bytes.
# Runs against the cluster in PGHOST/PGPORT (as a superuser).
set -euo pipefail
cd "$(dirname "$0")/.."
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
db=csv_bytes
dropdb --if-exists "$db" 2>/dev/null; createdb "$db"
psql -d postgres -c "ALTER DATABASE $db SET billing.audit = off"
psql -d "$db" -c "CREATE EXTENSION company_billing CASCADE" 2>/dev/null
psql -d "$db" <<'SQL' >/dev/null
INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Bytes', 'Europe/Berlin');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (1, 'combined', 0.10, 1.00, '2025-01-01');
INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (1, '2025-03-01', '2025-03-31');
SELECT billing.record_call(1, id, timestamptz '2025-03-02 08:00+00' + n * interval '7 hours', (60 + n)::int, 'completed')
  FROM unnest(ARRAY['plain', 'comma,inside', 'quote"inside', E'line\nfeed', E'carriage\rreturn', E'crlf\r\nend',
                    E'tab\there', E'back\\slash', '=SUM(A1)', '+1', '-2', '@cmd', E'\n=after newline',
                    'Grüße, 東京', E'trailing space ', '""']) WITH ORDINALITY AS t(id, n);
SELECT billing.record_call(1, 'bulk-' || i, timestamptz '2025-03-10 00:00+00' + i * interval '1 minute', i % 900, 'completed')
  FROM generate_series(1, 5000) AS i;
SQL
period=$(psql -d "$db" -At -c "SELECT id FROM billing.billing_periods WHERE company_id = 1")
mkdir -p build/csv_bytes
status=0
for granularity in call day; do
  # The reference: the function's own text, as bytes.
  psql -d "$db" -At -c "SELECT encode(convert_to(billing.period_csv($period, '$granularity'), 'UTF8'), 'hex')" |
    xxd -r -p >"build/csv_bytes/reference_$granularity.csv"
  # The psql recipe of the README.
  command psql -X -q -A -t -v FETCH_COUNT=1000 -d "$db" \
    -c "SELECT line || E'\r' FROM billing.period_csv_lines($period, '$granularity') AS line" \
    >"build/csv_bytes/psql_$granularity.csv"
  # The client library recipe of the README.
  /usr/bin/python3 - "$db" "$period" "$granularity" "build/csv_bytes/python_$granularity.csv" <<'PY'
import sys
import psycopg2
database, period, granularity, path = sys.argv[1:]
with psycopg2.connect(dbname=database) as connection, open(path, "wb") as out:
    with connection.cursor(name="csv") as cursor:  # a server-side cursor: streams
        cursor.itersize = 1000
        cursor.execute("SELECT line FROM billing.period_csv_lines(%s, %s) AS line", (int(period), granularity))
        for (line,) in cursor:
            out.write(line.encode("utf-8") + b"\r\n")
PY
  for recipe in psql python; do
    if cmp "build/csv_bytes/reference_$granularity.csv" "build/csv_bytes/${recipe}_$granularity.csv"; then
      echo "$granularity: $recipe recipe byte-identical ($(wc -c <"build/csv_bytes/reference_$granularity.csv") bytes)"
    else
      echo "$granularity: $recipe recipe differs"; status=1
    fi
  done
done
# The naive COPY recipe escapes backslashes, CR and LF and ends lines with LF: not the file.
command psql -X -q -d "$db" -c "COPY (SELECT * FROM billing.period_csv_lines($period)) TO STDOUT" >build/csv_bytes/copy_call.csv
if cmp -s build/csv_bytes/reference_call.csv build/csv_bytes/copy_call.csv; then
  echo "COPY text format unexpectedly gave the same bytes"; status=1
else
  echo "COPY (text format) changes the bytes, as the README warns"
fi
exit $status
