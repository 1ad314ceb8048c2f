-- No-op UPDATE suppression: unchanged rows are not rewritten, row counts stay as stock.
SET pg_hygiene.noop_updates = lock;
CREATE TABLE demo_noop (id int PRIMARY KEY, name text, qty int);
INSERT INTO demo_noop SELECT g, 'item ' || g, 1 FROM generate_series(1, 1000) g;
SELECT hygiene.reset_table_write_stats('demo_noop');
-- 1000 rows matched, 990 unchanged: the command tag still says UPDATE 1000
UPDATE demo_noop SET qty = CASE WHEN id <= 10 THEN 2 ELSE 1 END;
-- only the 10 changed rows got a new version (the others keep the inserting xmin)
SELECT count(*) AS rewritten FROM demo_noop
WHERE xmin::text <> (SELECT xmin::text FROM demo_noop WHERE id = 1000);
SELECT relname, rows_updated, noop_rows, noop_suppressed, nonindexed_only
FROM hygiene.table_write_stats WHERE relname = 'demo_noop';
-- per-table override: observe only counts
SELECT hygiene.set_noop_updates('demo_noop', 'observe');
UPDATE demo_noop SET qty = qty + 0 WHERE id <= 5;
SELECT relid, mode FROM hygiene.noop_update_settings;
SELECT hygiene.set_noop_updates('demo_noop', NULL);
-- a plain self-assignment is a deliberate touch and is written
UPDATE demo_noop SET qty = qty WHERE id = 1;
SELECT relname, rows_updated, noop_rows, noop_suppressed, ineligible_self_assignment
FROM hygiene.table_write_stats WHERE relname = 'demo_noop';
DROP TABLE demo_noop;
