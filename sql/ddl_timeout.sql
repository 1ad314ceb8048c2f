-- Rule ddl_timeout: DDL on an existing table is canceled after
-- pg_hygiene.ddl_statement_timeout whatever statement_timeout says; allowed
-- and warn-mode runs complete (warn reports the overrun).
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'table_rewrite,index_not_concurrent,full_scan_constraint,ddl_timeout';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '1MB';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '200ms';
SET statement_timeout = 0;
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

CREATE TABLE ddlto (id int);
INSERT INTO ddlto SELECT g FROM generate_series(1, 40) g;
-- a check that takes 10 ms per row: 400 ms for the table
CREATE FUNCTION ddlto_slow(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS
  $$ SELECT pg_sleep(0.01) IS NOT NULL AND $1 > 0 $$;

BEGIN;
SELECT hygiene.allow_ddl('full_scan_constraint');
ALTER TABLE ddlto ADD CONSTRAINT ddlto_ck CHECK (ddlto_slow(id));
ROLLBACK;
-- the same with ddl_timeout allowed completes
BEGIN;
SELECT hygiene.allow_ddl('full_scan_constraint');
SELECT hygiene.allow_ddl('ddl_timeout');
ALTER TABLE ddlto ADD CONSTRAINT ddlto_ck CHECK (ddlto_slow(id));
ROLLBACK;
-- a statement_timeout shorter than the guard's still applies
BEGIN;
SELECT hygiene.allow_ddl('full_scan_constraint');
SET LOCAL statement_timeout = '100ms';
\set VERBOSITY terse
ALTER TABLE ddlto ADD CONSTRAINT ddlto_ck CHECK (ddlto_slow(id));
\set VERBOSITY default
ROLLBACK;
-- the session's lock_timeout is restored after guarded DDL, whether it succeeds,
-- fails or is blocked by a rule
SHOW lock_timeout;
ALTER TABLE ddlto ADD COLUMN b int;
SHOW lock_timeout;
ALTER TABLE ddlto ADD COLUMN b int;
SHOW lock_timeout;
ALTER TABLE ddlto ADD CONSTRAINT ddlto_pos CHECK (id > 0);
SHOW lock_timeout;
SET lock_timeout = '1min';
ALTER TABLE ddlto ADD COLUMN b int;
SHOW lock_timeout;
RESET lock_timeout;
-- the limit does not leak: ordinary statements after it run as long as they need
SELECT pg_sleep(0.3);
-- inside a PL/pgSQL exception block the cancel is caught like any other
DO $$
BEGIN
  PERFORM hygiene.allow_ddl('full_scan_constraint');
  ALTER TABLE ddlto ADD CONSTRAINT ddlto_ck CHECK (ddlto_slow(id));
EXCEPTION WHEN query_canceled THEN
  RAISE NOTICE 'caught: %', SQLERRM;
END $$;
SELECT pg_sleep(0.3);
-- temporary tables are not subject to the limit
CREATE TEMP TABLE ddlto_tmp AS SELECT * FROM ddlto;
ALTER TABLE ddlto_tmp ADD CONSTRAINT ddlto_tmp_ck CHECK (ddlto_slow(id));
-- warn mode: the statement completes and the overrun is reported
SET pg_hygiene.ddl_guard = warn;
ALTER TABLE ddlto ADD CONSTRAINT ddlto_ck CHECK (ddlto_slow(id));
SET pg_hygiene.ddl_guard = enforce;

SELECT action, rule, message, statement FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP TABLE ddlto, ddlto_tmp;
DROP FUNCTION ddlto_slow(int);
