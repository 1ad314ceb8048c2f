-- DDL guard and partitioned tables: ON ONLY the parent passes, a plain CREATE INDEX
-- on the parent (it builds on every partition) or on a big partition is blocked;
-- ALTER TABLE rewrites are caught on each partition.
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'table_rewrite,index_not_concurrent,full_scan_constraint,ddl_timeout';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '5s';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

CREATE TABLE ddlpt (id int, n int) PARTITION BY RANGE (id);
CREATE TABLE ddlpt_big PARTITION OF ddlpt FOR VALUES FROM (0) TO (10000);
CREATE TABLE ddlpt_empty PARTITION OF ddlpt FOR VALUES FROM (10000) TO (20000);
INSERT INTO ddlpt SELECT g, g FROM generate_series(1, 3000) g;

-- passes: catalog only, the partitions are untouched
CREATE INDEX ddlpt_n ON ONLY ddlpt (n);
-- blocked: builds on every partition, and has no CONCURRENTLY form
CREATE INDEX ddlpt_n2 ON ddlpt (n);
-- blocked: a big partition; the empty one passes
CREATE INDEX ddlpt_big_n ON ddlpt_big (n);
CREATE INDEX ddlpt_empty_n ON ddlpt_empty (n);
-- the recipe from the hint
CREATE INDEX CONCURRENTLY ddlpt_big_n ON ddlpt_big (n);
ALTER INDEX ddlpt_n ATTACH PARTITION ddlpt_big_n;
ALTER INDEX ddlpt_n ATTACH PARTITION ddlpt_empty_n;
SELECT indisvalid FROM pg_index WHERE indexrelid = 'ddlpt_n'::regclass;
-- dropping the partitioned index has no CONCURRENTLY form
DROP INDEX ddlpt_n;
-- rewrites are checked partition by partition
ALTER TABLE ddlpt ALTER COLUMN n TYPE bigint;
-- once the data is gone, the same statement passes
TRUNCATE ddlpt_big;
ALTER TABLE ddlpt ALTER COLUMN n TYPE bigint;
INSERT INTO ddlpt SELECT g, g FROM generate_series(1, 3000) g;
-- constraints: the parent counts its partitions' size
ALTER TABLE ddlpt ADD CONSTRAINT ddlpt_n_pos CHECK (n > 0);
ALTER TABLE ddlpt ADD CONSTRAINT ddlpt_n_pos CHECK (n > 0) NOT VALID;
-- a new partition is not a new table
SET pg_hygiene.ddl_rules = 'all';
CREATE TABLE ddlpt_more PARTITION OF ddlpt FOR VALUES FROM (20000) TO (30000);

SELECT action, rule, relation, message FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP TABLE ddlpt;
