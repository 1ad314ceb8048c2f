-- Per-role limits (docs/limits.md): policy is ALTER ROLE ... SET pg_hygiene.*.
CREATE ROLE demo_report LOGIN;
ALTER ROLE demo_report SET pg_hygiene.max_active_statements = 4;
ALTER ROLE demo_report SET pg_hygiene.priority = low;
ALTER ROLE demo_report SET pg_hygiene.max_join_rels = 3;
ALTER ROLE demo_report SET pg_hygiene.max_plan_cost = 10000;
ALTER ROLE demo_report SET pg_hygiene.statement_timeout_max = '500ms';
SELECT unnest(setconfig) AS demo_report_policy
FROM pg_db_role_setting WHERE setrole = 'demo_report'::regrole;

CREATE TABLE demo_limits (id int PRIMARY KEY, v int);
INSERT INTO demo_limits SELECT g, g FROM generate_series(1, 10000) g;
ANALYZE demo_limits;
GRANT SELECT ON demo_limits TO demo_report;

-- Act as a fresh demo_report session would (its settings, its identity).
SET pg_hygiene.max_join_rels = 3;
SET pg_hygiene.max_plan_cost = 10000;
SET pg_hygiene.statement_timeout_max = '500ms';
SET SESSION AUTHORIZATION demo_report;

-- It cannot lift its own limit.
DO $$
BEGIN
  SET pg_hygiene.max_plan_cost = 0;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'as demo_report: %', SQLERRM;
END $$;

-- A cheap query runs; an expensive one is rejected before it runs (54R01) ...
SELECT v FROM demo_limits WHERE id = 42;
DO $$
BEGIN
  PERFORM count(*) FROM demo_limits a CROSS JOIN demo_limits b;
EXCEPTION WHEN SQLSTATE '54R01' THEN
  RAISE NOTICE 'rejected: %', SQLERRM;
END $$;

-- ... so is a join of four tables (54R02) ...
DO $$
BEGIN
  PERFORM 1 FROM demo_limits a JOIN demo_limits b USING (id)
    JOIN demo_limits c USING (id) JOIN demo_limits d USING (id);
EXCEPTION WHEN SQLSTATE '54R02' THEN
  RAISE NOTICE 'rejected: %', SQLERRM;
END $$;

-- ... and statement_timeout cannot be switched off past the 500ms ceiling.
SET statement_timeout = 0;
SHOW statement_timeout;
DO $$
BEGIN
  PERFORM pg_sleep(2);
EXCEPTION WHEN query_canceled THEN
  RAISE NOTICE 'cancelled by the ceiling: %', SQLERRM;
END $$;

RESET SESSION AUTHORIZATION;
RESET statement_timeout;
RESET pg_hygiene.max_join_rels;
RESET pg_hygiene.max_plan_cost;
RESET pg_hygiene.statement_timeout_max;

-- What the limiter saw, per role.
SELECT rolname, admitted_limited, rejected_plan_cost, rejected_join_rels, active_now
FROM hygiene.role_stats WHERE rolname = 'demo_report';
