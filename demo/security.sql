-- The company scope: a viewer role of company 1 sees company 1 only, and every read is audited.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
DROP ROLE IF EXISTS praxis_weber;
RESET client_min_messages;
CREATE ROLE praxis_weber LOGIN IN ROLE billing_viewer;
SELECT billing.grant_company_access('praxis_weber', 1);

\echo
\echo '== As the viewer role praxis_weber (company 1): its own card, then company 2'
\c - praxis_weber
SELECT billing.usage_current() ->> 'total_cost' AS own_total_cost, billing.current_company() AS company;
SELECT count(*) AS calls_it_can_see, count(DISTINCT company_id) AS companies FROM billing.calls;
\set ON_ERROR_STOP off
SELECT billing.usage_current(2);
\set ON_ERROR_STOP on
\c - postgres

\echo
\echo '== The audit log (written by the audit writer from shared memory)'
SELECT billing.audit_flush_wait('15 seconds') AS flushed;
SELECT session_user_name, company_id, function_name, sum(reads) AS reads
  FROM billing.audit_log GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
