-- company_billing 1.2 -> 1.3: billing.current_company() in C.
--
-- Every row level security policy of the billing tables calls current_company() once per
-- statement (as a scalar subquery). In PL/pgSQL, with its SET search_path, that call cost more
-- than the C read of a usage document for an application role. The C version
-- (src/pg/company_scope.cpp) shares the company scope of _is_viewer() and _setting_company();
-- its one query names its table and operator with their schemas, so it needs no SET search_path.

\echo Use "ALTER EXTENSION company_billing UPDATE TO '1.3'" to load this file. \quit

CREATE OR REPLACE FUNCTION billing.current_company() RETURNS bigint
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'billing_current_company';
