-- Features that meet on one statement: the no-op suppressor and the write budget both
-- wrap the ModifyTable subplan of an UPDATE; a digest rule and the DDL guard see the
-- same session.  Each pair must work as if the other were not there.
\set VERBOSITY terse
SET pg_hygiene.ddl_guard = off;
SET pg_hygiene.max_wal_bytes_per_second = 0;
SET pg_hygiene.noop_updates = lock;

CREATE ROLE integ_user;
CREATE TABLE integ_t (id int PRIMARY KEY, v int, pad text);
INSERT INTO integ_t SELECT g, 0, repeat('p', 200) FROM generate_series(1, 6000) g;
GRANT SELECT, UPDATE ON integ_t TO integ_user;
SELECT hygiene.reset_table_write_stats('integ_t');

-- Half the rows change (about 1.5MB of WAL), half are no-ops; under a 1MB/s budget the
-- statement sleeps inside itself, suppresses the no-ops and counts every row.
SET pg_hygiene.max_wal_bytes_per_second = '1MB';
SET SESSION AUTHORIZATION integ_user;
UPDATE integ_t SET v = CASE WHEN id % 2 = 0 THEN 1 ELSE 0 END;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_wal_bytes_per_second;
SELECT rows_updated, noop_rows, noop_suppressed, nonindexed_only
FROM hygiene.table_write_stats WHERE relname = 'integ_t';
SELECT count(*) FILTER (WHERE v = 1) AS changed, count(*) FILTER (WHERE v = 0) AS unchanged
FROM integ_t;
SELECT charged_wal_bytes > 500000 AS charged, throttled_s > 0.1 AS slowed_down
FROM hygiene.role_stats WHERE rolname = 'integ_user';

-- A no-op-only statement under the budget: every row is suppressed (lock mode still
-- writes a row-lock record per row) and it is charged far less WAL than the first.
SELECT hygiene.reset_role_stats('integ_user');
SET pg_hygiene.max_wal_bytes_per_second = '1MB';
SET SESSION AUTHORIZATION integ_user;
UPDATE integ_t SET v = 1 WHERE id % 2 = 0;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_wal_bytes_per_second;
SELECT charged_wal_bytes < 400000 AS little_wal FROM hygiene.role_stats WHERE rolname = 'integ_user';
SELECT noop_suppressed FROM hygiene.table_write_stats WHERE relname = 'integ_t';

-- A digest rule blocks an UPDATE before the suppressor looks at it: nothing is
-- counted for the blocked statement, and the same UPDATE runs again once the rule is gone.
CREATE FUNCTION integ_qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;
SELECT integ_qid('UPDATE integ_t SET v = 1 WHERE id = 2') AS q \gset
SELECT hygiene.block_query(:q, 'integration test') > 0 AS blocked;
SELECT hygiene.reset_table_write_stats('integ_t');
SET SESSION AUTHORIZATION integ_user;
UPDATE integ_t SET v = 1 WHERE id = 2;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows_counted FROM hygiene.table_write_stats WHERE relname = 'integ_t';
SELECT hygiene.remove_query_rule(:q) AS removed;
SET SESSION AUTHORIZATION integ_user;
UPDATE integ_t SET v = 1 WHERE id = 2;
RESET SESSION AUTHORIZATION;
SELECT rows_updated, noop_suppressed FROM hygiene.table_write_stats WHERE relname = 'integ_t';

-- The DDL guard in enforce mode and the suppressor's own settings table: the guard
-- stops a rewrite, the suppressor's per-table override still works.
SET pg_hygiene.ddl_guard = enforce;
ALTER TABLE integ_t ALTER COLUMN v TYPE bigint;
SELECT hygiene.set_noop_updates('integ_t', 'observe');
SELECT relid::regclass, mode FROM hygiene.noop_update_settings;
SELECT hygiene.set_noop_updates('integ_t', NULL);
RESET pg_hygiene.ddl_guard;

DROP FUNCTION integ_qid(text);
DROP TABLE integ_t;
REVOKE ALL ON SCHEMA public FROM integ_user;
DROP ROLE integ_user;
