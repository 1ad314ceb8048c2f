-- Per-role limits: plan caps, timeout ceilings and the statement rate limit, as seen
-- by a non-superuser session (superusers are exempt by default, which is shown too).
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
SET statement_timeout = 0;
SET idle_in_transaction_session_timeout = 0;

CREATE ROLE lim_caps_user LOGIN;
CREATE TABLE lim_caps_t (id int PRIMARY KEY, v int);
INSERT INTO lim_caps_t SELECT g, g FROM generate_series(1, 1000) g;
ANALYZE lim_caps_t;
GRANT SELECT ON lim_caps_t TO lim_caps_user;
CREATE FUNCTION lim_caps_nap() RETURNS void LANGUAGE sql
  SET statement_timeout = 0 AS 'SELECT pg_sleep(2)';

-- max_plan_cost: a costly plan is rejected before execution, a cheap one runs,
-- EXPLAIN (without ANALYZE) still shows the cost the cap compares with.
SET pg_hygiene.max_plan_cost = 100;
SET SESSION AUTHORIZATION lim_caps_user;
SELECT v FROM lim_caps_t WHERE id = 7;
SELECT count(*) FROM lim_caps_t a CROSS JOIN lim_caps_t b;
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (COSTS OFF) SELECT count(*) FROM lim_caps_t a CROSS JOIN lim_caps_t b;
EXPLAIN ANALYZE SELECT count(*) FROM lim_caps_t a CROSS JOIN lim_caps_t b;
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
-- superusers are exempt by default ...
SELECT count(*) FROM lim_caps_t a CROSS JOIN lim_caps_t b;
-- ... unless told otherwise
SET pg_hygiene.exempt_superusers = off;
SELECT count(*) FROM lim_caps_t a CROSS JOIN lim_caps_t b;
SET pg_hygiene.exempt_superusers = on;
RESET pg_hygiene.max_plan_cost;

-- max_join_rels: counted before planning, views and FROM subqueries included.
CREATE VIEW lim_caps_v AS SELECT a.id FROM lim_caps_t a JOIN lim_caps_t b USING (id);
GRANT SELECT ON lim_caps_v TO lim_caps_user;
SET pg_hygiene.max_join_rels = 3;
SET SESSION AUTHORIZATION lim_caps_user;
SELECT count(*) FROM lim_caps_t a, lim_caps_t b, lim_caps_t c WHERE a.id = b.id AND b.id = c.id;
SELECT count(*) FROM lim_caps_t a, lim_caps_t b, lim_caps_t c, lim_caps_t d
WHERE a.id = b.id AND b.id = c.id AND c.id = d.id;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM lim_caps_v v JOIN lim_caps_t c USING (id) JOIN lim_caps_t d USING (id);
-- each branch of a UNION and each CTE is its own join problem
SELECT count(*) FROM (SELECT 1 FROM lim_caps_t a, lim_caps_t b WHERE a.id = b.id
                      UNION ALL
                      SELECT 1 FROM lim_caps_t a, lim_caps_t b WHERE a.id = b.id) s;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_join_rels;

-- statement_timeout_max: the user may go lower, not higher, and cannot disable it;
-- SHOW reports the effective value once a statement has run.
SET pg_hygiene.statement_timeout_max = '300ms';
SET SESSION AUTHORIZATION lim_caps_user;
SET statement_timeout = 0;
SHOW statement_timeout;
SELECT pg_sleep(2);
\echo :LAST_ERROR_SQLSTATE
SET statement_timeout = '1h';
SHOW statement_timeout;
SET statement_timeout = '200ms';
SHOW statement_timeout;
SELECT 'ran' AS short_statement FROM pg_sleep(0.01);
-- a function cannot switch it off for its own body either
SELECT lim_caps_nap();
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.statement_timeout_max;
RESET statement_timeout;

-- The same set per role, with statement_timeout = 0 in the role's own settings: the
-- very first statement of a new session, and a utility statement, are covered too.
SELECT current_user AS lim_caps_orig_user \gset
ALTER ROLE lim_caps_user SET pg_hygiene.statement_timeout_max = '300ms';
ALTER ROLE lim_caps_user SET statement_timeout = 0;
\c - lim_caps_user
SELECT pg_sleep(2);
\echo :LAST_ERROR_SQLSTATE
\c - lim_caps_user
DO $$ BEGIN PERFORM pg_sleep(2); END $$;
\echo :LAST_ERROR_SQLSTATE
-- the session value is clamped after each successful statement, so SHOW right after
-- two failed ones still says 0 (the ceiling held regardless, as shown above) ...
SHOW statement_timeout;
-- ... and the clamped value once one has succeeded
SHOW statement_timeout;
\c - :lim_caps_orig_user
ALTER ROLE lim_caps_user RESET ALL;
SET pg_hygiene.queue_timeout = 0;
SET statement_timeout = 0;
SET idle_in_transaction_session_timeout = 0;

-- idle_in_transaction_timeout_max: setting it off or higher is clamped to the ceiling.
SET pg_hygiene.idle_in_transaction_timeout_max = '10min';
SET SESSION AUTHORIZATION lim_caps_user;
SET idle_in_transaction_session_timeout = 0;
SHOW idle_in_transaction_session_timeout;
BEGIN;
SET LOCAL idle_in_transaction_session_timeout = '1d';
SHOW idle_in_transaction_session_timeout;
COMMIT;
SET idle_in_transaction_session_timeout = '5s';
SHOW idle_in_transaction_session_timeout;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.idle_in_transaction_timeout_max;
RESET idle_in_transaction_session_timeout;

-- max_statements_per_second with queue_timeout 0: the second statement within the
-- same second is rejected (the bucket holds one token; the retry-after hint varies with
-- timing, so it is checked in test/t/200_limits_storm.pl).
SET pg_hygiene.max_statements_per_second = 1;
SET pg_hygiene.queue_timeout = 0;
SET SESSION AUTHORIZATION lim_caps_user;
-- (sent as one query string, so that no second passes between them)
\set VERBOSITY terse
SELECT 1 AS first \; SELECT 2 AS second;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- utility statements are never counted
SET search_path = public;
RESET SESSION AUTHORIZATION;
RESET pg_hygiene.max_statements_per_second;

-- The rejections are counted by reason.
SELECT rolname, rejected_plan_cost, rejected_join_rels, rejected_rate,
       rejected_active, rejected_total, active_now
FROM hygiene.role_stats WHERE rolname = 'lim_caps_user';
SELECT hygiene.reset_role_stats('lim_caps_user');
SELECT rejected_plan_cost + rejected_join_rels + rejected_rate AS after_reset
FROM hygiene.role_stats WHERE rolname = 'lim_caps_user';

DROP FUNCTION lim_caps_nap();
DROP VIEW lim_caps_v;
DROP TABLE lim_caps_t;
DROP ROLE lim_caps_user;
