-- Per-role write budget (pg_hygiene.max_wal_bytes_per_second): the role is slowed,
-- never failed, also inside one long statement.  Only lower bounds on the time slept
-- are checked (the budget forces them); nothing here depends on machine speed.
SET pg_hygiene.max_active_statements = 0;
SET pg_hygiene.max_active_total = 0;
SET pg_hygiene.max_statements_per_second = 0;
SET pg_hygiene.max_wal_bytes_per_second = 0;
SET pg_hygiene.statement_timeout_max = 0;
SET pg_hygiene.idle_in_transaction_timeout_max = 0;
SET pg_hygiene.max_join_rels = 0;
SET pg_hygiene.max_plan_cost = 0;
SET pg_hygiene.exempt_superusers = on;

CREATE ROLE lim_wal_user;
CREATE TABLE lim_wal_t (id int, pad text);
GRANT INSERT, UPDATE, SELECT ON lim_wal_t TO lim_wal_user;
CREATE FUNCTION lim_wal_fill(n int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lim_wal_t SELECT g, repeat('w', 200) FROM generate_series(1, n) g;
  RETURN n;
END $$;

-- A 1MB/s budget; one INSERT writing about 1.5MB of WAL must sleep for most of it,
-- inside the statement (per-row charging), and still insert every row.
SET pg_hygiene.max_wal_bytes_per_second = '1MB';
SET SESSION AUTHORIZATION lim_wal_user;
INSERT INTO lim_wal_t SELECT g, repeat('w', 200) FROM generate_series(1, 6000) g;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rows_inserted FROM lim_wal_t;
SELECT charged_wal_bytes > 1000000 AS charged,
       throttled_s > 0.5 AS slowed_down
FROM hygiene.role_stats WHERE rolname = 'lim_wal_user';

-- WAL written by a statement inside a function is charged too.
SELECT hygiene.reset_role_stats('lim_wal_user');
SET SESSION AUTHORIZATION lim_wal_user;
SELECT lim_wal_fill(6000);
RESET SESSION AUTHORIZATION;
SELECT charged_wal_bytes > 1000000 AS charged,
       throttled_s > 0.5 AS slowed_down
FROM hygiene.role_stats WHERE rolname = 'lim_wal_user';

-- Superusers are exempt: nothing is charged to them.
SELECT hygiene.reset_role_stats(NULL) >= 0 AS reset;
INSERT INTO lim_wal_t SELECT g, repeat('w', 200) FROM generate_series(1, 6000) g;
SELECT coalesce(sum(throttled_s), 0) AS superuser_throttled_s
FROM hygiene.role_stats WHERE rolname = current_user;
RESET pg_hygiene.max_wal_bytes_per_second;

DROP FUNCTION lim_wal_fill(int);
DROP TABLE lim_wal_t;
DROP ROLE lim_wal_user;
