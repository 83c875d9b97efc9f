-- Company-local days on every change of a UTC offset in the time zone database from 2000 to
-- 2099, against a reference computed with AT TIME ZONE on the instants themselves: the days
-- whose midnight repeats (America/Havana, Atlantic/Azores: 01:00 back to 00:00), whose clock
-- goes back across midnight (America/St_Johns until 2011: 00:01 back to 23:01), whose midnight
-- never happens (Asia/Dhaka 2009, America/Nuuk), and the day that was skipped (Pacific/Apia,
-- 30 December 2011). Counts depend on the installed tzdata, so only mismatches are printed.
SET client_min_messages = warning;

-- The zones a company may have.
CREATE TEMP TABLE company_zones AS
    SELECT name AS zone FROM pg_timezone_names WHERE name NOT LIKE 'posix/%' AND billing.is_valid_timezone(name);

-- 1. Every offset change: the offset each Sunday noon UTC, then each change found to the second.
CREATE TEMP TABLE zone_changes AS
WITH zones AS (
    SELECT name FROM pg_timezone_names WHERE name NOT LIKE 'posix/%' AND name NOT LIKE 'Etc/%'
), samples AS (
    SELECT z.name, t, (t AT TIME ZONE z.name) - (t AT TIME ZONE 'UTC') AS off
      FROM zones z, generate_series(timestamptz '1999-12-26 12:00+00', '2100-01-10 12:00+00', interval '7 days') AS t
), steps AS (
    SELECT name, t, off, lag(off) OVER (PARTITION BY name ORDER BY t) AS before FROM samples
)
SELECT name, t - interval '7 days' AS low, t AS high, before AS off_before, off AS off_after
  FROM steps WHERE off <> before;

CREATE FUNCTION pg_temp.change_instant(zone text, low timestamptz, high timestamptz) RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    start_offset interval := (low AT TIME ZONE zone) - (low AT TIME ZONE 'UTC');
    middle timestamptz;
BEGIN
    WHILE high - low > interval '1 second' LOOP
        middle := to_timestamp(floor((extract(epoch FROM low) + extract(epoch FROM high)) / 2));
        IF (middle AT TIME ZONE zone) - (middle AT TIME ZONE 'UTC') = start_offset THEN low := middle; ELSE high := middle; END IF;
    END LOOP;
    RETURN high;
END
$$;
CREATE TEMP TABLE changes AS
    SELECT name AS zone, pg_temp.change_instant(name, low, high) AS at, off_before, off_after FROM zone_changes;
SELECT count(*) > 30000 AS many_changes, count(DISTINCT zone) > 250 AS many_zones,
       count(*) FILTER (WHERE off_after < off_before) > 10000 AS clocks_go_back,
       count(*) FILTER (WHERE off_after > off_before) > 10000 AS clocks_go_forward
  FROM changes;

-- 2. The days around each change: both local dates of the change and the days before and after.
CREATE TEMP TABLE change_days AS
SELECT DISTINCT c.zone, d.day::date AS day
  FROM changes c,
       generate_series(((c.at AT TIME ZONE 'UTC') + LEAST(c.off_before, c.off_after))::date - 1,
                       ((c.at AT TIME ZONE 'UTC') + GREATEST(c.off_before, c.off_after))::date + 1, interval '1 day') AS d(day);

-- The reference. The earliest instant whose local date is the day or later is either a change
-- (the clock jumps onto the day) or the day's midnight under an offset in force nearby; among
-- those candidates it is the earliest that AT TIME ZONE reads as the day or later. Likewise the
-- end is the latest candidate just before which AT TIME ZONE still reads the day or earlier.
CREATE TEMP TABLE reference_days AS
WITH candidates AS (
    SELECT d.zone, d.day, k.t
      FROM change_days d
      JOIN changes c ON c.zone = d.zone
       AND c.at BETWEEN (d.day::timestamp AT TIME ZONE 'UTC') - interval '3 days'
                    AND (d.day::timestamp AT TIME ZONE 'UTC') + interval '4 days',
           LATERAL (VALUES (c.at), ((d.day::timestamp - c.off_before) AT TIME ZONE 'UTC'),
                           ((d.day::timestamp - c.off_after) AT TIME ZONE 'UTC'),
                           (((d.day + 1)::timestamp - c.off_before) AT TIME ZONE 'UTC'),
                           (((d.day + 1)::timestamp - c.off_after) AT TIME ZONE 'UTC')) AS k(t)
)
SELECT zone, day,
       min(t) FILTER (WHERE (t AT TIME ZONE zone)::date >= day) AS first_instant,
       max(t) FILTER (WHERE ((t - interval '1 microsecond') AT TIME ZONE zone)::date <= day) AS after_last_instant
  FROM candidates GROUP BY zone, day;
SELECT count(*) > 90000 AS many_days,
       count(*) FILTER (WHERE r.after_last_instant > n.first_instant) > 0 AS days_that_overlap_the_next,
       count(*) FILTER (WHERE r.first_instant = r.after_last_instant) > 0 AS days_without_an_instant
  FROM reference_days r LEFT JOIN reference_days n ON n.zone = r.zone AND n.day = r.day + 1;

-- 3. The day's instants as the extension computes them: no day differs.
SELECT zone, day, first_instant, billing.local_day_start(day, zone) AS local_day_start,
       after_last_instant, billing.local_day_end(day, zone) AS local_day_end
  FROM reference_days
 WHERE billing.local_day_start(day, zone) IS DISTINCT FROM first_instant
    OR billing.local_day_end(day, zone) IS DISTINCT FROM after_last_instant
 ORDER BY zone, day LIMIT 20;

-- 4. Every read that turns a local date into instants, on one company for each kind of change
-- (zone, offsets, local time of the change), its period boundary on the day of the change
-- where the anchor day allows. Calls at the instants where a day can begin or end, and an
-- afternoon call after as_of (so that today's figures come from the raw rows).
CREATE TEMP TABLE kinds AS
SELECT DISTINCT ON (zone, off_before, off_after, ((at AT TIME ZONE 'UTC') + off_before)::time)
       zone, at, off_before, off_after, ((at AT TIME ZONE 'UTC') + off_after)::date AS day
  FROM changes
 WHERE zone IN (SELECT zone FROM company_zones)
 ORDER BY zone, off_before, off_after, ((at AT TIME ZONE 'UTC') + off_before)::time, at;
CREATE TEMP TABLE day_companies AS
SELECT 700000 + row_number() OVER (ORDER BY k.zone, k.at) AS company, k.*,
       r.first_instant, r.after_last_instant, r_next.after_last_instant AS next_after_last,
       CASE WHEN extract(day FROM k.day) <= 28 THEN extract(day FROM k.day)::int ELSE 1 END AS anchor
  FROM kinds k JOIN reference_days r ON r.zone = k.zone AND r.day = k.day
  JOIN reference_days r_next ON r_next.zone = k.zone AND r_next.day = k.day + 1;
INSERT INTO billing.companies (id, name, timezone, billing_anchor_day)
    SELECT company, 'Day ' || zone, zone, anchor FROM day_companies;
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
    SELECT company, 'combined', 1.00, 1.00, '1999-01-01' FROM day_companies;
CREATE TEMP TABLE day_calls AS
SELECT company, zone, row_number() OVER (PARTITION BY company ORDER BY t) AS n, t
  FROM (SELECT DISTINCT d.company, d.zone, x.t
          FROM day_companies d,
               LATERAL (VALUES (d.at - interval '1 second'), (d.at), (d.at + interval '1 second'),
                               (d.at - interval '30 minutes'), (d.at + interval '30 minutes'),
                               (d.at - interval '61 minutes'), (d.at + interval '61 minutes'),
                               (d.first_instant - interval '1 second'), (d.first_instant),
                               (d.first_instant + interval '1 second'),
                               ((d.day::timestamp - d.off_before) AT TIME ZONE 'UTC'),
                               ((d.day::timestamp - d.off_after) AT TIME ZONE 'UTC'),
                               (d.after_last_instant - interval '1 second'), (d.after_last_instant),
                               (d.next_after_last - interval '1 hour')) AS x(t)) AS s;
CREATE INDEX ON day_calls (company);
ANALYZE day_calls;
SELECT count(*) FILTER (WHERE billing.record_call(company, 'c' || n, t, 60 + n::int, 'completed')) > 10000 AS calls_recorded,
       count(*) FILTER (WHERE billing.record_appointment(company, 'a' || n, t, 'booked')) > 10000 AS appointments_recorded
  FROM day_calls;

-- as_of: 90 minutes after the change, or at the day's first instant (so that both sides of the
-- change are someone's today), always before the day's last call.
CREATE TEMP TABLE day_reads AS
SELECT d.company, d.zone, a.as_of, (a.as_of AT TIME ZONE d.zone)::date AS today
  FROM day_companies d,
       LATERAL (VALUES (d.at + interval '90 minutes'), (d.first_instant), (d.at - interval '1 second')) AS a(as_of);
-- The reference period (anchor-day periods: no period is stored) and its figures: the calls
-- of its local dates that started by as_of.
CREATE TEMP TABLE day_expected AS
SELECT r.*, p.start_date, p.end_date,
       (SELECT count(*) FROM day_calls k WHERE k.company = r.company AND k.t <= r.as_of
           AND (k.t AT TIME ZONE r.zone)::date BETWEEN p.start_date AND p.end_date) AS calls,
       (SELECT coalesce(sum(60 + k.n), 0) FROM day_calls k WHERE k.company = r.company AND k.t <= r.as_of
           AND (k.t AT TIME ZONE r.zone)::date BETWEEN p.start_date AND p.end_date) AS seconds
  FROM day_reads r JOIN day_companies d USING (company),
       LATERAL (SELECT s AS start_date, (s + interval '1 month')::date - 1 AS end_date
                  FROM (SELECT CASE WHEN extract(day FROM r.today) >= d.anchor
                                    THEN make_date(extract(year FROM r.today)::int, extract(month FROM r.today)::int, d.anchor)
                                    ELSE (make_date(extract(year FROM r.today)::int, extract(month FROM r.today)::int, d.anchor)
                                          - interval '1 month')::date END AS s) AS x) AS p;
SELECT count(*) > 2000 AS reads FROM day_expected;

-- usage_current, usage_projection and period_totals: calls, minutes, appointments.
SELECT e.company, e.zone, e.as_of, e.calls, e.seconds, u -> 'calls' AS usage_calls, t
  FROM day_expected e,
       LATERAL billing.usage_current(e.company, e.as_of) AS u,
       LATERAL billing.usage_projection(e.company, e.as_of) AS p,
       LATERAL billing.period_totals(e.company, e.start_date, e.end_date, e.as_of) AS t
 WHERE (u -> 'calls' ->> 'total')::bigint <> e.calls OR (u -> 'appointments' ->> 'total')::bigint <> e.calls
    OR (u -> 'calls' ->> 'cost')::numeric <> round(e.seconds / 60.0, 2)
    OR (p -> 'calls' ->> 'total')::bigint <> e.calls
    OR u -> 'period' ->> 'start' <> e.start_date::text OR u -> 'period' ->> 'end' <> e.end_date::text
    OR t.calls <> e.calls OR t.seconds <> e.seconds OR t.appointments <> e.calls
 ORDER BY 1, 3 LIMIT 10;

-- usage_trends: its last point is the current period.
SELECT e.company, e.zone, e.as_of, e.calls, tr.calls AS trend_calls
  FROM day_expected e,
       LATERAL (SELECT * FROM billing.usage_trends(e.company, 2, e.as_of) ORDER BY period_start DESC LIMIT 1) AS tr
 WHERE tr.calls <> e.calls OR tr.minutes <> round(e.seconds / 60.0, 2) OR tr.period_start <> e.start_date
 ORDER BY 1, 3 LIMIT 10;

-- The period page and the CSV of stored periods: every local day's calls, and each call once.
INSERT INTO billing.billing_periods (company_id, start_date, end_date)
    SELECT DISTINCT company, start_date, end_date FROM day_expected WHERE as_of = (SELECT max(as_of) FROM day_expected x WHERE x.company = day_expected.company);
WITH stored AS (
    SELECT bp.id, bp.company_id AS company, bp.start_date, bp.end_date, c.timezone AS zone
      FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
     WHERE bp.company_id > 700000
), expected_days AS (
    SELECT s.id, (k.t AT TIME ZONE s.zone)::date AS day, count(*) AS calls
      FROM stored s JOIN day_calls k ON k.company = s.company
     WHERE (k.t AT TIME ZONE s.zone)::date BETWEEN s.start_date AND s.end_date
     GROUP BY 1, 2
), detail_days AS (
    SELECT s.id, (d ->> 'date')::date AS day, (d ->> 'calls')::bigint AS calls, (d ->> 'appointments')::bigint AS appointments
      FROM stored s, jsonb_array_elements(billing.period_detail(s.id) -> 'daily') AS d
)
SELECT coalesce(e.id, d.id) AS period, coalesce(e.day, d.day) AS day, e.calls AS expected, d.calls, d.appointments
  FROM expected_days e FULL JOIN detail_days d ON d.id = e.id AND d.day = e.day
 WHERE coalesce(e.calls, 0) <> coalesce(d.calls, 0) OR coalesce(e.calls, 0) <> coalesce(d.appointments, 0)
 ORDER BY 1, 2 LIMIT 10;
WITH stored AS (
    SELECT bp.id, bp.company_id AS company, bp.start_date, bp.end_date, c.timezone AS zone
      FROM billing.billing_periods bp JOIN billing.companies c ON c.id = bp.company_id
     WHERE bp.company_id > 700000
), counted AS (
    SELECT s.id, s.zone,
           (SELECT count(*) FROM day_calls k WHERE k.company = s.company
               AND (k.t AT TIME ZONE s.zone)::date BETWEEN s.start_date AND s.end_date) AS expected,
           (SELECT count(*) - 1 FROM billing.period_csv_lines(s.id)) AS csv_calls,
           (SELECT sum(split_part(o.line, ',', 2)::bigint)
              FROM billing.period_csv_lines(s.id, 'day') WITH ORDINALITY AS o(line, i) WHERE o.i > 1) AS csv_day_calls
      FROM stored s
)
SELECT * FROM counted WHERE csv_calls <> expected OR csv_day_calls <> expected ORDER BY 1 LIMIT 10;

-- The rollup agrees with the raw rows on every such day.
SELECT count(*) AS rollup_mismatches FROM billing.verify_usage_daily() WHERE company_id > 700000;
-- And so does the call profile (local hours by AT TIME ZONE on the instants).
SELECT count(*) AS profile_mismatches FROM billing.verify_usage_profile() WHERE company_id > 700000;
RESET client_min_messages;

-- The case as a customer sees it: in Havana on 3 November 2024 the clock goes back from 01:00
-- to 00:00; a call at 00:30 (the first time) belongs to that day.
INSERT INTO billing.companies (id, name, timezone) VALUES (799001, 'Havana', 'America/Havana');
INSERT INTO billing.pricing_plans (company_id, pricing_model, per_minute_rate, per_appointment_rate, valid_from)
VALUES (799001, 'combined', 1.00, 1.00, '2024-01-01');
SELECT billing.record_call(799001, 'first-hour', '2024-11-03 04:30+00', 60, 'completed'),
       billing.record_call(799001, 'afternoon', '2024-11-03 20:00+00', 60, 'completed');
SELECT billing.usage_current(799001, '2024-11-03 17:00+00') -> 'calls' AS calls_at_noon;
SELECT billing.local_day_start('2024-11-03', 'America/Havana') AS first_midnight,
       '2024-11-03'::timestamp AT TIME ZONE 'America/Havana' AS second_midnight;

-- The companies of this test leave (the month-end tests close every company's periods).
DELETE FROM billing.calls WHERE company_id > 700000;
DELETE FROM billing.appointments WHERE company_id > 700000;
DELETE FROM billing.billing_periods WHERE company_id > 700000;
DELETE FROM billing.pricing_plans WHERE company_id > 700000;
DELETE FROM billing.usage_daily WHERE company_id > 700000;
DELETE FROM billing.companies WHERE id > 700000;
