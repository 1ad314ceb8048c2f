-- DDL guard trust contract: options are read as PostgreSQL reads them (G1), system
-- columns are left to ALTER TABLE (M3), and a role that may not run a command gets
-- stock's permission error, with nothing locked or recorded by the guard (S4).
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'all';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_new_table_schemas = '';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '5s';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE TABLE dtr_big (id int, n int);
CREATE TABLE dtr_empty (id int);
INSERT INTO dtr_big SELECT g, g FROM generate_series(1, 3000) g;
CREATE INDEX dtr_big_n ON dtr_big (n);
COMMIT;
SELECT pg_relation_filenode('dtr_big') AS big_node,
       pg_relation_filenode('dtr_big_n') AS idx_node \gset

-- ==== G1: the last occurrence of an option wins, as in VACUUM and REINDEX ====
-- blocked: the last occurrence says FULL / not CONCURRENTLY
VACUUM (FULL false, FULL true) dtr_big;
VACUUM (FULL 0, FULL) dtr_big;
VACUUM (FULL off, VERBOSE false, FULL on) dtr_big;
REINDEX (CONCURRENTLY true, CONCURRENTLY false) TABLE dtr_big;
REINDEX (CONCURRENTLY, CONCURRENTLY 0) INDEX dtr_big_n;
BEGIN;
REINDEX (CONCURRENTLY true, CONCURRENTLY false) TABLE dtr_big;
ROLLBACK;
-- nothing was rewritten
SELECT pg_relation_filenode('dtr_big') = :big_node AS table_kept,
       pg_relation_filenode('dtr_big_n') = :idx_node AS index_kept;
-- pass: the last occurrence says not FULL / CONCURRENTLY
VACUUM (FULL true, FULL false) dtr_big;
REINDEX (CONCURRENTLY false, CONCURRENTLY true) TABLE dtr_big;
-- a value the command rejects: the command's own error, not the guard's
VACUUM (FULL 'maybe') dtr_big;
VACUUM (FULL false, FULL 2) dtr_big;
REINDEX (CONCURRENTLY 'sometimes') TABLE dtr_big;
-- the lock and statement limits are armed for the duplicated forms too
BEGIN;
SELECT hygiene.allow_ddl('index_not_concurrent');
SET LOCAL pg_hygiene.debug = on;
REINDEX (CONCURRENTLY true, CONCURRENTLY false) INDEX dtr_big_n;
ROLLBACK;
SET pg_hygiene.debug = on;
VACUUM (FULL false, FULL true) dtr_empty;
VACUUM (FULL true, FULL false) dtr_empty;
RESET pg_hygiene.debug;

-- ==== M3: SET NOT NULL on a system column: ALTER TABLE's own error ====
ALTER TABLE dtr_big ALTER COLUMN ctid SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN xmin SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN cmax SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN tableoid SET NOT NULL;
ALTER TABLE dtr_big ADD CONSTRAINT dtr_big_n_check CHECK (n > 0) NOT VALID;
ALTER TABLE dtr_big VALIDATE CONSTRAINT dtr_big_n_check;
ALTER TABLE dtr_big ALTER COLUMN xmax SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN ctid SET NOT NULL;
-- an ordinary column is still checked
ALTER TABLE dtr_big ALTER COLUMN id SET NOT NULL;
SET pg_hygiene.ddl_guard = warn;
ALTER TABLE dtr_big ALTER COLUMN ctid SET NOT NULL;
SET pg_hygiene.ddl_guard = enforce;

-- ==== S4: permissions before anything else ====
CREATE ROLE dtr_nobody;
-- another session holds the table and index exclusively: any lock the guard
-- took for dtr_nobody would wait and run into lock_timeout
BEGIN;
LOCK TABLE dtr_big IN ACCESS EXCLUSIVE MODE;
PREPARE TRANSACTION 'dtr_lock';
SET lock_timeout = '300ms';
SET ROLE dtr_nobody;
ALTER TABLE dtr_big ADD CHECK (n > 0);
ALTER TABLE dtr_big ADD PRIMARY KEY (id);
ALTER TABLE dtr_big ALTER COLUMN n SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN ctid SET NOT NULL;
ALTER TABLE dtr_big ALTER COLUMN id TYPE bigint;
ALTER TABLE dtr_big SET (fillfactor = 90);
CREATE INDEX ON dtr_big (n);
CREATE INDEX ON ONLY dtr_big (n);
DROP INDEX dtr_big_n;
-- (17 checks the MAINTAIN privilege here, with other messages: show the SQLSTATE)
\set VERBOSITY sqlstate
REINDEX TABLE dtr_big;
REINDEX INDEX dtr_big_n;
CLUSTER dtr_big USING dtr_big_n;
\set VERBOSITY default
REINDEX SCHEMA public;
REINDEX DATABASE :"DBNAME";
CREATE TABLE public.dtr_new (id int);
RESET ROLE;
-- VACUUM waits for the table's lock before its own permission check, as on stock;
-- the guard's shorter lock limit is not applied to a table the role may not vacuum
SET pg_hygiene.ddl_lock_timeout = '100ms';
SET lock_timeout = '1s';
SET ROLE dtr_nobody;
VACUUM FULL dtr_big;
RESET ROLE;
SET pg_hygiene.ddl_lock_timeout = '5s';
SET lock_timeout = '300ms';
-- nothing recorded for dtr_nobody
SELECT count(*) AS nobody_events FROM hygiene.ddl_events
WHERE event_id > :ev0 AND rolname = 'dtr_nobody';
COMMIT PREPARED 'dtr_lock';
-- VACUUM FULL skips a table the role may not vacuum, with stock's warning
SET ROLE dtr_nobody;
\set VERBOSITY sqlstate
VACUUM FULL dtr_big;
VACUUM (FULL false, FULL true) dtr_big;
\set VERBOSITY default
RESET ROLE;
RESET lock_timeout;
SELECT count(*) AS nobody_events FROM hygiene.ddl_events
WHERE event_id > :ev0 AND rolname = 'dtr_nobody';
-- a matview of another role: REFRESH is refused by its own check
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE MATERIALIZED VIEW dtr_mv AS SELECT * FROM dtr_big;
COMMIT;
SET ROLE dtr_nobody;
\set VERBOSITY sqlstate
REFRESH MATERIALIZED VIEW dtr_mv;
\set VERBOSITY default
RESET ROLE;
-- once it owns the table, the same role is guarded as any owner
ALTER TABLE dtr_big OWNER TO dtr_nobody;
SET ROLE dtr_nobody;
VACUUM FULL dtr_big;
ALTER TABLE dtr_big ADD CHECK (n > 0);
RESET ROLE;

-- the guard's events of this file
SELECT action, rule, CASE WHEN rolname = current_user THEN 'tester' ELSE rolname END AS role,
       statement
FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP MATERIALIZED VIEW dtr_mv;
DROP TABLE dtr_big, dtr_empty;
DROP ROLE dtr_nobody;
