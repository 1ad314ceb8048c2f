-- No-op UPDATE suppression.  The default, observe, changes nothing: it counts the UPDATEs
-- that rewrite a row with the values it already has.  A DBA opts a table (or a database)
-- in to lock once the counts show the saving; row counts stay as on stock either way.
SHOW pg_hygiene.noop_updates;
CREATE TABLE demo_noop (id int PRIMARY KEY, name text, qty int);
INSERT INTO demo_noop SELECT g, 'item ' || g, 1 FROM generate_series(1, 1000) g;
SELECT hygiene.reset_table_write_stats('demo_noop');
-- observe: 1000 rows matched, all unchanged, all written as on stock
UPDATE demo_noop SET qty = 1;
SELECT relname, rows_updated, noop_rows, noop_suppressed
FROM hygiene.table_write_stats WHERE relname = 'demo_noop';
-- opt this table in (ALTER DATABASE ... SET pg_hygiene.noop_updates = lock for a database)
SELECT hygiene.set_noop_updates('demo_noop', 'lock');
SELECT relid, mode FROM hygiene.noop_update_settings;
-- 1000 rows matched, 990 unchanged: the command tag still says UPDATE 1000
UPDATE demo_noop SET qty = CASE WHEN id <= 10 THEN 2 ELSE 1 END;
-- only the 10 changed rows got a new version (the others keep the xmin of the last write)
SELECT count(*) AS rewritten FROM demo_noop
WHERE xmin::text <> (SELECT xmin::text FROM demo_noop WHERE id = 1000);
SELECT relname, rows_updated, noop_rows, noop_suppressed, nonindexed_only
FROM hygiene.table_write_stats WHERE relname = 'demo_noop';
-- a plain self-assignment is a deliberate touch and is written
UPDATE demo_noop SET qty = qty WHERE id = 1;
SELECT relname, rows_updated, noop_rows, noop_suppressed, ineligible_self_assignment
FROM hygiene.table_write_stats WHERE relname = 'demo_noop';
-- back to the setting (observe)
SELECT hygiene.set_noop_updates('demo_noop', NULL);
DROP TABLE demo_noop;
