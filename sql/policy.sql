-- Role and database settings reach open sessions; primary-only and standby-only scopes
-- (docs/limits.md, "Changing policy during an incident").  The standby side and pooled
-- connections are in test/t/210_policy_live.pl.
\set VERBOSITY terse
CREATE ROLE pol_dba LOGIN;
CREATE ROLE pol_app LOGIN;

-- the status view says whether the server is in recovery
SELECT in_recovery FROM hygiene.status;

-- pg_hygiene.on_standby / on_primary: name=value pairs of other pg_hygiene settings
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'max_active_statements=8, pg_hygiene.priority = low';
ALTER ROLE pol_app SET pg_hygiene.on_primary = 'max_active_statements=0';
SELECT s FROM (SELECT unnest(setconfig) AS s FROM pg_db_role_setting
                WHERE setrole = 'pol_app'::regrole) AS x ORDER BY s COLLATE "C";
-- refused with a clear reason
\set VERBOSITY default
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'max_active_statements';
ALTER ROLE pol_app SET pg_hygiene.on_standby = '=8';
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'no_such_knob=1';
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'max_tracked_roles=10';
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'on_primary=max_active_statements=1';
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'max_active_statements=-1';
ALTER ROLE pol_app SET pg_hygiene.on_standby = 'priority=urgent';
-- only from role and database settings: not in a session, not with ALTER SYSTEM
SET pg_hygiene.on_standby = 'max_active_statements=8';
ALTER SYSTEM SET pg_hygiene.on_primary = 'max_active_statements=8';
SET pg_hygiene.on_standby = '';
\set VERBOSITY terse
-- a role allowed to set the scope cannot reach a setting it may not set through it
GRANT SET ON PARAMETER pg_hygiene.on_standby TO pol_dba;
GRANT SET ON PARAMETER pg_hygiene.max_join_rels TO pol_dba;
SET SESSION AUTHORIZATION pol_dba;
\set VERBOSITY default
ALTER ROLE pol_dba SET pg_hygiene.on_standby = 'max_active_statements=8';
ALTER ROLE pol_dba SET pg_hygiene.on_standby = 'max_join_rels=8';
RESET SESSION AUTHORIZATION;
\set VERBOSITY terse
SELECT s FROM (SELECT unnest(setconfig) AS s FROM pg_db_role_setting
                WHERE setrole = 'pol_dba'::regrole) AS x ORDER BY s COLLATE "C";

-- This session's own role settings take effect at its next statement (core applies
-- them only at login).  A session SET is not overridden; RESET goes back to the
-- role value, and a role RESET to the postgresql.conf value.
SELECT current_user AS me \gset
SHOW pg_hygiene.max_join_rels;
ALTER ROLE :"me" SET pg_hygiene.max_join_rels = 7;
SHOW pg_hygiene.max_join_rels;
SELECT source, reset_val FROM pg_settings WHERE name = 'pg_hygiene.max_join_rels';
SET pg_hygiene.max_join_rels = 9;
ALTER ROLE :"me" SET pg_hygiene.max_join_rels = 6;
SHOW pg_hygiene.max_join_rels;
RESET pg_hygiene.max_join_rels;
SHOW pg_hygiene.max_join_rels;
ALTER ROLE :"me" RESET pg_hygiene.max_join_rels;
SELECT setting, source, reset_val FROM pg_settings WHERE name = 'pg_hygiene.max_join_rels';
-- ALTER DATABASE, and a rolled-back change
ALTER DATABASE :"DBNAME" SET pg_hygiene.max_plan_cost = 1e6;
SHOW pg_hygiene.max_plan_cost;
BEGIN;
ALTER DATABASE :"DBNAME" SET pg_hygiene.max_plan_cost = 5;
SHOW pg_hygiene.max_plan_cost;
ROLLBACK;
SHOW pg_hygiene.max_plan_cost;
ALTER DATABASE :"DBNAME" RESET pg_hygiene.max_plan_cost;
SHOW pg_hygiene.max_plan_cost;
-- a stored value that is not valid (here written behind ALTER ROLE's back) is not
-- applied: a WARNING, the session keeps its value, the statement runs
ALTER ROLE :"me" SET pg_hygiene.max_join_rels = 7;
SHOW pg_hygiene.max_join_rels;
SET allow_system_table_mods = on;
UPDATE pg_db_role_setting SET setconfig = array['pg_hygiene.max_join_rels=many']
 WHERE setdatabase = 0 AND setrole = :'me'::regrole;
RESET allow_system_table_mods;
ALTER ROLE :"me" SET pg_hygiene.max_plan_cost = 1e7;
SELECT current_setting('pg_hygiene.max_join_rels') AS join_rels,
       current_setting('pg_hygiene.max_plan_cost') AS plan_cost;
ALTER ROLE :"me" RESET ALL;
SHOW pg_hygiene.max_join_rels;
-- other settings are left to core: not applied before the next login
ALTER ROLE :"me" SET work_mem = '7MB';
SHOW work_mem;
ALTER ROLE :"me" RESET work_mem;

DROP ROLE pol_app;
REVOKE SET ON PARAMETER pg_hygiene.on_standby FROM pol_dba;
REVOKE SET ON PARAMETER pg_hygiene.max_join_rels FROM pol_dba;
DROP ROLE pol_dba;
