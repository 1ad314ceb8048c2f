-- Query digest rules: block, role filter, precedence, expiry, dry run, removal.
SET pg_hygiene.query_rules_exempt_superuser = on;
SET pg_hygiene.query_rule_wait_timeout = '1s';

CREATE TABLE rules_b (id int PRIMARY KEY, v int);
INSERT INTO rules_b SELECT g, g * 10 FROM generate_series(1, 10) g;
CREATE ROLE rules_b_app;
CREATE ROLE rules_b_other;
GRANT SELECT ON rules_b TO rules_b_app, rules_b_other;

-- The queryid of a statement, as EXPLAIN (VERBOSE) shows it.
CREATE FUNCTION rules_b_qid(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;

-- Run a statement; show its error in full with queryids and times masked.
CREATE FUNCTION rules_b_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RETURN regexp_replace(regexp_replace(regexp_replace(
           st || ': ' || msg || E'\nDETAIL: ' || det || E'\nHINT: ' || hint,
           '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+([+-][0-9]{2})?', '<time>', 'g'),
           '-?[0-9]{6,}', '<queryid>', 'g'),
           'rule [0-9]+', 'rule <id>', 'g');
END $$;

SELECT rules_b_qid('SELECT v FROM rules_b WHERE id = 1') AS q \gset
SELECT rules_b_qid('SELECT v FROM rules_b WHERE id = 1 AND v > 0') AS q2 \gset
SELECT :q <> 0 AS have_queryid, :q <> :q2 AS different_shapes_differ;

-- Block the digest for every role.
SELECT hygiene.block_query(:q, 'reporting query overloads the primary') > 0 AS added;
SELECT action, role, reason, dry_run, expires_at FROM hygiene.query_rules WHERE queryid = :q;

-- Superusers are exempt by default (counted as exempted).
SELECT v FROM rules_b WHERE id = 2;

SET SESSION AUTHORIZATION rules_b_app;
\set VERBOSITY terse
-- Any constant: the same digest is blocked.
SELECT v FROM rules_b WHERE id = 2;
SELECT v FROM rules_b WHERE id = 7;
-- Another statement shape is another digest and runs.
SELECT v FROM rules_b WHERE id = 2 AND v > 0;
SELECT count(*) FROM rules_b;
-- EXPLAIN without ANALYZE still works (that is how one finds the queryid) ...
EXPLAIN (COSTS OFF) SELECT v FROM rules_b WHERE id = 2;
-- ... EXPLAIN ANALYZE runs the statement and is blocked.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT v FROM rules_b WHERE id = 2;
-- A statement with a parameter ($1, as drivers send them) is another digest
-- than the same text with a constant.
PREPARE rules_b_p(int) AS SELECT v FROM rules_b WHERE id = $1;
EXECUTE rules_b_p(3);
\set VERBOSITY default
-- The error names the rule, the digest and the reason, and says how to lift it.
SELECT rules_b_try('SELECT v FROM rules_b WHERE id = 4');
RESET SESSION AUTHORIZATION;

-- Blocking the parameterised digest blocks it wherever it runs: a prepared
-- statement and the same statement inside a PL/pgSQL function (whose variables
-- are parameters too).
SELECT rules_b_qid('EXECUTE rules_b_p(3)') AS qp \gset
SELECT :qp <> :q AS param_digest_differs;
SELECT hygiene.block_query(:qp, 'parameterised form') > 0 AS added;
CREATE FUNCTION rules_b_fn(p int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE r int;
BEGIN
  SELECT v INTO r FROM rules_b WHERE id = p;
  RETURN r;
END $$;
SET SESSION AUTHORIZATION rules_b_app;
\set VERBOSITY terse
EXECUTE rules_b_p(3);
SELECT rules_b_fn(3);
-- The constant form is not covered by this rule (but by the first one).
SELECT v FROM rules_b WHERE id = 3;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT hygiene.remove_query_rule(:qp) > 0 AS removed;
SET SESSION AUTHORIZATION rules_b_app;
EXECUTE rules_b_p(3);
SELECT rules_b_fn(3);
RESET SESSION AUTHORIZATION;
DEALLOCATE rules_b_p;
DROP FUNCTION rules_b_fn(int);

-- With the exemption off, superusers are blocked too.
SET pg_hygiene.query_rules_exempt_superuser = off;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 2;
\set VERBOSITY default
SET pg_hygiene.query_rules_exempt_superuser = on;

-- Counters: matched, blocked, exempted, last hit.
SELECT matched, blocked, throttled, dry_run_hits, exempted, active,
       last_hit IS NOT NULL AS hit
FROM hygiene.query_rules WHERE queryid = :q;

-- Removal lifts the block at once.
SELECT hygiene.remove_query_rule(:q) > 0 AS removed;
SET SESSION AUTHORIZATION rules_b_app;
SELECT v FROM rules_b WHERE id = 2;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rules_left FROM hygiene.query_rules WHERE queryid = :q;

-- Role filter: a rule for one role leaves the others alone.
SELECT hygiene.block_query(:q, 'app runs this in a loop', role => 'rules_b_app') > 0 AS added;
SET SESSION AUTHORIZATION rules_b_other;
SELECT v FROM rules_b WHERE id = 5;
SET SESSION AUTHORIZATION rules_b_app;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 5;
\set VERBOSITY default
SELECT rules_b_try('SELECT v FROM rules_b WHERE id = 5');
RESET SESSION AUTHORIZATION;

-- A rule for the role wins over the rule for every role: block everyone, but let
-- rules_b_app run at a generous rate.
SELECT hygiene.block_query(:q, 'everyone else stops') > 0 AS added;
SELECT hygiene.throttle_query(:q, per_second => 1000, reason => 'app may continue',
                              role => 'rules_b_app') > 0 AS replaced;
SELECT role, action, max_per_s, reason FROM hygiene.query_rules
WHERE queryid = :q ORDER BY role NULLS FIRST;
SET SESSION AUTHORIZATION rules_b_app;
SELECT v FROM rules_b WHERE id = 6;
SET SESSION AUTHORIZATION rules_b_other;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 6;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT hygiene.remove_query_rule(:q, 'rules_b_app') > 0 AS removed_role_rule;
SELECT hygiene.remove_query_rule(:q) > 0 AS removed_global_rule;

-- Expiry: a rule with a ttl stops applying when it expires, and stays listed
-- (expired) until purged.
SELECT hygiene.block_query(:q, 'short incident', ttl => '300 milliseconds') > 0 AS added;
SELECT expires_at > now() AS in_future, expired FROM hygiene.query_rules WHERE queryid = :q;
SET SESSION AUTHORIZATION rules_b_app;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 8;
\set VERBOSITY default
SELECT rules_b_try('SELECT v FROM rules_b WHERE id = 8');
RESET SESSION AUTHORIZATION;
SELECT pg_sleep(0.4);
SET SESSION AUTHORIZATION rules_b_app;
SELECT v FROM rules_b WHERE id = 8;
RESET SESSION AUTHORIZATION;
SELECT expired, blocked FROM hygiene.query_rules WHERE queryid = :q;
SELECT hygiene.purge_expired_query_rules() AS purged;
SELECT count(*) AS rules_left FROM hygiene.query_rules WHERE queryid = :q;

-- Dry run: the statement runs, the server log says what would have happened,
-- the view counts it.
SELECT hygiene.block_query(:q, 'trying this out first', dry_run => true) > 0 AS added;
SET SESSION AUTHORIZATION rules_b_app;
SET client_min_messages = log;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 9;
RESET client_min_messages;
SELECT v FROM rules_b WHERE id = 9;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT dry_run, matched, blocked, dry_run_hits FROM hygiene.query_rules WHERE queryid = :q;
-- Turning the dry run into enforcement keeps the rule (and its counters).
SELECT hygiene.block_query(:q, 'now for real') AS rule_id_after \gset
SELECT rule_id = :rule_id_after AS same_rule, dry_run, matched, dry_run_hits
FROM hygiene.query_rules WHERE queryid = :q;
SET SESSION AUTHORIZATION rules_b_app;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 9;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
SELECT hygiene.remove_query_rule(:q) > 0 AS removed;

-- Rules match the session user (the login role), as the per-role limits do (finding
-- O15): SET ROLE neither escapes a rule of the login role nor comes under a rule of
-- the role it switches to; nor does a SECURITY DEFINER function.
GRANT rules_b_other TO rules_b_app;
CREATE FUNCTION rules_b_definer(p int) RETURNS int LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp AS $$ SELECT v FROM rules_b WHERE id = p $$;
ALTER FUNCTION rules_b_definer(int) OWNER TO rules_b_other;
PREPARE rules_b_p2(int) AS SELECT v FROM rules_b WHERE id = $1;
SELECT rules_b_qid('EXECUTE rules_b_p2(1)') AS qp2 \gset
DEALLOCATE rules_b_p2;
SELECT hygiene.block_query(:q, 'app login', role => 'rules_b_app') > 0 AS added;
SELECT hygiene.block_query(:qp2, 'app login, parameterised', role => 'rules_b_app') > 0 AS added;
SET SESSION AUTHORIZATION rules_b_app;
SET ROLE rules_b_other;
SELECT current_user, session_user;
\set VERBOSITY terse
SELECT v FROM rules_b WHERE id = 3;
SELECT rules_b_definer(3);
\set VERBOSITY default
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT hygiene.remove_query_rule(:q, 'rules_b_app') > 0 AS removed;
SELECT hygiene.block_query(:q, 'other role', role => 'rules_b_other') > 0 AS added;
SET SESSION AUTHORIZATION rules_b_app;
SET ROLE rules_b_other;
SELECT v FROM rules_b WHERE id = 3;
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT hygiene.remove_query_rule(:q, 'rules_b_other') > 0 AS removed;
SELECT hygiene.remove_query_rule(:qp2, 'rules_b_app') > 0 AS removed;
DROP FUNCTION rules_b_definer(int);
-- The per-role limits count the same role: the login role, also after SET ROLE.
SET pg_hygiene.max_statements_per_second = 100000;
SET SESSION AUTHORIZATION rules_b_app;
SET ROLE rules_b_other;
SELECT 'counted' AS limited;
RESET ROLE;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_statements_per_second;
SELECT rolname, admitted_limited > 0 AS counted FROM hygiene.role_stats
WHERE rolname IN ('rules_b_app', 'rules_b_other') ORDER BY rolname COLLATE "C";

DROP FUNCTION rules_b_try(text);
DROP FUNCTION rules_b_qid(text);
DROP TABLE rules_b;
DROP ROLE rules_b_app;
DROP ROLE rules_b_other;
