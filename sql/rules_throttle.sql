-- Query digest rules: throttling by rate and by concurrency, waiting, dry run.
SET pg_hygiene.query_rules_exempt_superuser = on;
SET pg_hygiene.query_rule_wait_timeout = 0;

CREATE TABLE rules_t (id int PRIMARY KEY, v int);
INSERT INTO rules_t SELECT g, g FROM generate_series(1, 10) g;
CREATE ROLE rules_t_app;
GRANT SELECT ON rules_t TO rules_t_app;

CREATE FUNCTION rules_t_qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;

-- Run a statement; show its error in full with queryids, ids and figures masked.
CREATE FUNCTION rules_t_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(regexp_replace(regexp_replace(
           st || ': ' || msg || E'\nDETAIL: ' || det || E'\nHINT: ' || hint,
           '-?[0-9]{6,}', '<queryid>', 'g'),
           'rule [0-9]+', 'rule <id>', 'g'),
           'after [0-9]+ ms', 'after <n> ms', 'g');
END $$;

SELECT rules_t_qid('SELECT v FROM rules_t WHERE id = 1') AS q \gset
SELECT rules_t_qid('SELECT sum(v) FROM rules_t') AS qsum \gset

-- Rate: one statement every 10 seconds (a burst of one), no waiting.
SELECT hygiene.throttle_query(:q, per_second => 0.1, reason => 'retry storm') > 0 AS added;
SET SESSION AUTHORIZATION rules_t_app;
\set VERBOSITY terse
SELECT v FROM rules_t WHERE id = 1;
SELECT v FROM rules_t WHERE id = 2;
-- Other digests run.
SELECT sum(v) FROM rules_t;
\set VERBOSITY default
SELECT rules_t_try('SELECT v FROM rules_t WHERE id = 3');
RESET SESSION AUTHORIZATION;
-- A statement waits only for a token due within pg_hygiene.query_rule_wait_timeout
-- (this one is ~10 s away), and never inside a transaction block (it may hold
-- locks others need): both are rejected at once.
SET pg_hygiene.query_rule_wait_timeout = '3s';
SET SESSION AUTHORIZATION rules_t_app;
\set VERBOSITY terse
SELECT v FROM rules_t WHERE id = 4;
BEGIN;
SELECT v FROM rules_t WHERE id = 4;
ROLLBACK;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SET pg_hygiene.query_rule_wait_timeout = 0;
-- Superusers are exempt.
SELECT v FROM rules_t WHERE id = 4;
SELECT matched, throttled, waited, exempted FROM hygiene.query_rules WHERE queryid = :q;

SELECT hygiene.remove_query_rule(:q) > 0 AS removed;

-- Rate with waiting: one every 2 s (a burst of one) and up to 5 s of waiting;
-- the second statement (top level, outside a transaction block) waits for its
-- token and then runs.
SELECT hygiene.throttle_query(:qsum, per_second => 0.5, reason => 'smooth it out') > 0 AS added;
SET pg_hygiene.query_rule_wait_timeout = '5s';
SET SESSION AUTHORIZATION rules_t_app;
SELECT sum(v) FROM rules_t;
SELECT sum(v) FROM rules_t;
RESET SESSION AUTHORIZATION;
SELECT matched, waited, throttled FROM hygiene.query_rules WHERE queryid = :qsum;
SET pg_hygiene.query_rule_wait_timeout = 0;
SELECT hygiene.remove_query_rule(:qsum) > 0 AS removed;

-- Concurrency: at most N running statements with this digest.  rules_t_hold(1)
-- runs the same digest again, nested, while its own statement holds a slot; a
-- nested statement never waits, so it is rejected at once when the slot is taken.
CREATE FUNCTION rules_t_hold(depth int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  IF depth = 0 THEN
    RAISE EXCEPTION 'failing while holding a slot';
  END IF;
  IF depth > 1 THEN
    RETURN 'inner ran';
  END IF;
  RETURN rules_t_try('SELECT rules_t_hold(2)');
END $$;
SELECT rules_t_qid('SELECT rules_t_hold(1)') AS qh \gset
SELECT hygiene.throttle_query(:qh, max_concurrent => 1, reason => 'heavy report') > 0 AS added;
SET SESSION AUTHORIZATION rules_t_app;
SELECT rules_t_hold(1);
RESET SESSION AUTHORIZATION;
SELECT active, throttled FROM hygiene.query_rules WHERE queryid = :qh;
-- With two slots the nested statement gets the second one.
SELECT hygiene.throttle_query(:qh, max_concurrent => 2, reason => 'heavy report') > 0 AS replaced;
SET SESSION AUTHORIZATION rules_t_app;
SELECT rules_t_hold(1);
RESET SESSION AUTHORIZATION;
SELECT hygiene.throttle_query(:qh, max_concurrent => 1, reason => 'heavy report') > 0 AS replaced;

-- Slots are released when the statement fails, in or out of a transaction block.
SET SESSION AUTHORIZATION rules_t_app;
\set VERBOSITY terse
SELECT rules_t_hold(0);
BEGIN;
SELECT rules_t_hold(0);
ROLLBACK;
BEGIN;
SELECT 1 AS in_block;
SELECT rules_t_hold(0);
ROLLBACK;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT active, throttled, matched FROM hygiene.query_rules WHERE queryid = :qh;
SET SESSION AUTHORIZATION rules_t_app;
SELECT rules_t_hold(1);
RESET SESSION AUTHORIZATION;

-- PostgreSQL 15 computes no queryid for the query of DECLARE CURSOR, so rules
-- cannot match it (PostgreSQL 16 does); the statement runs unthrottled.
SET SESSION AUTHORIZATION rules_t_app;
BEGIN;
DECLARE c1 CURSOR FOR SELECT rules_t_hold(2);
FETCH c1;
COMMIT;
RESET SESSION AUTHORIZATION;

-- Rate and concurrency together, as a dry run: counts what would have been
-- throttled, logs it, and lets everything run.
SELECT hygiene.throttle_query(:qh, per_second => 100, max_concurrent => 1,
                              reason => 'both', dry_run => true) > 0 AS replaced;
SET SESSION AUTHORIZATION rules_t_app;
SET client_min_messages = log;
\set VERBOSITY terse
SELECT rules_t_hold(1);
RESET client_min_messages;
\set VERBOSITY default
SELECT rules_t_hold(1);
RESET SESSION AUTHORIZATION;
SELECT dry_run, throttled, dry_run_hits, active FROM hygiene.query_rules WHERE queryid = :qh;
SELECT hygiene.remove_query_rule(:qh) > 0 AS removed;

DROP FUNCTION rules_t_hold(int);
DROP FUNCTION rules_t_try(text);
DROP FUNCTION rules_t_qid(text);
DROP TABLE rules_t;
DROP ROLE rules_t_app;
