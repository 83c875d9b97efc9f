-- Upgrade test data beyond the demo: a late call into a closed period, a viewer mapping (also
-- one of a role that no longer exists, as 1.3 and earlier kept it), an audit row. Written
-- through the API of every released version.
\set ON_ERROR_STOP on
-- The demo's live call starts relative to now(): a second load would differ.
DELETE FROM billing.calls WHERE external_id = 'live-demo-call';
SELECT billing.record_call(1, 'late-call', (SELECT (bp.start_date + 2)::timestamp AT TIME ZONE 'Europe/Berlin'
                                              FROM billing.billing_periods bp
                                             WHERE bp.company_id = 1 AND bp.status = 'closed'
                                             ORDER BY bp.start_date LIMIT 1), 600, 'completed');
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'upgrade_viewer') THEN
        CREATE ROLE upgrade_viewer LOGIN IN ROLE billing_viewer;
    END IF;
END
$$;
SELECT billing.grant_company_access('upgrade_viewer', 2);
INSERT INTO billing.audit_log (read_at, company_id, session_user_name, current_user_name, function_name)
VALUES ('2025-01-01 00:00+00', 1, 'someone', 'someone', 'usage_current');
