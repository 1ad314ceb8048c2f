-- Limits and query rules keep the trust contract (issue 10, findings L1-L14): work run at
-- COMMIT or at plan time is never admitted on its own, options are read last-wins, the
-- join cap sees what the planner inlines, the write budget charges failed and bulk
-- statements, and rule arguments that cannot work are rejected.
SET pg_hygiene.priority = normal;
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
SET pg_hygiene.query_rules_exempt_superuser = on;
SET statement_timeout = 0;

CREATE ROLE lim_trust_rate LOGIN;
CREATE ROLE lim_trust_cnt LOGIN;
CREATE TABLE lim_trust_pa (id int PRIMARY KEY);
INSERT INTO lim_trust_pa SELECT generate_series(1, 100);
CREATE TABLE lim_trust_ch (id int, pid int REFERENCES lim_trust_pa DEFERRABLE INITIALLY DEFERRED);
GRANT ALL ON lim_trust_pa, lim_trust_ch TO lim_trust_rate, lim_trust_cnt;
-- IMMUTABLE, so the planner evaluates it while planning a statement that calls it
-- with constants; it runs ten queries of its own.
CREATE FUNCTION lim_trust_fold(n int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE s int := 0;
BEGIN
  FOR i IN 1 .. n LOOP
    SELECT s + count(*)::int INTO s FROM lim_trust_pa WHERE id = i;
  END LOOP;
  RETURN s;
END $$;
CREATE FUNCTION lim_trust_admitted(r name) RETURNS bigint LANGUAGE sql AS
  $$ SELECT admitted_limited FROM hygiene.role_stats WHERE rolname = r $$;

-- L1: deferred foreign-key checks run at COMMIT; each used to take a rate token of its
-- own, so that the COMMIT of 20 rows failed after the bucket's 5 tokens.
SET pg_hygiene.max_statements_per_second = 5;
SET SESSION AUTHORIZATION lim_trust_rate;
INSERT INTO lim_trust_ch SELECT g, g FROM generate_series(1, 20) g;
BEGIN;
INSERT INTO lim_trust_ch SELECT g, g FROM generate_series(21, 40) g;
COMMIT;
SELECT count(*) AS committed_rows FROM lim_trust_ch;
RESET SESSION AUTHORIZATION;
-- a failing deferred check still fails, with its own error
SET SESSION AUTHORIZATION lim_trust_rate;
INSERT INTO lim_trust_ch VALUES (41, 1000);
RESET SESSION AUTHORIZATION;
SELECT rejected_rate FROM hygiene.role_stats WHERE rolname = 'lim_trust_rate';
RESET pg_hygiene.max_statements_per_second;

-- ... nor does the plan cost cap, which still stops the same query run by a client
-- statement or an immediate trigger.
CREATE TABLE lim_trust_pc (id int);
GRANT ALL ON lim_trust_pc TO lim_trust_rate;
CREATE FUNCTION lim_trust_pc_f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM count(*) FROM lim_trust_pa a, lim_trust_pa b;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lim_trust_pc_c AFTER INSERT ON lim_trust_pc
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lim_trust_pc_f();
SET pg_hygiene.max_plan_cost = 100;
SET SESSION AUTHORIZATION lim_trust_rate;
\set VERBOSITY sqlstate
SELECT count(*) FROM lim_trust_pa a, lim_trust_pa b;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO lim_trust_pc VALUES (1);
BEGIN;
SET CONSTRAINTS lim_trust_pc_c IMMEDIATE;
INSERT INTO lim_trust_pc VALUES (2);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_plan_cost;
SELECT count(*) AS committed FROM lim_trust_pc;
DROP TABLE lim_trust_pc;
DROP FUNCTION lim_trust_pc_f();

-- L11: queries run by a function the planner folds belong to the statement being
-- planned: one admission, not eleven (with 5 tokens, the old count was rejected).
SET pg_hygiene.max_statements_per_second = 5;
SET pg_hygiene.max_active_statements = 100;
SELECT hygiene.reset_role_stats('lim_trust_cnt'::regrole) AS reset;
SET SESSION AUTHORIZATION lim_trust_cnt;
SELECT lim_trust_fold(10) AS folded;
RESET SESSION AUTHORIZATION;
SELECT lim_trust_admitted('lim_trust_cnt') AS admitted, rejected_rate
FROM hygiene.role_stats WHERE rolname = 'lim_trust_cnt';
-- the status counter sees one client statement too
SELECT statements_seen AS seen_before FROM hygiene.status \gset
SELECT lim_trust_fold(10) AS folded;
SELECT statements_seen - :seen_before AS seen FROM hygiene.status;
RESET pg_hygiene.max_statements_per_second;

-- L4: EXPLAIN options are read as ExplainQuery reads them, the last one wins.
SELECT hygiene.reset_role_stats('lim_trust_cnt'::regrole) AS reset;
SET SESSION AUTHORIZATION lim_trust_cnt;
-- (the plan is not shown: 18 prints rows=1.00; the count below tells it ran)
EXPLAIN (ANALYZE false, ANALYZE true, COSTS off, TIMING off, SUMMARY off) SELECT 1 \g /dev/null
RESET SESSION AUTHORIZATION;
SELECT lim_trust_admitted('lim_trust_cnt') AS admitted_analyze_last;
SELECT hygiene.reset_role_stats('lim_trust_cnt'::regrole) AS reset;
SET SESSION AUTHORIZATION lim_trust_cnt;
EXPLAIN (ANALYZE true, ANALYZE false, COSTS off) SELECT 1;
RESET SESSION AUTHORIZATION;
SELECT lim_trust_admitted('lim_trust_cnt') AS admitted_plain_last;

-- L7: REFRESH MATERIALIZED VIEW runs the view's query: it is admitted like CREATE TABLE AS.
CREATE MATERIALIZED VIEW lim_trust_mv AS SELECT count(*) AS n FROM lim_trust_pa;
ALTER MATERIALIZED VIEW lim_trust_mv OWNER TO lim_trust_cnt;
SELECT hygiene.reset_role_stats('lim_trust_cnt'::regrole) AS reset;
SET SESSION AUTHORIZATION lim_trust_cnt;
REFRESH MATERIALIZED VIEW lim_trust_mv;
RESET SESSION AUTHORIZATION;
SELECT lim_trust_admitted('lim_trust_cnt') AS admitted_refresh;
RESET pg_hygiene.max_active_statements;

-- L6: max_join_rels counts what the planner joins, after it inlines SQL functions and
-- CTEs (the old count saw one relation for f4() and three for each CTE).  (The joins
-- are on id + 0: PostgreSQL 18 would remove self-joins on a key before the join search.)
CREATE FUNCTION lim_trust_f4() RETURNS TABLE (id int) LANGUAGE sql STABLE AS
  'SELECT a.id FROM lim_trust_pa a, lim_trust_pa b, lim_trust_pa c, lim_trust_pa d
   WHERE a.id = b.id + 0 AND b.id = c.id + 0 AND c.id = d.id + 0';
CREATE TABLE lim_trust_parted (id int) PARTITION BY RANGE (id);
CREATE TABLE lim_trust_parted_1 PARTITION OF lim_trust_parted FOR VALUES FROM (0) TO (30);
CREATE TABLE lim_trust_parted_2 PARTITION OF lim_trust_parted FOR VALUES FROM (30) TO (60);
CREATE TABLE lim_trust_parted_3 PARTITION OF lim_trust_parted FOR VALUES FROM (60) TO (90);
CREATE TABLE lim_trust_parted_4 PARTITION OF lim_trust_parted FOR VALUES FROM (90) TO (200);
INSERT INTO lim_trust_parted SELECT generate_series(1, 100);
GRANT SELECT ON lim_trust_parted TO lim_trust_cnt;
SET pg_hygiene.max_join_rels = 3;
SET SESSION AUTHORIZATION lim_trust_cnt;
SELECT count(*) FROM lim_trust_f4();
\echo :LAST_ERROR_SQLSTATE
WITH x AS (SELECT a.id FROM lim_trust_pa a, lim_trust_pa b WHERE a.id = b.id + 0),
     y AS (SELECT a.id FROM lim_trust_pa a, lim_trust_pa b WHERE a.id = b.id + 0)
SELECT count(*) FROM x, y WHERE x.id = y.id;
\echo :LAST_ERROR_SQLSTATE
-- still fine: a materialized CTE is its own join problem, and a partitioned table or
-- three joined relations are within the cap
WITH x AS MATERIALIZED (SELECT a.id FROM lim_trust_pa a, lim_trust_pa b WHERE a.id = b.id),
     y AS MATERIALIZED (SELECT a.id FROM lim_trust_pa a, lim_trust_pa b WHERE a.id = b.id)
SELECT count(*) FROM x, y WHERE x.id = y.id;
SELECT count(*) FROM lim_trust_pa a, lim_trust_pa b, lim_trust_pa c
WHERE a.id = b.id AND b.id = c.id;
SELECT count(*) FROM lim_trust_parted p, lim_trust_pa a WHERE p.id = a.id;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_join_rels;

-- L5: the write budget charges the WAL of a statement that fails (at abort), and
-- charges bulk writes row by row while they run (CREATE TABLE AS used to write its
-- whole volume in one burst and leave the sleep to the next statement).
CREATE ROLE lim_trust_wal LOGIN;
GRANT CREATE ON SCHEMA public TO lim_trust_wal;
SELECT current_user AS lim_trust_orig_user \gset
ALTER ROLE lim_trust_wal SET pg_hygiene.max_wal_bytes_per_second = '100MB';
\c - lim_trust_wal
CREATE TABLE lim_trust_w1 AS
  SELECT CASE WHEN g = 20000 THEN (1 / (g - 20000))::text ELSE repeat('x', 100) END AS v
  FROM generate_series(1, 20000) g;
\c - :lim_trust_orig_user
SELECT charged_wal_bytes > 1000000 AS failed_statement_charged
FROM hygiene.role_stats WHERE rolname = 'lim_trust_wal';
ALTER ROLE lim_trust_wal SET pg_hygiene.max_wal_bytes_per_second = '1MB';
SELECT hygiene.reset_role_stats('lim_trust_wal'::regrole) AS reset;
\c - lim_trust_wal
CREATE TABLE lim_trust_w2 AS SELECT repeat('x', 100) AS v FROM generate_series(1, 15000) g;
\c - :lim_trust_orig_user
SELECT throttled_s > 0.5 AS slowed_while_running, charged_wal_bytes > 1500000 AS charged
FROM hygiene.role_stats WHERE rolname = 'lim_trust_wal';
ALTER ROLE lim_trust_wal RESET ALL;
DROP TABLE lim_trust_w2;
REVOKE CREATE ON SCHEMA public FROM lim_trust_wal;
SET statement_timeout = 0;

-- L2: a COMMIT inside the first statement of a session (run under pg_hygiene's own
-- timer, statement_timeout being 0) no longer disarms the statement ceiling.
ALTER ROLE lim_trust_cnt SET pg_hygiene.statement_timeout_max = '300ms';
ALTER ROLE lim_trust_cnt SET statement_timeout = 0;
\c - lim_trust_cnt
DO $$ BEGIN COMMIT; PERFORM pg_sleep(3); END $$;
\echo :LAST_ERROR_SQLSTATE
\c - :lim_trust_orig_user
ALTER ROLE lim_trust_cnt RESET ALL;
SET statement_timeout = 0;

-- L9, L10, L14: rule arguments that cannot work are rejected.
CREATE FUNCTION lim_trust_try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT lim_trust_try('SELECT hygiene.throttle_query(4242, per_second => 1e-300, reason => ''one per eon'')');
SELECT lim_trust_try('SELECT hygiene.throttle_query(4242, per_second => 5e-324, reason => ''x'')');
SELECT lim_trust_try('SELECT hygiene.block_query(4242, ''role zero'', role => 0::regrole)');
SELECT lim_trust_try('SELECT hygiene.block_query(4242, ''gone'', role => 999999::regrole)');
SELECT lim_trust_try($q$SELECT hygiene.block_query(4242, E'x\nHINT:  fake', role => 'lim_trust_cnt')$q$);
SELECT hygiene.throttle_query(4242, per_second => 1.0 / 86400, reason => 'one a day') > 0 AS daily_ok;
SELECT count(*) AS rules FROM hygiene.query_rule WHERE queryid = 4242;
SELECT hygiene.remove_query_rule(4242) > 0 AS removed;

-- ... and rows stored before 0.3 are made harmless: role 0 matches no one, a slower
-- rate is raised to one a day (the retry hint stays a real number), a newline of a
-- reason is blanked.
GRANT SELECT ON lim_trust_pa TO PUBLIC;
CREATE FUNCTION lim_trust_qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;
CREATE FUNCTION lim_trust_err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(regexp_replace(
           st || ': ' || msg || E'\nDETAIL: ' || det || E'\nHINT: ' || hint,
           '-?[0-9]{5,}', 'N', 'g'), 'rule [0-9]+', 'rule <id>', 'g');
END $$;
SELECT lim_trust_qid('SELECT id FROM lim_trust_pa WHERE id = 7') AS q \gset
INSERT INTO hygiene.query_rule (queryid, role, action, reason)
  VALUES (:q, 0, 'block', 'role zero');
INSERT INTO hygiene.query_rule (queryid, role, action, per_second, reason)
  VALUES (:q, 'lim_trust_rate', 'throttle', 1e-300, E'eon\nHINT:  fake');
SET SESSION AUTHORIZATION lim_trust_cnt;
SELECT id FROM lim_trust_pa WHERE id = 7;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION lim_trust_rate;
SELECT id FROM lim_trust_pa WHERE id = 7;
-- not at top level: no waiting, a retry hint of about a day, the reason on one line
SELECT lim_trust_err('SELECT id FROM lim_trust_pa WHERE id = 7') AS nested;
RESET SESSION AUTHORIZATION;
DELETE FROM hygiene.query_rule WHERE queryid = :q;

-- L1 for query rules: a query run at COMMIT (here by a deferred constraint trigger) is
-- exempt from a rule that blocks its digest, counted as exempted; the COMMIT commits.
-- The same query as a client statement, or from an immediate trigger, is blocked.
CREATE TABLE lim_trust_trg (id int);
GRANT ALL ON lim_trust_trg TO lim_trust_cnt;
CREATE FUNCTION lim_trust_trg_f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM id FROM lim_trust_pa WHERE id = 7;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER lim_trust_trg_c AFTER INSERT ON lim_trust_trg
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lim_trust_trg_f();
SELECT hygiene.block_query(:q, 'blocked digest') > 0 AS blocked;
SET SESSION AUTHORIZATION lim_trust_cnt;
\set VERBOSITY terse
SELECT id FROM lim_trust_pa WHERE id = 7;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO lim_trust_trg VALUES (1);
BEGIN;
SET CONSTRAINTS lim_trust_trg_c IMMEDIATE;
INSERT INTO lim_trust_trg VALUES (2);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT count(*) AS committed FROM lim_trust_trg;
SELECT blocked, exempted FROM hygiene.query_rules WHERE queryid = :q;
SELECT hygiene.remove_query_rule(:q) > 0 AS removed;
DROP TABLE lim_trust_trg;
DROP FUNCTION lim_trust_trg_f();

DROP FUNCTION lim_trust_try(text), lim_trust_err(text), lim_trust_qid(text), lim_trust_fold(int),
  lim_trust_admitted(name), lim_trust_f4();
DROP MATERIALIZED VIEW lim_trust_mv;
DROP TABLE lim_trust_ch, lim_trust_pa, lim_trust_parted;
DROP OWNED BY lim_trust_wal;
DROP ROLE lim_trust_rate, lim_trust_cnt, lim_trust_wal;
