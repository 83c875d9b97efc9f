-- The C++/PostgreSQL exception boundary, both directions (src/pg/guard.h).

-- C++ -> PostgreSQL: exceptions become ordinary SQL errors with a SQLSTATE.
SELECT regress.error_of($$SELECT billing._boundary_selftest('cpp_exception')$$);
SELECT regress.error_of($$SELECT billing._boundary_selftest('billing_error')$$);
SELECT regress.error_of($$SELECT billing._boundary_selftest('bad_alloc')$$);
SELECT regress.error_of($$SELECT billing._boundary_selftest('no such mode')$$);

-- PostgreSQL -> C++: an error raised beneath C++ frames surfaces with its own SQLSTATE ...
SELECT regress.error_of($$SELECT billing._boundary_selftest('postgres_error')$$);
-- ... after every C++ destructor ran: no object of the unwound frames is still alive.
SELECT billing._boundary_selftest('live_objects') AS live_objects;

-- The session stays usable: in a transaction, after a savepoint, and outside.
BEGIN;
SAVEPOINT before_error;
SELECT billing._boundary_selftest('postgres_error');
ROLLBACK TO SAVEPOINT before_error;
SELECT (billing.price('{"pricing_model":"combined","per_minute_rate":0.10,"per_appointment_rate":2.00}', 687.5, 87)).total_cost;
SAVEPOINT again;
SELECT billing._boundary_selftest('cpp_exception');
ROLLBACK TO SAVEPOINT again;
SELECT billing._boundary_selftest('live_objects') AS live_objects;
COMMIT;

-- Many errors in a row neither leak objects nor break the backend.
SELECT count(*) FILTER (WHERE regress.error_of(format('SELECT billing._boundary_selftest(%L)',
                                  (ARRAY['cpp_exception', 'postgres_error', 'billing_error', 'bad_alloc'])[1 + i % 4]))
                        LIKE '_____: %') AS errors_raised
  FROM generate_series(1, 2000) AS i;
SELECT billing._boundary_selftest('live_objects') AS live_objects;

-- Not for ordinary users.
SELECT has_function_privilege('public', 'billing._boundary_selftest(text)', 'EXECUTE') AS public_may_execute;
