-- hygiene.table_write_stats: shape, emptiness after a reset, privileges.
SELECT hygiene.reset_table_write_stats() >= 0 AS reset_all;
SELECT count(*) AS tracked FROM hygiene.table_write_stats;

SELECT column_name, data_type
FROM information_schema.columns
WHERE table_schema = 'hygiene' AND table_name = 'table_write_stats'
ORDER BY ordinal_position;

-- Capacity and overflow are visible.
SELECT table_stats_entries, table_stats_max, table_stats_dropped FROM hygiene.status;

-- Resetting one table that has no entry removes nothing.
CREATE TABLE ts_t (id int PRIMARY KEY);
SELECT hygiene.reset_table_write_stats('ts_t');
SELECT hygiene.reset_table_write_stats('no_such_table');

-- Anyone may read, only privileged roles may reset.
CREATE ROLE hygiene_ts_user;
SET ROLE hygiene_ts_user;
SELECT count(*) >= 0 AS can_read FROM hygiene.table_write_stats;
SELECT hygiene.reset_table_write_stats();
RESET ROLE;
DROP ROLE hygiene_ts_user;
DROP TABLE ts_t;
