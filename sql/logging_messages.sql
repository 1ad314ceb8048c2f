-- Message texts (O24): a rate of one statement a second reads in the singular, and the
-- expiry of a rule in its HINT is shown to the second (rounded up), without
-- microseconds.
SET pg_hygiene.query_rules_exempt_superuser = on;
SET pg_hygiene.query_rule_wait_timeout = 0;

CREATE TABLE log_m (id int PRIMARY KEY, v int);
INSERT INTO log_m SELECT g, g FROM generate_series(1, 10) g;
CREATE ROLE log_m_app;
GRANT SELECT ON log_m TO log_m_app;

CREATE FUNCTION log_m_qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;

-- Run a statement n times; show the first its error with queryids, rule ids, delays and times masked.
-- A time is masked to the second: a fraction would stay visible.
CREATE FUNCTION log_m_try(q text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
  FOR i IN 1 .. n LOOP
    EXECUTE q;
  END LOOP;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(regexp_replace(regexp_replace(regexp_replace(
           st || ': ' || msg || E'\nDETAIL: ' || det || E'\nHINT: ' || hint,
           '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}', '<time>', 'g'),
           '-?[0-9]{6,}', '<queryid>', 'g'),
           'rule [0-9]+', 'rule <id>', 'g'),
           'after [0-9]+ ms', 'after <n> ms', 'g');
END $$;

SELECT log_m_qid('SELECT v FROM log_m WHERE id = 1') AS q \gset
SELECT hygiene.throttle_query(:q, per_second => 1, reason => 'one a second',
                              ttl => '1 hour') > 0 AS added;
SET SESSION AUTHORIZATION log_m_app;
\set VERBOSITY terse
-- the bucket holds one token: of 20 statements in a row, one runs
SELECT log_m_try('SELECT v FROM log_m WHERE id = 1', 20);
RESET SESSION AUTHORIZATION;
\set VERBOSITY default
SELECT hygiene.remove_query_rule(:q) AS removed;

DROP FUNCTION log_m_try(text, int);
DROP FUNCTION log_m_qid(text);
DROP TABLE log_m;
DROP ROLE log_m_app;
