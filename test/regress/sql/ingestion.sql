-- record_call() and record_appointment(): idempotent, validated, nothing half-written.
INSERT INTO billing.companies (id, name, timezone) VALUES (10, 'Ingest GmbH', 'Europe/Berlin');

SELECT billing.record_call(10, 'call-1', '2025-06-02 09:00+02', 125, 'completed') AS new;
SELECT billing.record_call(10, 'call-1', '2025-06-02 09:00+02', 125, 'completed') AS new;  -- replay
SELECT billing.record_call(10, 'call-1', '2025-06-03 10:00+02', 999, 'failed') AS new;     -- same id
SELECT billing.record_call(10, 'call-2', '2025-06-02 10:00+02', 0) AS new;                 -- default status
SELECT external_id, started_at AT TIME ZONE 'UTC' AS started_utc, duration_sec, status
  FROM billing.calls WHERE company_id = 10 ORDER BY external_id;

SELECT billing.record_appointment(10, 'appt-1', '2025-06-02 09:05+02', 'booked', 'call-1') AS new;
SELECT billing.record_appointment(10, 'appt-1', '2025-06-02 09:05+02', 'booked', 'call-1') AS new;
SELECT billing.record_appointment(10, 'appt-2', '2025-06-02 11:00+02') AS new;
SELECT billing.record_appointment(10, 'appt-3', '2025-06-02 12:00+02', 'cancelled') AS new;
SELECT a.external_id, c.external_id AS call, a.status
  FROM billing.appointments a LEFT JOIN billing.calls c ON c.id = a.call_id
 WHERE a.company_id = 10 ORDER BY a.external_id;

-- Bad input: a SQLSTATE each, and no row written.
SELECT regress.error_of($$SELECT billing.record_call(NULL, 'x', now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, NULL, now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', NULL, 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', now(), NULL, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', now(), 1, NULL)$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', now(), -1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', now(), 1, 'ringing')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', 'infinity', 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, '', now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, repeat('x', 256), now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(999, 'x', now(), 1, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_call(10, 'x', now(), 3000000000, 'completed')$$);
SELECT regress.error_of($$SELECT billing.record_appointment(NULL, 'x', now())$$);
SELECT regress.error_of($$SELECT billing.record_appointment(10, 'x', NULL)$$);
SELECT regress.error_of($$SELECT billing.record_appointment(10, 'x', now(), 'maybe')$$);
SELECT regress.error_of($$SELECT billing.record_appointment(10, 'x', '-infinity')$$);
SELECT regress.error_of($$SELECT billing.record_appointment(999, 'x', now())$$);
SELECT regress.error_of($$SELECT billing.record_appointment(10, 'x', now(), 'booked', 'no-such-call')$$);
SELECT count(*) AS calls, (SELECT count(*) FROM billing.appointments WHERE company_id = 10) AS appointments
  FROM billing.calls WHERE company_id = 10;

-- Plain INSERTs by an application are equally valid input.
INSERT INTO billing.calls (company_id, external_id, started_at, duration_sec, status)
VALUES (10, 'call-3', '2025-06-04 08:00+02', 60, 'missed');
SELECT count(*) FROM billing.calls WHERE company_id = 10;
