"""The HTTP gateway tried from outside: every endpoint and status, tokens, cross-company
requests, the CSV bytes, ETags, the shared rate limit of two processes, the database stopped and
started during requests, malformed and slow requests, the audit, the access log, SIGTERM.

Usage: test_gateway.py GATEWAY_BINARY CLUSTER_DIR (run by test/gateway/http_api.sh, which starts the
cluster with the demo data). Prints one line per check and "N passed, N failed"."""

import decimal
import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

import psycopg2

BINARY, CLUSTER_DIR = sys.argv[1], sys.argv[2]
PGHOST, PGPORT = os.environ["PGHOST"], os.environ["PGPORT"]
DATABASE = "gateway_test"
CONNINFO = f"host={PGHOST} port={PGPORT} dbname={DATABASE} user=gateway_test_login"
PG_CTL = os.path.join(subprocess.check_output(["pg_config", "--bindir"], text=True).strip(), "pg_ctl")

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok     " if condition else "FAILED ") + name + ("" if condition else f"   {detail}"), flush=True)


def admin():
    connection = psycopg2.connect(host=PGHOST, port=PGPORT, dbname=DATABASE, user="postgres")
    connection.autocommit = True
    return connection


def sql(query, *args):
    with admin() as connection, connection.cursor() as cursor:
        cursor.execute(query, args)
        return cursor.fetchall() if cursor.description else None


def as_company(company, query):
    """The first column of the first row of `query`, in a transaction with `company` set."""
    with admin() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN; SET LOCAL billing.company_id = %s", (str(company),))
        cursor.execute(query)
        value = cursor.fetchone()[0]
        cursor.execute("COMMIT")
        return value


def new_token(company, name="test", user=None, abilities=("view_billing",), expires_at=None):
    return sql("SELECT token FROM billing.create_api_token(%s, %s, %s, %s, %s)",
               company, name, user, list(abilities), expires_at)[0][0]


class Gateway:
    """A gateway process on a free port, its access log collected."""

    def __init__(self, *flags):
        self.port_file = os.path.join(CLUSTER_DIR, f"gateway-{time.monotonic_ns()}.port")
        self.log_path = self.port_file + ".log"
        self.errors_path = self.port_file + ".err"
        self.process = subprocess.Popen(
            [BINARY, "--database", CONNINFO, "--port", "0", "--port-file", self.port_file,
             "--portal-url", "https://pay.example/portal?c=1&x='y'", *flags],
            stdout=open(self.log_path, "w"), stderr=open(self.errors_path, "w"))
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        self.port = int(open(self.port_file).read())

    def request(self, path, token=None, method="GET", headers=None, timeout=10):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, headers=all_headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def raw(self, data, timeout=5):
        """Sends raw bytes; returns what came back before the gateway closed (or the timeout)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as connection:
            connection.sendall(data)
            received = b""
            try:
                while True:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                    if b"\r\n\r\n" in received and b"Content-Length: " in received:
                        head, _, rest = received.partition(b"\r\n\r\n")
                        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                        if len(rest) >= length:
                            break
            except (socket.timeout, ConnectionResetError):
                pass
            return received

    def alive(self):
        return self.process.poll() is None and self.request("/healthz")[0] == 200

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def access_log(self):
        return [json.loads(line) for line in open(self.log_path) if line.strip()]


def envelope(body):
    return json.loads(body, parse_float=decimal.Decimal)


def error_code(body):
    try:
        document = json.loads(body)
        return document["error"]["code"] if document.get("success") is False else None
    except (ValueError, KeyError, TypeError):
        return None


def main():
    # Tokens: two companies, abilities, expiry, revocation, an inactive company.
    sql("INSERT INTO billing.companies (id, name, timezone, active) VALUES (77, 'Paused GmbH', 'UTC', false)")
    weber = new_token(1, "dashboard", "anna@weber.example")
    hoffmann = new_token(2, "dashboard", "ben@hoffmann.example")
    clinic = new_token(4, "dashboard")
    reports_only = new_token(1, "reports", None, ("export_reports",))
    expired = new_token(1, "old", None, ("view_billing",), "2020-01-01 00:00+00")
    revoked = new_token(1, "revoked")
    sql("SELECT billing.revoke_api_token(%s)", int(revoked.split("|")[0]))
    paused = new_token(77, "paused")
    weber_period = sql("SELECT min(id) FROM billing.billing_periods WHERE company_id = 1")[0][0]
    hoffmann_period = sql("SELECT min(id) FROM billing.billing_periods WHERE company_id = 2")[0][0]
    missing_period = sql("SELECT max(id) + 1000 FROM billing.billing_periods")[0][0]

    # A period of 60,000 calls (about 4 MB of CSV) for downloads that clients abandon.
    sql("INSERT INTO billing.companies (id, name, timezone) VALUES (90, 'Big Download GmbH', 'UTC')")
    sql("INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from) "
        "VALUES (90, 'combined', 0.10, 1.00, '2025-01-01')")
    sql("INSERT INTO billing.billing_periods (company_id, start_date, end_date) VALUES (90, '2025-03-01', '2025-03-31')")
    sql("INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status) "
        "SELECT 90, 'big-' || i, timestamptz '2025-03-02 00:00+00' + i * interval '30 seconds', 60 + mod(i, 500), 'completed' "
        "FROM generate_series(1, 60000) AS i")
    big_period = sql("SELECT id FROM billing.billing_periods WHERE company_id = 90")[0][0]

    gateway = Gateway("--rate-limit", "100000", "--read-timeout", "2", "--threads", "32", "--pool-size", "4")
    try:
        run_checks(gateway, locals())
    finally:
        code = gateway.stop() if gateway.process.poll() is None else gateway.process.returncode
        check("the gateway exits 0 on SIGTERM", code == 0, f"exit code {code}")
        errors = open(gateway.errors_path).read()
        check("no sanitizer report on stderr", "ERROR: AddressSanitizer" not in errors and "runtime error" not in errors,
              errors[-2000:])
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


def run_checks(gateway, t):
    weber, hoffmann, clinic = t["weber"], t["hoffmann"], t["clinic"]

    # --- process endpoints
    status, headers, body = gateway.request("/healthz")
    check("/healthz is 200", status == 200 and json.loads(body) == {"status": "ok"}, body)
    status, _, body = gateway.request("/readyz")
    check("/readyz is 200 while the database is up", status == 200, body)

    # --- the five endpoints of the specification and the three the dashboard needs
    with admin() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN; SET LOCAL billing.company_id = '1'")
        cursor.execute("SELECT billing.usage_current()::text, billing.usage_projection()::text")
        current_sql, projection_sql = cursor.fetchone()
        cursor.execute("SELECT billing.period_csv(%s)", (t["weber_period"],))
        csv_sql = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM billing.billing_history()")
        history_count = cursor.fetchone()[0]
        cursor.execute("COMMIT")
    status, headers, body = gateway.request("/api/billing/usage/current", weber)
    document = envelope(body)
    check("usage/current: 200 with the envelope", status == 200 and document["success"] is True, body[:300])
    check("usage/current: the document as the database wrote it", body == b'{"success": true, "data": ' + current_sql.encode() + b"}",
          body[:300])
    check("usage/current: money keeps its two decimals on the wire",
          re.search(rb'"base_fee": \d+\.\d\d[,}]', body) is not None and isinstance(document["data"]["base_fee"], decimal.Decimal),
          body[:300])
    check("usage/current: the specification's fields", all(
        key in document["data"] for key in ("period", "calls", "appointments", "total_cost", "included_minutes",
                                           "overage_minutes", "usage_percentage")) and
          {"start", "end", "days_remaining"} <= set(document["data"]["period"]) and
          {"total", "completed", "total_minutes", "avg_duration", "cost"} <= set(document["data"]["calls"]), body[:300])
    check("usage/current: rate-limit headers", headers.get("x-ratelimit-limit") == "100000" and
          headers.get("x-ratelimit-remaining", "").isdigit(), headers)
    check("usage/current: JSON content type", headers.get("content-type") == "application/json; charset=utf-8", headers)
    status, _, body = gateway.request("/api/billing/usage/projection", weber)
    document = envelope(body)
    check("usage/projection: current and projected", status == 200 and body.decode().endswith(projection_sql + "}") and
          {"minutes", "appointments", "costs", "days_remaining", "avg_per_day"} <= set(document["data"]["projected"]),
          body[:300])
    forecast_sql = as_company(1, "SELECT billing.usage_forecast()::text")
    status, _, body = gateway.request("/api/billing/usage/forecast", weber)
    check("usage/forecast: the forecast document as the database wrote it",
          status == 200 and body.decode().endswith(forecast_sql + "}") and
          {"method", "minutes", "appointments", "total_cost", "included_minutes_run_out"} <= set(envelope(body)["data"]),
          body[:300])
    anomalies_sql = as_company(1, "SELECT COALESCE(array_to_json(array_agg(a)), '[]')::text FROM billing.usage_anomalies(NULL, 60) AS a")
    status, _, body = gateway.request("/api/billing/usage/anomalies?days=60", weber)
    check("usage/anomalies?days=60: usage_anomalies() as the database wrote it",
          status == 200 and body.decode().endswith(anomalies_sql + "}"), body[:300])
    for bad in ["days=0", "days=367", "days=x"]:
        status, _, body = gateway.request(f"/api/billing/usage/anomalies?{bad}", weber)
        check(f"400 for usage/anomalies?{bad}", status == 400 and error_code(body) == "invalid_parameter", (status, body))
    analytics_sql = as_company(1, "SELECT billing.usage_analytics()::text")
    status, _, body = gateway.request("/api/billing/usage/analytics", weber)
    check("usage/analytics: the current period's analytics as the database wrote them",
          status == 200 and body.decode().endswith(analytics_sql + "}") and
          len(envelope(body)["data"]["heatmap"]) == 7, body[:300])
    ranged_sql = as_company(1, "SELECT billing.usage_analytics(NULL, current_date - 40, current_date - 10)::text")
    ranged = sql("SELECT (current_date - 40)::text, (current_date - 10)::text")[0]
    status, _, body = gateway.request(f"/api/billing/usage/analytics?from={ranged[0]}&to={ranged[1]}", weber)
    check("usage/analytics?from&to: the range's analytics", status == 200 and body.decode().endswith(ranged_sql + "}"),
          body[:300])
    for bad in ["from=2025-02-30", "from=2025-1-01", "to=yesterday", "from=2025-01-01&from=2025-01-02",
                "from=2025-03-01&to=2025-02-01", "from=2020-01-01&to=2025-01-01", "to=2025-01-01%27"]:
        status, _, body = gateway.request(f"/api/billing/usage/analytics?{bad}", weber)
        check(f"400 for usage/analytics?{bad}", status == 400 and error_code(body) == "invalid_parameter", (status, body))
    status, _, body = gateway.request("/api/billing/history", weber)
    document = envelope(body)
    check("history: one entry per invoice with number, period, issue date, total, status, PDF",
          status == 200 and len(document["data"]) == history_count > 0 and
          {"number", "period_start", "period_end", "issued_at", "total", "status", "pdf_url"} <= set(document["data"][0]),
          body[:300])
    check("history: totals are exact decimals", all(isinstance(row["total"], decimal.Decimal) for row in document["data"]))
    status, _, body = gateway.request(f"/api/billing/period/{t['weber_period']}", weber)
    document = envelope(body)
    check("period/{id}: the period detail", status == 200 and {"period", "charges", "daily", "usage"} <= set(document["data"]),
          body[:300])
    status, headers, body = gateway.request(f"/api/billing/period/{t['weber_period']}/download", weber)
    check("period/{id}/download: byte for byte billing.period_csv()", status == 200 and body == csv_sql.encode(),
          f"{len(body)} bytes against {len(csv_sql.encode())}")
    check("period/{id}/download: text/csv and an attachment",
          headers.get("content-type") == "text/csv; charset=utf-8" and
          headers.get("content-disposition", "").startswith('attachment; filename="'), headers)
    status, _, body = gateway.request("/api/billing/usage/trends?months=3", weber)
    document = envelope(body)
    check("usage/trends?months=3: three periods, oldest first", status == 200 and len(document["data"]) == 3 and
          document["data"][0]["period_start"] < document["data"][2]["period_start"], body[:300])
    status, _, body = gateway.request("/api/billing/usage/trends", weber)
    check("usage/trends: six periods by default", status == 200 and len(envelope(body)["data"]) == 6, body[:300])
    status, _, body = gateway.request("/api/billing/upcoming-charges", weber)
    document = envelope(body)
    check("upcoming-charges: renewal, base fee, projections", status == 200 and
          {"renewal_date", "next_base_fee", "projected_total", "currency"} <= set(document["data"]), body[:300])
    status, _, body = gateway.request("/api/billing/payment-methods", weber)
    document = envelope(body)
    methods = document["data"]["methods"] if status == 200 else []
    check("payment-methods: display fields and the configured portal URL", status == 200 and methods and
          document["data"]["portal_url"] == "https://pay.example/portal?c=1&x='y'" and
          all(set(m) == {"id", "brand", "last4", "expiry", "is_default", "expired", "provider"} for m in methods), body[:300])
    check("payment-methods: no provider reference, nothing that looks like a card number",
          b"provider_reference" not in body and re.search(rb"\d{12,}", body) is None, body[:300])
    sql("INSERT INTO billing.plan_catalog (name, config, currency) VALUES "
        "('Gateway Flex', '{\"pricing_model\":\"combined\",\"per_minute_rate\":0.12,\"per_appointment_rate\":2.5}', 'EUR')")
    comparison_sql = as_company(1, "SELECT array_to_json(array_agg(c))::text FROM billing.compare_plans(NULL, 3) AS c")
    status, _, body = gateway.request("/api/billing/plan-comparison?periods=3", weber)
    check("plan-comparison?periods=3: compare_plans() as the database wrote it, cheapest first",
          status == 200 and body.decode().endswith(comparison_sql + "}") and
          [row["total"] for row in envelope(body)["data"]] == sorted(row["total"] for row in envelope(body)["data"]),
          body[:300])
    for bad in ["periods=0", "periods=25", "periods=x", "periods=1&periods=2"]:
        status, _, body = gateway.request(f"/api/billing/plan-comparison?{bad}", weber)
        check(f"400 for plan-comparison?{bad}", status == 400 and error_code(body) == "invalid_parameter", (status, body))
    status, _, body = gateway.request("/api/billing/usage/current", clinic)
    check("usage/current of a USD company", status == 200 and envelope(body)["data"]["currency"] == "USD", body[:200])

    # --- Range is ignored: the whole document or file, never a partial body
    for path, whole in [("/api/billing/usage/current", b'{"success": true, "data": ' + current_sql.encode() + b"}"),
                        (f"/api/billing/period/{t['weber_period']}/download", csv_sql.encode())]:
        for byte_range in ["bytes=0-10", "bytes=5-", "bytes=0-1,3-4"]:
            status, headers, body = gateway.request(path, weber, headers={"Range": byte_range})
            check(f"Range {byte_range} on {path.split('/')[-1]}: 200 and everything",
                  status == 200 and body == whole and "content-range" not in headers, (status, headers, body[:80]))

    # --- 401: one response for every kind of bad token
    unauthenticated = []
    for token_header in [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer", "Bearer 1|short",
                         "Bearer " + weber + "x", "Bearer " + weber[:-1] + ("A" if weber[-1] != "A" else "B"),
                         "Bearer 999999|" + weber.split("|")[1], "Bearer " + t["expired"], "Bearer " + t["revoked"],
                         "Bearer " + "9" * 600, "Bearer \u00e9t\u00e9"]:
        headers = {} if token_header is None else {"Authorization": token_header.encode("utf-8").decode("latin-1")}
        status, response_headers, body = gateway.request("/api/billing/usage/current", headers=headers)
        unauthenticated.append((status, body, response_headers.get("www-authenticate")))
    check("401 for missing, malformed, unknown, wrong, expired and revoked tokens",
          all(s == 401 for s, _, _ in unauthenticated), [s for s, _, _ in unauthenticated])
    check("401: the same body for all of them, with WWW-Authenticate",
          len({b for _, b, _ in unauthenticated}) == 1 and all(w == "Bearer" for _, _, w in unauthenticated),
          {b for _, b, _ in unauthenticated})
    status, _, body = gateway.request("/api/billing/usage/current",
                                      headers={"Authorization": "Bearer " + weber, "authorization": "Bearer " + hoffmann})
    check("401 for two Authorization headers", status == 401, status)

    # --- 403
    status, _, body = gateway.request("/api/billing/usage/current", t["reports_only"])
    check("403 for a token without view_billing", status == 403 and error_code(body) == "forbidden", body)
    status, _, body = gateway.request("/api/billing/usage/current", t["paused"])
    check("403 for an inactive company", status == 403 and error_code(body) == "company_inactive", body)

    # --- 404: another company's period is a period that does not exist, byte for byte
    other = gateway.request(f"/api/billing/period/{t['hoffmann_period']}", weber)
    missing = gateway.request(f"/api/billing/period/{t['missing_period']}", weber)
    check("404 for another company's period and for a missing one, identical bodies",
          other[0] == missing[0] == 404 and other[2] == missing[2], (other, missing))
    other = gateway.request(f"/api/billing/period/{t['hoffmann_period']}/download", weber)
    missing = gateway.request(f"/api/billing/period/{t['missing_period']}/download", weber)
    check("404 for another company's CSV and a missing one, identical bodies",
          other[0] == missing[0] == 404 and other[2] == missing[2] and b"Hoffmann" not in other[2], (other, missing))
    status, _, body = gateway.request(f"/api/billing/period/{t['hoffmann_period']}", hoffmann)
    check("the owner reads that period", status == 200, status)

    # --- 400: bad ids and parameters
    for path in ["/api/billing/period/-1", "/api/billing/period/0", "/api/billing/period/abc",
                 "/api/billing/period/1.5", "/api/billing/period/99999999999999999999",
                 "/api/billing/period/9223372036854775808", "/api/billing/period/01", "/api/billing/period/%2D1",
                 "/api/billing/period/-1/download", "/api/billing/period/abc/download",
                 "/api/billing/usage/trends?months=0", "/api/billing/usage/trends?months=121",
                 "/api/billing/usage/trends?months=abc", "/api/billing/usage/trends?months=",
                 "/api/billing/usage/trends?months=3&months=4", "/api/billing/usage/trends?months=-3"]:
        status, _, body = gateway.request(path, weber)
        check(f"400 for {path}", status == 400 and error_code(body) == "invalid_parameter", (status, body))
    status, _, body = gateway.request(f"/api/billing/period/%{ord(str(t['weber_period'])[0]):X}{str(t['weber_period'])[1:]}", weber)
    check("a percent-encoded id is the same id", status == 200, status)
    status, _, body = gateway.request("/api/billing/period/9223372036854775807", weber)
    check("404 for the largest id", status == 404, (status, body))
    status, _, body = gateway.request("/api/billing/usage/current?company_id=2&billing.company_id=2", weber)
    check("unknown query parameters are ignored: still the token's company",
          status == 200 and body.decode().endswith(current_sql + "}"), body[:200])

    # --- 405 and 404 for unknown paths
    for method in ["POST", "PUT", "DELETE", "PATCH"]:
        status, headers, body = gateway.request("/api/billing/usage/current", weber, method=method)
        check(f"405 for {method}", status == 405 and "GET" in headers.get("allow", "") and error_code(body), (status, body))
    for path in ["/api/billing/nothing", "/api/billing/../../etc/passwd", "/api/billing/%2e%2e/%2e%2e/etc/passwd",
                 "/etc/passwd", "/api/billing/period/1/download/../../../etc/passwd", "/api/billing/usage/current/"]:
        status, _, body = gateway.request(path, weber)
        check(f"404 for {path}", status in (400, 404) and error_code(body) and b"root:" not in body, (status, body))

    # --- ETag and 304
    status, headers, body = gateway.request("/api/billing/usage/current", hoffmann)
    etag = headers.get("etag")
    status_again, headers_again, _ = gateway.request("/api/billing/usage/current", hoffmann)
    check("ETag: the same figures give the same tag", etag and headers_again.get("etag") == etag, (etag, headers_again))
    status, headers, body = gateway.request("/api/billing/usage/current", hoffmann, headers={"If-None-Match": etag})
    check("If-None-Match with the tag: 304 without a body", status == 304 and body == b"", (status, body))
    status, _, _ = gateway.request("/api/billing/usage/current", hoffmann, headers={"If-None-Match": 'W/"x", ' + etag})
    check("If-None-Match with a list holding the tag: 304", status == 304, status)
    status, _, _ = gateway.request("/api/billing/usage/current", hoffmann, headers={"If-None-Match": '"other"'})
    check("If-None-Match with another tag: 200", status == 200, status)
    sql("SELECT billing.record_call(2, 'etag-call', now() - interval '1 minute', 600, 'completed')")
    status, headers, _ = gateway.request("/api/billing/usage/current", hoffmann, headers={"If-None-Match": etag})
    check("a new call changes the figures and the ETag: 200", status == 200 and headers.get("etag") != etag, status)
    status, _, body = gateway.request("/api/billing/usage/current", weber, headers={"If-None-Match": etag})
    check("another company's tag never matches", status == 200, status)

    # --- no cross-company leak under concurrency
    expected = {}
    for token, company in [(weber, 1), (hoffmann, 2), (clinic, 4)]:
        expected[token] = gateway.request("/api/billing/usage/current", token)[2]
    mismatches = []

    def hammer(token):
        for _ in range(40):
            status, _, body = gateway.request("/api/billing/usage/current", token)
            if status != 200 or body != expected[token]:
                mismatches.append((status, body[:100]))
    threads = [threading.Thread(target=hammer, args=(token,)) for token in expected for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check("360 concurrent requests of three companies: each gets its own figures", not mismatches, mismatches[:3])

    # --- malformed requests: a clear 4xx or a closed connection, never a crash
    malformed = {
        "garbage request line": b"HELLO\r\n\r\n",
        "no version": b"GET /healthz\r\n\r\n",
        "unknown version": b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
        "header without colon": b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
        "URL of 20 kB": b"GET /api/billing/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "header of 20 kB": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n",
        "token of 20 kB": b"GET /api/billing/usage/current HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"1" * 20000 + b"\r\n\r\n",
        "10,000 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 10000 + b"\r\n",
        "bad UTF-8 in the path": b"GET /api/billing/period/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        "bad percent-encoding": b"GET /api/billing/period/%zz%0 HTTP/1.1\r\nHost: x\r\n\r\n",
        "NUL in the path": b"GET /api/billing/period/1\x00/download HTTP/1.1\r\nHost: x\r\n\r\n",
        "body of 10 MB announced": b"POST /api/billing/usage/current HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nabc",
        "chunked and Content-Length": b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "negative Content-Length": b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "bad chunk size": b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "token with CR LF": b"GET /api/billing/usage/current HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer 1|\r\n a\r\n\r\n",
    }
    for name, data in malformed.items():
        answer = gateway.raw(data)
        status_line = answer.split(b"\r\n", 1)[0]
        match = re.match(rb"HTTP/1\.[01] (\d{3})", status_line)
        code = int(match.group(1)) if match else None
        # httplib skips a header line without a colon and a negative Content-Length, and takes
        # Transfer-Encoding over Content-Length: what remains is a valid GET /healthz.
        lenient = ("header without colon", "negative Content-Length", "chunked and Content-Length", "10,000 headers")
        acceptable = code is None or 400 <= code < 500 or (code == 200 and name in lenient)
        check(f"malformed: {name}: {code or 'closed'}", acceptable and gateway.alive(), answer[:200])

    # --- slow clients: one that sends half a request holds one thread, not the gateway
    slow = [socket.create_connection(("127.0.0.1", gateway.port)) for _ in range(3)]
    for connection in slow:
        connection.sendall(b"GET /api/billing/usage/current HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    status, _, _ = gateway.request("/api/billing/usage/current", weber)
    check("three slow clients do not delay another request", status == 200 and time.monotonic() - started < 1.0,
          time.monotonic() - started)
    time.sleep(2.5)
    closed = 0
    for connection in slow:
        connection.settimeout(2)
        try:
            data = connection.recv(100)
            closed += 1 if data == b"" or data.startswith(b"HTTP/1.1 4") else 0
        except (socket.timeout, ConnectionResetError):
            pass
        connection.close()
    check("slow clients are cut off after the read timeout", closed == 3, closed)

    # --- downloads abandoned mid-stream give their connection back (4 in the pool, 12 abandoned)
    big = new_token(90, "abandoned")
    request = (f"GET /api/billing/period/{t['big_period']}/download HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {big}\r\n\r\n").encode()
    first_bytes = []
    for _ in range(12):
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as connection:
            connection.sendall(request)
            first_bytes.append(connection.recv(4096)[:15])
    time.sleep(0.5)
    after = [gateway.request("/api/billing/usage/current", weber)[0] for _ in range(8)]
    check("12 downloads abandoned after 4 kB: every pooled connection is back (8 reads 200)",
          all(b == b"HTTP/1.1 200 OK" for b in first_bytes) and after == [200] * 8, (first_bytes[:2], after))
    status, _, body = gateway.request(f"/api/billing/period/{t['big_period']}/download", big, timeout=30)
    check("the 60,000-call CSV downloads whole afterwards", status == 200 and body.count(b"\r\n") == 60001,
          (status, body.count(b"\r\n")))

    # --- idle connections hold a thread each, not the others: a gateway of its own (32 threads, a
    # read timeout of 5 s), so that no earlier test's connection holds a thread
    fresh = Gateway("--threads", "32", "--read-timeout", "5", "--rate-limit", "100000")
    try:
        fresh.request("/healthz")
        idle = [socket.create_connection(("127.0.0.1", fresh.port)) for _ in range(20)]
        time.sleep(0.2)
        started = time.monotonic()
        status, _, _ = fresh.request("/api/billing/usage/current", weber)
        elapsed = time.monotonic() - started
        check("20 idle connections do not delay a request", status == 200 and elapsed < 0.8, elapsed)
        for connection in idle:
            connection.close()
    finally:
        fresh.stop()

    # --- a gateway whose database role may not verify tokens: 500 without internals, the reason logged
    sql("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_test_viewer') THEN "
        "CREATE ROLE gateway_test_viewer LOGIN IN ROLE billing_viewer; END IF; END$$")
    misconfigured = Gateway("--database", CONNINFO.replace("user=gateway_test_login", "user=gateway_test_viewer"))
    try:
        status, _, body = misconfigured.request("/api/billing/usage/current", weber)
        check("a gateway on a role outside billing_app: 500 with no internals", status == 500 and
              error_code(body) == "internal_error" and b"billing_app" not in body and b"permission" not in body, (status, body))
    finally:
        misconfigured.stop()
    check("... and its access log says why", any("billing_app" in line.get("problem", "") for line in misconfigured.access_log()))

    # --- the shared rate limit: two gateway processes, 60 a minute for one token
    limited = new_token(3, "limited")
    first, second = Gateway(), Gateway()
    try:
        statuses = []
        last_429 = None
        for i in range(64):
            status, headers, body = (first if i % 2 == 0 else second).request("/api/billing/usage/current", limited)
            statuses.append(status)
            if status == 429:
                last_429 = (headers, body)
        check("two gateways share one limit: 60 admitted, then 429", statuses[:60] == [200] * 60 and
              statuses[60:] == [429] * 4, statuses)
        headers, body = last_429 or ({}, b"")
        check("429: Retry-After, X-RateLimit-Limit 60, X-RateLimit-Remaining 0",
              headers.get("x-ratelimit-limit") == "60" and headers.get("x-ratelimit-remaining") == "0" and
              headers.get("retry-after", "").isdigit() and int(headers["retry-after"]) >= 1 and
              error_code(body) == "rate_limited", (headers, body))
        status, _, _ = first.request("/api/billing/usage/current", weber)
        check("another token is not limited by it", status == 200, status)
    finally:
        first.stop()
        second.stop()

    # --- the audit: the end user of every token read, last_used_at
    sql("SELECT billing.audit_flush_wait()")
    rows = sql("SELECT function_name, current_user_name, api_user, sum(reads) FROM billing.audit_log "
               "WHERE api_token_id = %s GROUP BY 1, 2, 3 ORDER BY 1", int(weber.split("|")[0]))
    functions = {row[0] for row in rows}
    check("audit: the token's reads under their functions, with the end user",
          {"authenticate_token", "usage_current", "usage_projection", "billing_history", "period_detail",
           "period_csv_lines", "usage_trends", "upcoming_charges", "company_payment_methods"} <= functions and
          all(row[1] == "gateway_test_login" and row[2] == "anna@weber.example" for row in rows), rows)
    failed = sql("SELECT coalesce(sum(reads), 0) FROM billing.audit_log WHERE function_name = 'authenticate_token (failed)'")[0][0]
    check("audit: the seven failed authentications that reached the database are counted", failed == 7, failed)
    used = sql("SELECT last_used_at IS NOT NULL FROM billing.api_tokens WHERE id = %s", int(weber.split("|")[0]))[0][0]
    check("last_used_at is set", used)

    # --- the access log: one JSON line per request, never a secret
    log = gateway.access_log()
    check("access log: method, path, status, duration, token id on every line",
          log and all({"method", "path", "status", "duration_ms", "token_id"} <= set(line) for line in log), log[:2])
    check("access log: the token id of authenticated requests",
          any(line["token_id"] == int(weber.split("|")[0]) and line["status"] == 200 for line in log))
    secrets = [token.split("|")[1] for token in (weber, hoffmann, clinic)]
    text = open(gateway.log_path).read() + open(gateway.errors_path).read()
    check("access log: no secret anywhere", not any(secret in text for secret in secrets))
    # (A 400 the database gave, SQLSTATE class 22, came after the token was checked.)
    refused = [line for line in log if line["status"] in (400, 413, 414, 431) and
               not (line.get("problem") or "").startswith("22")]
    check("access log: requests refused before routing name no token",
          refused and all(line["token_id"] is None for line in refused),
          [line for line in refused if line["token_id"] is not None][:3])

    # --- the database goes away and comes back: 503, then recovery without a restart
    # The server's own command line (postmaster.opts) starts it again with the same settings.
    data = os.path.join(CLUSTER_DIR, "data")
    options = shlex.split(open(os.path.join(data, "postmaster.opts")).read())[1:]
    options = [o for i, o in enumerate(options) if o != "-D" and (i == 0 or options[i - 1] != "-D")]
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(as_owner + [PG_CTL, "-D", data, "-m", "fast", "-w", "stop"], check=True, stdout=subprocess.DEVNULL)
    down = [gateway.request("/api/billing/usage/current", weber) for _ in range(3)]
    check("database down: 503 with a JSON error and Retry-After",
          all(s == 503 and error_code(b) == "service_unavailable" and h.get("retry-after") for s, h, b in down),
          [(s, b) for s, _, b in down])
    check("database down: /readyz 503, /healthz 200",
          gateway.request("/readyz")[0] == 503 and gateway.request("/healthz")[0] == 200)
    check("database down: the message shows no internals", all(b"socket" not in b and b"PGSQL" not in b for _, _, b in down))
    subprocess.run(as_owner + [PG_CTL, "-D", data, "-l", os.path.join(CLUSTER_DIR, "server.log"), "-w",
                               "-o", " ".join(shlex.quote(o) for o in options), "start"],
                   check=True, stdout=subprocess.DEVNULL)
    recovered = []

    def read_after_restart():
        recovered.append(gateway.request("/api/billing/usage/current", weber)[0])
    # Concurrent requests, so that every pooled connection (each one closed by the restart) is used.
    readers = [threading.Thread(target=read_after_restart) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    check("database back: 200 again on every pooled connection, the gateway not restarted",
          recovered == [200] * 8 and gateway.process.poll() is None, recovered)

    # --- SIGTERM: the requests in flight finish
    big = new_token(1, "big")
    answers = []

    def download():
        answers.append(gateway.request(f"/api/billing/period/{t['weber_period']}/download", big, timeout=30))
    in_flight = [threading.Thread(target=download) for _ in range(4)]
    for thread in in_flight:
        thread.start()
    time.sleep(0.05)
    gateway.process.send_signal(signal.SIGTERM)
    for thread in in_flight:
        thread.join()
    check("SIGTERM: the requests in flight are answered completely",
          len(answers) == 4 and all(s == 200 and b == csv_sql.encode() for s, _, b in answers), [a[0] for a in answers])


if __name__ == "__main__":
    main()
