-- Per-role limits: GUC validation and who may change the limits.
-- Every setting this file is about, explicitly (defaults: no limit).
SET pg_hygiene.priority = normal;
SET pg_hygiene.max_active_statements = 0;
SET pg_hygiene.max_active_total = 0;
SET pg_hygiene.max_statements_per_second = 0;
SET pg_hygiene.max_wal_bytes_per_second = 0;
SET pg_hygiene.statement_timeout_max = 0;
SET pg_hygiene.idle_in_transaction_timeout_max = 0;
SET pg_hygiene.max_join_rels = 0;
SET pg_hygiene.max_plan_cost = 0;
SET pg_hygiene.queue_timeout = '5s';
SET pg_hygiene.exempt_superusers = on;

-- Bad values are refused with a clear reason and change nothing.
SET pg_hygiene.priority = urgent;
SET pg_hygiene.max_active_statements = -1;
SET pg_hygiene.max_wal_bytes_per_second = '4kB';
SET pg_hygiene.max_wal_bytes_per_second = '1 parsec';
SET pg_hygiene.statement_timeout_max = '50ms';
SET pg_hygiene.idle_in_transaction_timeout_max = '10ms';
SET pg_hygiene.max_plan_cost = -5;
-- (the text of a range error differs between versions: 16 added units; show the code
-- and the range from pg_settings)
\set VERBOSITY sqlstate
SET pg_hygiene.queue_timeout = '-1s';
\set VERBOSITY default
SELECT min_val, max_val, unit FROM pg_settings WHERE name = 'pg_hygiene.queue_timeout';
SELECT current_setting('pg_hygiene.priority') AS priority,
       current_setting('pg_hygiene.max_wal_bytes_per_second') AS wal_budget,
       current_setting('pg_hygiene.statement_timeout_max') AS stmt_ceiling;

-- Units work as documented.
SET pg_hygiene.max_wal_bytes_per_second = '2MB';
SET pg_hygiene.statement_timeout_max = '30s';
SET pg_hygiene.idle_in_transaction_timeout_max = '1min';
SET pg_hygiene.queue_timeout = 250;
SELECT name, setting, unit, context FROM pg_settings
WHERE name IN ('pg_hygiene.max_wal_bytes_per_second', 'pg_hygiene.statement_timeout_max',
               'pg_hygiene.idle_in_transaction_timeout_max', 'pg_hygiene.queue_timeout',
               'pg_hygiene.priority', 'pg_hygiene.max_active_statements',
               'pg_hygiene.max_active_total', 'pg_hygiene.max_statements_per_second',
               'pg_hygiene.max_join_rels', 'pg_hygiene.max_plan_cost',
               'pg_hygiene.exempt_superusers', 'pg_hygiene.exempt_background',
               'pg_hygiene.max_tracked_roles')
ORDER BY name COLLATE "C";
RESET pg_hygiene.max_wal_bytes_per_second;
RESET pg_hygiene.statement_timeout_max;
RESET pg_hygiene.idle_in_transaction_timeout_max;
RESET pg_hygiene.queue_timeout;

-- A role cannot lift, lower-then-reset or otherwise change its own limits.
CREATE ROLE lim_guc_user;
ALTER ROLE lim_guc_user SET pg_hygiene.max_active_statements = 2;
SET ROLE lim_guc_user;
SET pg_hygiene.max_active_statements = 0;
RESET pg_hygiene.max_active_statements;
SET pg_hygiene.statement_timeout_max = 0;
SET pg_hygiene.priority = critical;
SET pg_hygiene.exempt_superusers = off;
SELECT set_config('pg_hygiene.max_plan_cost', '0', false);
ALTER ROLE lim_guc_user SET pg_hygiene.max_active_statements = 0;
ALTER ROLE lim_guc_user RESET pg_hygiene.max_active_statements;
RESET ROLE;
SELECT setconfig FROM pg_db_role_setting
WHERE setrole = 'lim_guc_user'::regrole;

-- GRANT SET ON PARAMETER lets a DBA role manage a limit without superuser.
CREATE ROLE lim_guc_dba;
GRANT SET ON PARAMETER pg_hygiene.max_active_statements TO lim_guc_dba;
SET ROLE lim_guc_dba;
SET pg_hygiene.max_active_statements = 3;
SHOW pg_hygiene.max_active_statements;
SET pg_hygiene.max_active_total = 3;
RESET ROLE;
RESET pg_hygiene.max_active_statements;

-- The statistics show other roles' activity: not for PUBLIC.
SET ROLE lim_guc_user;
SELECT count(*) FROM hygiene.role_stats;
SELECT count(*) FROM hygiene.limits_summary;
SELECT hygiene.reset_role_stats(NULL);
RESET ROLE;
SELECT count(*) >= 0 AS superuser_reads FROM hygiene.role_stats;
SELECT hygiene.reset_role_stats('lim_guc_user') >= 0 AS reset_ok;

REVOKE SET ON PARAMETER pg_hygiene.max_active_statements FROM lim_guc_dba;
DROP ROLE lim_guc_dba;
DROP ROLE lim_guc_user;
