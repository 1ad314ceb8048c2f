-- An ordinary role cannot switch the DDL guard off or bypass it in any way; a role
-- granted EXECUTE on hygiene.allow_ddl can, for one transaction, and it is recorded.
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'table_rewrite,index_not_concurrent,full_scan_constraint,ddl_timeout';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '5s';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

CREATE ROLE ddl_app;
CREATE ROLE ddl_migrator;
CREATE TABLE ddlp (id int, n int);
INSERT INTO ddlp SELECT g, g FROM generate_series(1, 3000) g;
ALTER TABLE ddlp OWNER TO ddl_app;
GRANT CREATE ON SCHEMA public TO ddl_app;

SET ROLE ddl_app;
-- the owner of the table is still guarded
CREATE INDEX ddlp_n ON ddlp (n);
-- every way to switch the guard off is refused
SET pg_hygiene.ddl_guard = off;
SET pg_hygiene.ddl_guard = warn;
BEGIN;
SET LOCAL pg_hygiene.ddl_guard = off;
ROLLBACK;
SET pg_hygiene.ddl_allow = 'all';
SET pg_hygiene.ddl_rules = '';
SET pg_hygiene.ddl_small_table_size = '1TB';
SET pg_hygiene.ddl_lock_timeout = 0;
SET pg_hygiene.ddl_statement_timeout = 0;
SELECT set_config('pg_hygiene.ddl_guard', 'off', false);
ALTER ROLE ddl_app SET pg_hygiene.ddl_guard = off;
ALTER DATABASE :"DBNAME" SET pg_hygiene.ddl_guard = off;
SELECT hygiene.allow_ddl('index_not_concurrent');
SELECT hygiene.allow_ddl('all');
SET session_replication_role = replica;
-- (there is no event trigger to disable: table_rewrite is the library's own hook)
SELECT hygiene.ddl_events_reset();
-- a SECURITY DEFINER function of its own runs with its own rights: still blocked
CREATE FUNCTION ddlp_sneak() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS
  $$ BEGIN PERFORM hygiene.allow_ddl('index_not_concurrent'); END $$;
SELECT ddlp_sneak();
-- nor can a function of its own carry the setting
CREATE FUNCTION ddlp_off() RETURNS void LANGUAGE sql SET pg_hygiene.ddl_guard = off AS 'SELECT';
-- still guarded after all that
SHOW pg_hygiene.ddl_guard;
CREATE INDEX ddlp_n ON ddlp (n);
ALTER TABLE ddlp ALTER COLUMN id TYPE bigint;
-- its own events are visible with statement text
SELECT action, rule, rolname, statement FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;
RESET ROLE;

-- a DBA grants the override to the migration role
GRANT EXECUTE ON FUNCTION hygiene.allow_ddl(text) TO ddl_migrator;
GRANT ddl_app TO ddl_migrator;
SET ROLE ddl_migrator;
BEGIN;
SELECT hygiene.allow_ddl('index_not_concurrent');
CREATE INDEX ddlp_n ON ddlp (n);
COMMIT;
-- only that rule, and only in that transaction
ALTER TABLE ddlp ALTER COLUMN id TYPE bigint;
DROP INDEX ddlp_n;
-- the migrator cannot change the guard's settings either
SET pg_hygiene.ddl_guard = off;
-- the migrator (a member of ddl_app) sees both roles' statements
SELECT action, rule, rolname, statement FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;
RESET ROLE;
-- ddl_app does not see the migrator's statement texts (no pg_read_all_stats)
SET ROLE ddl_app;
SELECT action, rule, rolname, statement FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;
RESET ROLE;
SELECT action, rule, rolname, statement FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP TABLE ddlp;
DROP FUNCTION ddlp_sneak();
REVOKE CREATE ON SCHEMA public FROM ddl_app;
REVOKE EXECUTE ON FUNCTION hygiene.allow_ddl(text) FROM ddl_migrator;
DROP ROLE ddl_migrator;
DROP ROLE ddl_app;
