-- Utility statements that run queries are admitted like the statements they run:
-- DO, CALL, EXECUTE, CREATE TABLE AS / SELECT INTO, EXPLAIN ANALYZE, COPY and the query a
-- DECLARE CURSOR opens count as one statement each (one rate token, one slot), and the
-- queries they run share that slot.  Other utility statements (SET, DDL, PREPARE, plain
-- EXPLAIN, FETCH) are not counted.
SET pg_hygiene.max_active_statements = 0;
SET pg_hygiene.max_active_total = 0;
SET pg_hygiene.max_statements_per_second = 0;
SET pg_hygiene.max_wal_bytes_per_second = 0;
SET pg_hygiene.statement_timeout_max = 0;
SET pg_hygiene.idle_in_transaction_timeout_max = 0;
SET pg_hygiene.max_join_rels = 0;
SET pg_hygiene.max_plan_cost = 0;
SET pg_hygiene.queue_timeout = 0;
SET pg_hygiene.exempt_superusers = on;

CREATE ROLE lim_util_user;
CREATE SCHEMA lim_util AUTHORIZATION lim_util_user;
CREATE TABLE lim_util.t (id int PRIMARY KEY, v int);
INSERT INTO lim_util.t SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE lim_util.t OWNER TO lim_util_user;
CREATE PROCEDURE lim_util.commit_twice() LANGUAGE plpgsql AS $$
BEGIN
  UPDATE lim_util.t SET v = v + 1 WHERE id = 1;
  COMMIT;
  UPDATE lim_util.t SET v = v + 1 WHERE id = 2;
  COMMIT;
END $$;
ALTER PROCEDURE lim_util.commit_twice() OWNER TO lim_util_user;

-- A cap of one slot: every statement below runs alone, so it also shows that the
-- queries run by a DO or CALL share its slot instead of waiting for a second one.
SET pg_hygiene.max_active_statements = 1;
SELECT hygiene.reset_role_stats('lim_util_user');
SET SESSION AUTHORIZATION lim_util_user;
SET search_path = lim_util;
DO $$ BEGIN PERFORM count(*) FROM t; PERFORM max(v) FROM t; UPDATE t SET v = v WHERE id = 3; END $$;
CALL commit_twice();
PREPARE q AS SELECT count(*) FROM t;
EXECUTE q;
CREATE TABLE t2 AS SELECT * FROM t;
SELECT * INTO t3 FROM t;
-- (its output differs between versions: 18 shows buffers and fractional row counts)
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM t \g /dev/null
EXPLAIN (COSTS OFF) SELECT count(*) FROM t;
COPY (SELECT id FROM t WHERE id <= 2 ORDER BY id) TO STDOUT;
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id;
FETCH 2 FROM c;
FETCH 1 FROM c;
CLOSE c;
COMMIT;
DROP TABLE t2, t3;
RESET SESSION AUTHORIZATION;
-- 8 counted: DO, CALL, EXECUTE, CREATE TABLE AS, SELECT INTO, EXPLAIN ANALYZE, COPY,
-- the cursor's query; none of the others (SET, PREPARE, EXPLAIN, FETCH, CLOSE, BEGIN,
-- COMMIT, DROP, RESET) and none of the queries run inside them.
SELECT admitted_limited, queued, rejected_active, active_now
FROM hygiene.role_stats WHERE rolname = 'lim_util_user';

-- The slot is given back however the utility statement ends: after an error inside a
-- DO block, and after a procedure that commits.
SET SESSION AUTHORIZATION lim_util_user;
DO $$ BEGIN PERFORM 1 / 0; END $$;
CALL lim_util.commit_twice();
SELECT 'still admitted' AS after_errors;
RESET SESSION AUTHORIZATION;
SELECT active_now FROM hygiene.role_stats WHERE rolname = 'lim_util_user';
SELECT active_total FROM hygiene.limits_summary;

-- A cursor holds its slot until it is closed (another session of the role waiting for
-- it is in the isolation spec limits_queue).
SET SESSION AUTHORIZATION lim_util_user;
BEGIN;
DECLARE c2 CURSOR FOR SELECT id FROM lim_util.t;
RESET SESSION AUTHORIZATION;
SELECT active_now FROM hygiene.role_stats WHERE rolname = 'lim_util_user';
SET SESSION AUTHORIZATION lim_util_user;
CLOSE c2;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT active_now FROM hygiene.role_stats WHERE rolname = 'lim_util_user';

-- The rate limit counts a DO as one statement: with one statement per second and no
-- queueing, the second DO of the same second is rejected, whatever the first one ran.
SET pg_hygiene.max_active_statements = 0;
SET pg_hygiene.max_statements_per_second = 1;
SELECT hygiene.reset_role_stats('lim_util_user');
SET SESSION AUTHORIZATION lim_util_user;
\set VERBOSITY terse
DO $$ BEGIN FOR i IN 1..20 LOOP PERFORM count(*) FROM lim_util.t; END LOOP; END $$ \; DO $$ BEGIN PERFORM 1; END $$;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT admitted_limited, rejected_rate FROM hygiene.role_stats WHERE rolname = 'lim_util_user';
RESET pg_hygiene.max_statements_per_second;

DROP SCHEMA lim_util CASCADE;
DROP ROLE lim_util_user;
