"""Webhooks from outside: a receiver on loopback answers 500, then nothing within the time limit,
then 200; the signature is verified here with Python's own hmac (an implementation independent
of the gateway's OpenSSL one), the idempotency key stays the same across retries, two gateways
deliver an event once, a delivery retried past 24 hours is dead and diagnose() says so, and the
alerts endpoint shows the alert to its company only.

Usage: test_webhooks.py GATEWAY_BINARY CLUSTER_DIR (run by test/gateway/webhooks.sh)."""

import decimal
import hashlib
import hmac
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time

import psycopg2

BINARY, CLUSTER_DIR = sys.argv[1], sys.argv[2]
PGHOST, PGPORT = os.environ["PGHOST"], os.environ["PGPORT"]
DATABASE = "webhook_test"
CONNINFO = f"host={PGHOST} port={PGPORT} dbname={DATABASE} user=webhook_test_login"
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    results["passed" if condition else "failed"] += 1
    print(("ok     " if condition else "FAILED ") + name + ("" if condition else f"   {detail}"), flush=True)


def sql(query, *args):
    connection = psycopg2.connect(host=PGHOST, port=PGPORT, dbname=DATABASE, user="postgres")
    connection.autocommit = True
    with connection, connection.cursor() as cursor:
        cursor.execute(query, args)
        rows = cursor.fetchall() if cursor.description else None
    connection.close()
    return rows


class Receiver(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the next planned behaviour: a status, or 'hang' (no answer in time)."""
    plan = []
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Receiver.lock:
            behaviour = Receiver.plan.pop(0) if Receiver.plan else 200
            Receiver.received.append({"headers": dict(self.headers), "body": body, "path": self.path,
                                      "behaviour": behaviour})
        if behaviour == "hang":
            time.sleep(2.0)
            behaviour = 200
        self.send_response(behaviour)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def verify(secret, headers, body, tolerance=300):
    """Stripe-style verification: t=<unix>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>."""
    parts = dict(item.split("=", 1) for item in headers.get("Billing-Signature", "").split(","))
    expected = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", "")) and abs(time.time() - int(parts["t"])) < tolerance


class Gateway:
    def __init__(self):
        self.port_file = os.path.join(CLUSTER_DIR, f"webhook-gateway-{time.monotonic_ns()}.port")
        self.process = subprocess.Popen(
            [BINARY, "--database", CONNINFO, "--port", "0", "--port-file", self.port_file,
             "--webhook-interval-ms", "200", "--webhook-timeout-ms", "500"],
            stdout=subprocess.DEVNULL, stderr=open(self.port_file + ".err", "w"))
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            time.sleep(0.05)
        self.port = int(open(self.port_file).read())

    def get(self, path, token):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def wait_for(condition, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def delivery(event_kind_threshold):
    return sql("SELECT d.status, d.attempts, d.last_status, d.last_error FROM billing.webhook_deliveries d "
               "JOIN billing.alert_events e ON e.id = d.event_id WHERE e.body -> 'alert' ->> 'threshold' = %s "
               "ORDER BY d.id", event_kind_threshold)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks/billing?source=test"
    sql("INSERT INTO billing.companies (id, name, timezone) VALUES (1, 'Hooked', 'Europe/Berlin'), (2, 'Other', 'UTC')")
    sql("INSERT INTO billing.pricing_plans (company_id, pricing_model, base_fee, included_minutes, overage_per_minute, "
        "per_appointment_rate, valid_from) VALUES (1, 'per_minute', 49, 100, 0.15, 2, '2020-01-01'), "
        "(2, 'per_minute', 49, 100, 0.15, 2, '2020-01-01')")
    sql("INSERT INTO billing.alert_settings (company_id, webhook_url, included_thresholds) VALUES (1, %s, '{80,100,150}')", url)
    secret = sql("SELECT webhook_secret FROM billing.alert_settings WHERE company_id = 1")[0][0]
    gateway = Gateway()
    try:
        # 1. The 80% alert: 500 first, then no answer within the time limit, then 200.
        Receiver.plan = [500, "hang", 200]
        sql("SELECT billing.record_call(1, 'c1', now(), 4800)")
        check("the first attempt comes at once (NOTIFY)", wait_for(lambda: len(Receiver.received) >= 1, 5))
        check("a 500 is recorded as a failed attempt",
              wait_for(lambda: delivery("80.00") == [("pending", 1, 500, "HTTP 500")]), delivery("80.00"))
        due = sql("SELECT next_attempt_at - now() FROM billing.webhook_deliveries")[0][0].total_seconds()
        check("the retry waits its backoff (30 s, up to a quarter more)", 25 < due <= 38, due)
        sql("UPDATE billing.webhook_deliveries SET next_attempt_at = now()")
        check("an answer that does not come in time is a failed attempt",
              wait_for(lambda: (delivery("80.00") or [()])[0][:2] == ("pending", 2)), delivery("80.00"))
        check("it is recorded without a status, with the reason",
              delivery("80.00")[0][2] is None and "no response" in (delivery("80.00")[0][3] or ""), delivery("80.00"))
        sql("UPDATE billing.webhook_deliveries SET next_attempt_at = now()")
        check("the third attempt delivers", wait_for(lambda: delivery("80.00") == [("delivered", 3, 200, None)]),
              delivery("80.00"))
        attempts = list(Receiver.received[:3])
        check("three requests reached the receiver", len(attempts) == 3, len(attempts))
        check("every attempt is signed (verified with Python's hmac)",
              all(verify(secret, a["headers"], a["body"]) for a in attempts), [a["headers"] for a in attempts])
        check("a changed body fails the verification",
              not verify(secret, attempts[0]["headers"], attempts[0]["body"] + b" "))
        check("another secret fails the verification", not verify(secret + "x", attempts[0]["headers"], attempts[0]["body"]))
        check("the body and idempotency key are the same on every attempt",
              len({a["body"] for a in attempts}) == 1 and len({a["headers"].get("Idempotency-Key") for a in attempts}) == 1)
        check("the attempts are numbered", [a["headers"].get("Billing-Delivery-Attempt") for a in attempts] == ["1", "2", "3"])
        body = json.loads(attempts[0]["body"], parse_float=decimal.Decimal)
        check("the body names the event, company, kind, threshold and period",
              body["type"] == "alert.fired" and body["company_id"] == 1 and body["alert"]["kind"] == "included_minutes"
              and str(body["alert"]["threshold"]) == "80.00" and "start" in body["alert"]["period"], body)
        event_id = sql("SELECT pg_catalog.min(id) FROM billing.alert_events")[0][0]
        check("the event id is the idempotency key", attempts[0]["headers"].get("Billing-Event-Id") == str(event_id)
              and attempts[0]["headers"].get("Idempotency-Key") == f"billing-event-{event_id}", attempts[0]["headers"])
        check("the path and query of the URL are kept", all(a["path"] == "/hooks/billing?source=test" for a in attempts),
              [a["path"] for a in attempts])

        # 2. Usage that crosses nothing sends nothing.
        before = len(Receiver.received)
        sql("SELECT billing.record_call(1, 'c2', now(), 60)")
        time.sleep(1.0)
        check("a call that crosses nothing sends nothing", len(Receiver.received) == before, len(Receiver.received) - before)

        # 3. Two gateways: the 100% alert is delivered once.
        second = Gateway()
        try:
            sql("SELECT billing.record_call(1, 'c3', now(), 1200)")
            check("two gateways deliver the 100% alert", wait_for(lambda: delivery("100.00") == [("delivered", 1, 200, None)]),
                  delivery("100.00"))
            time.sleep(1.0)
            hundred = [a for a in Receiver.received if json.loads(a["body"], parse_float=decimal.Decimal)["alert"]["threshold"] == decimal.Decimal("100.00")]
            check("once", len(hundred) == 1, len(hundred))
        finally:
            second.stop()

        # 4. A delivery failing past 24 hours and 10 attempts is dead; diagnose() says so.
        Receiver.plan = [500] * 20
        sql("SELECT billing.record_call(1, 'c4', now(), 3000)")  # 150%
        check("the 150% alert is attempted", wait_for(lambda: (delivery("150.00") or [()])[0][:2] == ("pending", 1)),
              delivery("150.00"))
        sql("UPDATE billing.alert_events SET created_at = created_at - interval '25 hours' "
            "WHERE body -> 'alert' ->> 'threshold' = '150.00'")
        sql("UPDATE billing.webhook_deliveries d SET attempts = 9, next_attempt_at = now() FROM billing.alert_events e "
            "WHERE e.id = d.event_id AND e.body -> 'alert' ->> 'threshold' = '150.00'")
        check("after 24 hours and 10 attempts it is dead", wait_for(lambda: (delivery("150.00") or [()])[0][:2] == ("dead", 10)),
              delivery("150.00"))
        diagnosis = sql("SELECT ok, detail FROM billing.diagnose(1) WHERE \"check\" = 'webhook_deliveries'")[0]
        check("diagnose() reports the dead delivery", diagnosis[0] is False and "1 dead" in diagnosis[1], diagnosis)
        count = len(Receiver.received)
        time.sleep(0.8)
        check("a dead delivery is not attempted again", len(Receiver.received) == count)

        # 5. The alerts endpoint: the company's own alerts and budget card, nobody else's.
        token = sql("SELECT token FROM billing.create_api_token(1, 'hooks', NULL, ARRAY['view_billing'], NULL)")[0][0]
        other = sql("SELECT token FROM billing.create_api_token(2, 'other', NULL, ARRAY['view_billing'], NULL)")[0][0]
        status, raw = gateway.get("/api/billing/alerts", token)
        data = json.loads(raw)["data"] if status == 200 else {}
        check("GET /api/billing/alerts lists the company's alerts",
              status == 200 and sorted(a["threshold"] for a in data["alerts"]) == [80, 100, 150], raw)
        check("with its budget card", status == 200 and data["budget"]["currency"] == "EUR" and
              data["budget"]["monthly_budget"] is None, raw)
        status, raw = gateway.get("/api/billing/alerts", other)
        check("another company's token sees none of them", status == 200 and json.loads(raw)["data"]["alerts"] == [], raw)
        connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
        connection.request("POST", "/api/billing/alerts", headers={"Authorization": f"Bearer {token}"})
        check("POST is not allowed", connection.getresponse().status == 405)
    finally:
        gateway.stop()
        server.shutdown()
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


main()
