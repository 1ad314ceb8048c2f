-- DDL guard in enforce mode: for each rule, statements that must be blocked and
-- near neighbours that must pass, with messages, hints and hygiene.ddl_events rows.
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'all';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_new_table_schemas = 'ddl_scratch';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '5s';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

-- Setup: tables are created with the rules allowed (new_table is on here).
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE TABLE ddl_big (id int, v varchar(10), n int, t text);
INSERT INTO ddl_big SELECT g, 'x', g, 'row ' || g FROM generate_series(1, 3000) g;
CREATE TABLE ddl_small (id int, n int);
INSERT INTO ddl_small VALUES (1, 1);
CREATE TABLE ddl_empty (id int, n int);
CREATE TABLE ddl_ref (id int PRIMARY KEY);
INSERT INTO ddl_ref SELECT g FROM generate_series(1, 3000) g;
CREATE DOMAIN ddl_posint AS int CHECK (VALUE > 0);
COMMIT;
CREATE INDEX CONCURRENTLY ddl_big_n ON ddl_big (n);
ANALYZE ddl_big;

-- ==== table_rewrite ====
-- blocked: type changes that rewrite
ALTER TABLE ddl_big ALTER COLUMN id TYPE bigint;
ALTER TABLE ddl_big ALTER COLUMN v TYPE varchar(5);
ALTER TABLE ddl_big ALTER COLUMN n TYPE text USING n::text;
-- pass: metadata-only type changes
ALTER TABLE ddl_big ALTER COLUMN v TYPE varchar(20);
ALTER TABLE ddl_big ALTER COLUMN v TYPE text;
-- blocked: ADD COLUMN that writes every row
ALTER TABLE ddl_big ADD COLUMN r float8 DEFAULT random();
ALTER TABLE ddl_big ADD COLUMN i bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE ddl_big ADD COLUMN g int GENERATED ALWAYS AS (n * 2) STORED;
ALTER TABLE ddl_big ADD COLUMN d ddl_posint DEFAULT 1;
-- pass: constant and now() defaults, DROP COLUMN, SET DEFAULT
ALTER TABLE ddl_big ADD COLUMN c int DEFAULT 5;
ALTER TABLE ddl_big ADD COLUMN ts timestamptz DEFAULT now();
ALTER TABLE ddl_big ALTER COLUMN c SET DEFAULT 7;
ALTER TABLE ddl_big DROP COLUMN c;
-- blocked: persistence changes, VACUUM FULL, CLUSTER
ALTER TABLE ddl_big SET UNLOGGED;
VACUUM FULL ddl_big;
CLUSTER ddl_big USING ddl_big_n;
-- blocked: whole-database forms, before they touch anything
VACUUM FULL;
CLUSTER;
REINDEX SCHEMA public;
-- pass: plain VACUUM, and rewrites of empty tables
VACUUM ddl_big;
VACUUM FULL ddl_empty;
ALTER TABLE ddl_empty ALTER COLUMN id TYPE bigint;
ALTER TABLE ddl_empty ADD COLUMN r float8 DEFAULT random();
-- pass: tables created in the same transaction, and temporary tables
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE TABLE ddl_new AS SELECT g AS id FROM generate_series(1, 3000) g;
ALTER TABLE ddl_new ALTER COLUMN id TYPE bigint;
CREATE INDEX ON ddl_new (id);
ALTER TABLE ddl_new ADD CHECK (id > 0);
ROLLBACK;
CREATE TEMP TABLE ddl_tmp AS SELECT g AS id FROM generate_series(1, 3000) g;
ALTER TABLE ddl_tmp ALTER COLUMN id TYPE bigint;
CREATE INDEX ON ddl_tmp (id);
VACUUM FULL ddl_tmp;
-- materialized views: blocked when large, CONCURRENTLY passes
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE MATERIALIZED VIEW ddl_mv AS SELECT id, n FROM ddl_big;
CREATE MATERIALIZED VIEW ddl_mv_small AS SELECT 1 AS one;
COMMIT;
-- (16 and later extend it by many empty pages: drop them, the sizes shown are the rows')
VACUUM ddl_mv;
CREATE UNIQUE INDEX CONCURRENTLY ddl_mv_id ON ddl_mv (id);
REFRESH MATERIALIZED VIEW ddl_mv;
REFRESH MATERIALIZED VIEW CONCURRENTLY ddl_mv;
REFRESH MATERIALIZED VIEW ddl_mv_small;

-- ==== index_not_concurrent ====
CREATE INDEX ddl_big_id ON ddl_big (id);
CREATE UNIQUE INDEX IF NOT EXISTS ddl_big_id ON ddl_big USING btree (id);
CREATE INDEX ON ddl_big ((lower(t)));
DROP INDEX ddl_big_n;
DROP INDEX IF EXISTS ddl_big_n;
REINDEX INDEX ddl_big_n;
REINDEX TABLE ddl_big;
-- pass: CONCURRENTLY forms, small tables
CREATE INDEX CONCURRENTLY ddl_big_id ON ddl_big (id);
REINDEX INDEX CONCURRENTLY ddl_big_id;
REINDEX (VERBOSE false, CONCURRENTLY) TABLE ddl_big;
DROP INDEX CONCURRENTLY ddl_big_id;
CREATE INDEX ddl_small_n ON ddl_small (n);
REINDEX TABLE ddl_small;
DROP INDEX ddl_small_n;

-- ==== full_scan_constraint ====
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_n_pos CHECK (n > 0);
ALTER TABLE ddl_big ADD CHECK (n > 0);
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_ref FOREIGN KEY (id) REFERENCES ddl_ref (id);
ALTER TABLE ddl_big ALTER COLUMN id SET NOT NULL;
ALTER TABLE ddl_big ADD PRIMARY KEY (id);
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_nt UNIQUE (n, t);
ALTER TABLE ddl_big ADD COLUMN k int CHECK (k > 0);
-- pass: NOT VALID, VALIDATE, SET NOT NULL proven by a validated CHECK, USING INDEX
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_n_pos CHECK (n > 0) NOT VALID;
ALTER TABLE ddl_big VALIDATE CONSTRAINT ddl_big_n_pos;
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_ref FOREIGN KEY (id) REFERENCES ddl_ref (id) NOT VALID;
ALTER TABLE ddl_big VALIDATE CONSTRAINT ddl_big_ref;
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_id_not_null CHECK (id IS NOT NULL) NOT VALID;
ALTER TABLE ddl_big VALIDATE CONSTRAINT ddl_big_id_not_null;
ALTER TABLE ddl_big ALTER COLUMN id SET NOT NULL;
ALTER TABLE ddl_big DROP CONSTRAINT ddl_big_id_not_null;
CREATE UNIQUE INDEX CONCURRENTLY ddl_big_pk_idx ON ddl_big (id);
ALTER TABLE ddl_big ADD CONSTRAINT ddl_big_pkey PRIMARY KEY USING INDEX ddl_big_pk_idx;
ALTER TABLE ddl_empty ADD PRIMARY KEY (id);
-- blocked although small: the rule is about any non-empty table
ALTER TABLE ddl_small ADD CHECK (n > 0);

-- ==== new_table ====
CREATE TABLE ddl_other (id int);
CREATE TABLE ddl_other AS SELECT 1 AS one;
SELECT 1 AS one INTO ddl_other;
CREATE MATERIALIZED VIEW ddl_other AS SELECT 1 AS one;
CREATE UNLOGGED TABLE ddl_other (id int);
-- pass: temporary tables, allowed schemas, new partitions of existing tables
CREATE TEMP TABLE ddl_tmp2 (id int);
CREATE TABLE pg_temp.ddl_tmp3 (id int);
CREATE SCHEMA ddl_scratch;
CREATE TABLE ddl_scratch.ddl_other (id int);
SET pg_hygiene.ddl_rules = 'table_rewrite,index_not_concurrent,full_scan_constraint,ddl_timeout';
CREATE TABLE ddl_other (id int);
DROP TABLE ddl_other;
SET pg_hygiene.ddl_rules = 'all';

-- ==== overrides ====
-- ddl_allow (superuser only) lets a rule pass, recorded as "allow"
SET pg_hygiene.ddl_allow = 'table_rewrite';
ALTER TABLE ddl_small ALTER COLUMN id TYPE bigint;
RESET pg_hygiene.ddl_allow;
SET pg_hygiene.ddl_allow = 'no_such_rule';
-- allow_ddl lasts for the transaction only
BEGIN;
SELECT hygiene.allow_ddl('index_not_concurrent');
CREATE INDEX ddl_big_t ON ddl_big (t);
DROP INDEX ddl_big_t;
COMMIT;
CREATE INDEX ddl_big_t ON ddl_big (t);
BEGIN;
SELECT hygiene.allow_ddl('index_not_concurrent');
ROLLBACK;
CREATE INDEX ddl_big_t ON ddl_big (t);
-- ... and is undone with its savepoint (blocked), kept when the savepoint is released
BEGIN;
SAVEPOINT s1;
SELECT hygiene.allow_ddl('index_not_concurrent');
ROLLBACK TO SAVEPOINT s1;
CREATE INDEX ddl_big_t ON ddl_big (t);
ROLLBACK;
BEGIN;
SAVEPOINT s1;
SAVEPOINT s2;
SELECT hygiene.allow_ddl('index_not_concurrent');
RELEASE SAVEPOINT s2;
RELEASE SAVEPOINT s1;
CREATE INDEX ddl_big_t ON ddl_big (t);
DROP INDEX ddl_big_t;
COMMIT;
-- an exception block is a savepoint too (blocked)
BEGIN;
DO $$ BEGIN PERFORM hygiene.allow_ddl('index_not_concurrent'); RAISE EXCEPTION 'undo';
      EXCEPTION WHEN raise_exception THEN NULL; END $$;
CREATE INDEX ddl_big_t ON ddl_big (t);
ROLLBACK;
SELECT hygiene.allow_ddl('no_such_rule');
SELECT hygiene.allow_ddl('table_rewrite,new_table');

-- guard off: nothing is checked or recorded
SET pg_hygiene.ddl_guard = off;
CREATE INDEX ddl_big_t ON ddl_big (t);
DROP INDEX ddl_big_t;
SET pg_hygiene.ddl_guard = enforce;

-- pg_hygiene.debug shows each decision
SET pg_hygiene.debug = on;
CREATE INDEX CONCURRENTLY ddl_big_t ON ddl_big (t);
ALTER TABLE ddl_big ALTER COLUMN t SET DEFAULT 'x';
BEGIN;
SELECT hygiene.allow_ddl('ddl_timeout');
ALTER TABLE ddl_big ALTER COLUMN t DROP DEFAULT;
COMMIT;
DROP INDEX CONCURRENTLY ddl_big_t;
RESET pg_hygiene.debug;

-- the block's SQLSTATE
\set VERBOSITY sqlstate
CREATE INDEX ddl_big_t ON ddl_big (t);
\set VERBOSITY default

-- every block, allow and override, in order
SELECT action, rule, relation, relation_bytes > 0 AS sized, message, statement
FROM hygiene.ddl_events WHERE event_id > :ev0 ORDER BY event_id;
SELECT rolname = current_user AS me, datname = current_database() AS here,
       pid = pg_backend_pid() AS mine, event_time <= now() AS past
FROM hygiene.ddl_events WHERE event_id > :ev0 GROUP BY 1, 2, 3, 4;

-- cleanup
SET pg_hygiene.ddl_guard = off;
DROP MATERIALIZED VIEW ddl_mv, ddl_mv_small;
DROP TABLE ddl_big, ddl_small, ddl_empty, ddl_ref, ddl_scratch.ddl_other;
DROP SCHEMA ddl_scratch;
DROP DOMAIN ddl_posint;
