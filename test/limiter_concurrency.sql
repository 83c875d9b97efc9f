-- pgbench script: every client asks for the same key at the same instant (as_of fixed, so no
-- refill); exactly per_minute of all attempts may be admitted, whichever backend makes them.
INSERT INTO regress_admitted SELECT 1 WHERE billing.throttle('pgbench-burst', 100, '2031-01-01 00:00:00+00');
