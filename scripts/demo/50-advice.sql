-- Advice views: a big table with default autovacuum thresholds, and what the view says.
SET pg_hygiene.advice_big_table_rows = 10000;   -- "big" for this demo
CREATE TABLE demo_orders (id int PRIMARY KEY, status int NOT NULL, note text);
INSERT INTO demo_orders SELECT g, 0, repeat('x', 50) FROM generate_series(1, 20000) g;
UPDATE demo_orders SET status = 1 WHERE id % 10 = 0;
SELECT pg_stat_force_next_flush();
ANALYZE demo_orders;
SELECT relname, reltuples, n_dead_tup, vacuum_trigger_rows, insert_trigger_rows, row_bytes, write_split
FROM hygiene.table_health WHERE relname = 'demo_orders';
SELECT rule, severity, reason, alter_sql, revert_sql, needs_rewrite
FROM hygiene.table_advice WHERE relname = 'demo_orders';
-- Instance-wide settings, and who holds the xmin horizon (nobody here).
SELECT rule, setting, current_value, recommended_value FROM hygiene.database_advice;
SELECT * FROM hygiene.xmin_holders;
-- The sizing rules are plain functions: the fillfactor for 2000 updates/s on
-- 1667 pages of 244-byte rows while snapshots stay 2 s old.
SELECT * FROM hygiene.fillfactor_for(244, 1667, 2000, 2, 100);
SELECT * FROM hygiene.advice_history;
DROP TABLE demo_orders;
