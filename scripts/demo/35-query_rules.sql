-- Query digest rules: stop or slow one statement shape by its queryid, no app change.
CREATE TABLE demo_orders (id int PRIMARY KEY, customer int, total numeric);
INSERT INTO demo_orders SELECT g, g % 100, g * 1.5 FROM generate_series(1, 1000) g;
CREATE ROLE demo_app;
GRANT SELECT ON demo_orders TO demo_app;

-- EXPLAIN (VERBOSE) shows the queryid (so do pg_stat_statements and pg_stat_activity).
EXPLAIN (VERBOSE, COSTS OFF) SELECT sum(total) FROM demo_orders WHERE customer = 7;
CREATE FUNCTION pg_temp.qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;
SELECT pg_temp.qid('SELECT sum(total) FROM demo_orders WHERE customer = 7') AS qid \gset

-- First a dry run: nothing is stopped, the log and the view say what would happen.
SELECT hygiene.block_query(:qid, 'report melts the primary (OPS-123)', dry_run => true);
SET ROLE demo_app;
SET client_min_messages = log;   -- show the server log line here too
SELECT sum(total) FROM demo_orders WHERE customer = 7;
RESET client_min_messages;
SELECT sum(total) FROM demo_orders WHERE customer = 8;
RESET ROLE;
SELECT rule_id, action, dry_run, matched, dry_run_hits FROM hygiene.query_rules;

-- Enforce it for one hour: every constant of that digest is rejected with 53H10.
SELECT hygiene.block_query(:qid, 'report melts the primary (OPS-123)', ttl => '1 hour');
SET ROLE demo_app;
DO $$
BEGIN
  PERFORM sum(total) FROM demo_orders WHERE customer = 9;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'SQLSTATE %: %', SQLSTATE, SQLERRM;
END $$;
-- Other statements are untouched.
SELECT count(*) FROM demo_orders;
RESET ROLE;

-- Or let it through slowly: one statement at a time, two per second.
SELECT hygiene.throttle_query(:qid, per_second => 2, max_concurrent => 1,
                              reason => 'one report at a time');
SET ROLE demo_app;
SELECT sum(total) FROM demo_orders WHERE customer = 9;
RESET ROLE;
SELECT rule_id, action, max_per_s, max_concurrent, matched, blocked, throttled, dry_run_hits
FROM hygiene.query_rules;

SELECT hygiene.remove_query_rule(:qid);
DROP TABLE demo_orders;
DROP ROLE demo_app;
