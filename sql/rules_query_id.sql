-- hygiene.query_id(sql) (finding O23), rules that keep a sample text and warn about a
-- queryid never seen, and rules of dropped or renamed roles (finding O20).
SET pg_hygiene.query_rules_exempt_superuser = on;
CREATE SCHEMA rules_q;
CREATE TABLE rules_q.t (id int PRIMARY KEY, v int);
INSERT INTO rules_q.t SELECT g, g * 10 FROM generate_series(1, 10) g;
CREATE ROLE rules_q_app;
CREATE ROLE rules_q_nopriv;
GRANT USAGE ON SCHEMA rules_q TO rules_q_app, rules_q_nopriv;
GRANT SELECT ON rules_q.t TO rules_q_app;

CREATE FUNCTION rules_q_explain_id(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->>'Query Identifier')::bigint;
END $$;

-- The id is the one the executor computes (EXPLAIN VERBOSE shows it); constants do not
-- matter, the shape does; a $n parameter is another digest than a constant.
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1')
       = rules_q_explain_id('SELECT v FROM rules_q.t WHERE id = 1') AS same_as_executor;
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1')
       = hygiene.query_id('select v from rules_q.t where id = 42') AS constants_ignored;
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1')
       <> hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1 AND v > 0') AS shapes_differ;
PREPARE rules_q_p(int) AS SELECT v FROM rules_q.t WHERE id = $1;
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = $1')
       = rules_q_explain_id('EXECUTE rules_q_p(1)') AS param_form_as_prepared;
DEALLOCATE rules_q_p;
-- Names are resolved with the caller's search_path.
SET search_path = rules_q, public;
SELECT hygiene.query_id('SELECT v FROM t WHERE id = 1')
       = hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1') AS caller_search_path;
RESET search_path;
-- Also without compute_query_id (core's jumbling function, called directly).
SET compute_query_id = off;
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1') <> 0 AS computed_anyway;
RESET compute_query_id;
-- Nothing runs: a statement that would fail or write does nothing.
SELECT hygiene.query_id('DELETE FROM rules_q.t') <> 0 AS delete_id;
SELECT count(*) AS rows_still_there FROM rules_q.t;
\set VERBOSITY terse
-- One statement only, never a utility statement, and only what the caller may run.
SELECT hygiene.query_id('SELECT 1; SELECT 2');
SELECT hygiene.query_id('');
SELECT hygiene.query_id('VACUUM rules_q.t');
SELECT hygiene.query_id('SELECT * FROM rules_q.no_such_table');
SET ROLE rules_q_nopriv;
SELECT hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1');
RESET ROLE;
\set VERBOSITY default

-- A rule made from the statement's text keeps the text as its sample.  (The statement
-- never ran: the warning below, whose queryid varies, is not shown here.)
SET client_min_messages = error;
SELECT hygiene.block_query('SELECT v FROM rules_q.t WHERE id = 1', 'blocked by text',
                           role => 'rules_q_app') > 0 AS added;
RESET client_min_messages;
SELECT queryid = hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1') AS right_id,
       role, rolname, orphaned, query_text
FROM hygiene.query_rules WHERE reason = 'blocked by text';
SET SESSION AUTHORIZATION rules_q_app;
\set VERBOSITY terse
SELECT v FROM rules_q.t WHERE id = 3;
\set VERBOSITY default
RESET SESSION AUTHORIZATION;
-- Unqualified names: the rule functions resolve with a pinned search_path.
\set VERBOSITY terse
SELECT hygiene.throttle_query('SELECT v FROM t WHERE id = 1', per_second => 1, reason => 'x');
\set VERBOSITY default
-- ... or the id is computed in the caller's session and passed along with the text.
SET search_path = rules_q, public;
SELECT hygiene.throttle_query('SELECT v FROM t WHERE id = 1', per_second => 1000,
                              reason => 'throttled by text',
                              queryid => hygiene.query_id('SELECT v FROM t WHERE id = 1')) > 0 AS added;
RESET search_path;
SELECT action, role, query_text FROM hygiene.query_rules WHERE reason = 'throttled by text';
-- Replacing a rule without a text keeps the sample.
SELECT hygiene.throttle_query(hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1'),
                              per_second => 2000, reason => 'throttled by text') > 0 AS replaced;
SELECT max_per_s, query_text FROM hygiene.query_rules WHERE reason = 'throttled by text';
SELECT hygiene.remove_query_rule(hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1')) > 0 AS removed;

-- A queryid this server never ran: a WARNING (not an error); a statement that ran: none.
SELECT hygiene.block_query(1234567, 'typo', dry_run => true) > 0 AS added_with_warning;
SELECT hygiene.remove_query_rule(1234567) > 0 AS removed;
-- A quoted number is still a queryid (the text form does not take it for SQL).
SET client_min_messages = error;
SELECT hygiene.block_query('1234567', 'quoted id', dry_run => true) > 0 AS added;
RESET client_min_messages;
SELECT queryid, query_text FROM hygiene.query_rules WHERE reason = 'quoted id';
SELECT hygiene.remove_query_rule(1234567) > 0 AS removed;
SELECT v FROM rules_q.t WHERE id = 1 AND v > 5;
SELECT hygiene.block_query(hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1 AND v > 5'),
                           'seen', dry_run => true) > 0 AS added_silently;
SELECT hygiene.remove_query_rule(hygiene.query_id('SELECT v FROM rules_q.t WHERE id = 1 AND v > 5')) > 0 AS removed;

-- Dropped roles (finding O20).  A rule whose role's OID now belongs to a role of
-- another name (a dropped role's OID reused, or a dump restored elsewhere; simulated
-- by pointing the row at another role) matches no one and is flagged.
CREATE ROLE rules_q_new;
GRANT USAGE ON SCHEMA rules_q TO rules_q_new;
GRANT SELECT ON rules_q.t TO rules_q_new;
UPDATE hygiene.query_rule SET role = 'rules_q_new'::regrole WHERE reason = 'blocked by text';
SELECT role, rolname, orphaned FROM hygiene.query_rules WHERE reason = 'blocked by text';
SET SESSION AUTHORIZATION rules_q_new;
SELECT v FROM rules_q.t WHERE id = 3;
RESET SESSION AUTHORIZATION;
UPDATE hygiene.query_rule SET role = 'rules_q_app'::regrole WHERE reason = 'blocked by text';
SELECT orphaned FROM hygiene.query_rules WHERE reason = 'blocked by text';
-- DROP ROLE warns about the rules the role had in this database, which are flagged
-- at once (the role's OID is what remains).
REVOKE ALL ON rules_q.t FROM rules_q_app;
REVOKE ALL ON SCHEMA rules_q FROM rules_q_app;
DROP ROLE rules_q_app;
SELECT role::text ~ '^[0-9]+$' AS shown_as_oid, rolname, orphaned
FROM hygiene.query_rules WHERE reason = 'blocked by text';
-- A renamed role's rules are orphaned too (documented: re-create them); the
-- renamed role is not matched any more.
SET client_min_messages = error;
SELECT hygiene.block_query('SELECT v FROM rules_q.t WHERE id = 1', 'renamed', role => 'rules_q_new') > 0 AS added;
RESET client_min_messages;
ALTER ROLE rules_q_new RENAME TO rules_q_renamed;
SELECT rolname, orphaned FROM hygiene.query_rules WHERE reason = 'renamed';
SET SESSION AUTHORIZATION rules_q_renamed;
SELECT v FROM rules_q.t WHERE id = 4;
RESET SESSION AUTHORIZATION;
SELECT hygiene.purge_orphaned_query_rules() AS purged;
SELECT count(*) AS rules_left FROM hygiene.query_rules;

DROP FUNCTION rules_q_explain_id(text);
DROP SCHEMA rules_q CASCADE;
DROP OWNED BY rules_q_renamed, rules_q_nopriv;
DROP ROLE rules_q_renamed;
DROP ROLE rules_q_nopriv;
