-- With no rules, new sessions do not read hygiene.query_rule: they take the
-- "no rules" that a session recorded for the current version.  With rules,
-- every session loads them.  (Counted by the table's sequential scans.)
SELECT count(*) AS rules FROM hygiene.query_rule;
-- A new version that nobody has read yet; the next statement reads the table.
SELECT hygiene.reload_query_rules();
SELECT 1 AS reads_the_table;
SELECT pg_stat_force_next_flush();
SELECT seq_scan AS scans_before FROM pg_stat_user_tables
WHERE relid = 'hygiene.query_rule'::regclass \gset

\c
SELECT 1 AS new_session;
SELECT pg_stat_force_next_flush();
SELECT seq_scan = :scans_before AS not_read FROM pg_stat_user_tables
WHERE relid = 'hygiene.query_rule'::regclass;

-- With a rule, a new session loads it.
SELECT hygiene.block_query(45, 'some digest') > 0 AS added;
SELECT pg_stat_force_next_flush();
SELECT seq_scan AS scans_with_rule FROM pg_stat_user_tables
WHERE relid = 'hygiene.query_rule'::regclass \gset
\c
SELECT 1 AS new_session;
SELECT pg_stat_force_next_flush();
SELECT seq_scan > :scans_with_rule AS read FROM pg_stat_user_tables
WHERE relid = 'hygiene.query_rule'::regclass;
SELECT hygiene.remove_query_rule(45) > 0 AS removed;
