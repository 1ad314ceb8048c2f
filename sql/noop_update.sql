-- No-op UPDATE suppression: modes, eligibility, types, row counts.
-- A suppressed row keeps its ctid and xmin; a written one gets new ones.
SET pg_hygiene.noop_updates = lock;
SET pg_hygiene.debug = off;
\set VERBOSITY terse
SELECT hygiene.reset_table_write_stats() >= 0 AS reset;

CREATE TABLE nu (id int PRIMARY KEY, a int, b text, c numeric, j json, p point, x int);
CREATE INDEX ON nu (x);
INSERT INTO nu SELECT g, g, 'b' || g, 1.0, '{"k": 1}', '(1,1)', g FROM generate_series(1, 10) g;
CREATE TEMP TABLE before_nu AS SELECT id, ctid AS tid, xmin::text AS xm FROM nu;

-- How many rows of nu kept their version since before_nu was taken.
CREATE FUNCTION nu_unchanged() RETURNS bigint LANGUAGE sql AS
$$ SELECT count(*) FROM nu JOIN before_nu USING (id)
   WHERE nu.ctid = before_nu.tid AND nu.xmin::text = before_nu.xm $$;
CREATE FUNCTION nu_resnap() RETURNS void LANGUAGE sql AS
$$ TRUNCATE before_nu; INSERT INTO before_nu SELECT id, ctid, xmin::text FROM nu $$;

-- lock: 10 rows matched, 5 unchanged, row count as stock
UPDATE nu SET a = CASE WHEN id <= 5 THEN a ELSE a + 100 END;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- off: every row gets a new version
SET pg_hygiene.noop_updates = off;
UPDATE nu SET a = a + 0 WHERE id <= 5;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- observe: counted, still written
SET pg_hygiene.noop_updates = observe;
UPDATE nu SET a = a + 0 WHERE id <= 5;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- auto (autocommit, top level): skipped
SET pg_hygiene.noop_updates = auto;
UPDATE nu SET a = a + 0 WHERE id <= 5;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

SET pg_hygiene.noop_updates = lock;

-- Stored image, not "=": 1.0 -> 1.00 is a change, 1.0 -> 1.0 is not
UPDATE nu SET c = 1.00 WHERE id = 1;
\echo rows :ROW_COUNT
UPDATE nu SET c = 1.0 WHERE id = 2;
\echo rows :ROW_COUNT
SELECT id, c::text FROM nu WHERE id <= 2 ORDER BY id;
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- json and point have no "=": same text is a no-op, different spacing is a change
UPDATE nu SET j = '{"k": 1}', p = '(1,1)' WHERE id = 3;
\echo rows :ROW_COUNT
UPDATE nu SET j = '{"k":1}' WHERE id = 4;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- NULL handling
UPDATE nu SET b = NULL WHERE id = 5;
\echo rows :ROW_COUNT
UPDATE nu SET b = NULL WHERE id = 5;
\echo rows :ROW_COUNT
UPDATE nu SET b = 'b5' WHERE id = 5;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- A change to an indexed column (x) is counted apart from other changes
UPDATE nu SET x = x + 1000 WHERE id = 10;
\echo rows :ROW_COUNT
UPDATE nu SET x = x - 1000 WHERE id = 10;
\echo rows :ROW_COUNT
SELECT nu_resnap();

-- xml
CREATE TABLE nu_xml (id int PRIMARY KEY, d xml);
INSERT INTO nu_xml VALUES (1, '<a>1</a>');
SELECT ctid AS t0 FROM nu_xml \gset
UPDATE nu_xml SET d = '<a>1</a>';
\echo rows :ROW_COUNT
SELECT ctid = :'t0' AS kept FROM nu_xml;
UPDATE nu_xml SET d = '<a >1</a>';
\echo rows :ROW_COUNT
SELECT ctid = :'t0' AS kept FROM nu_xml;

-- TOAST: a large value rewritten with the same content is a no-op
CREATE TABLE nu_toast (id int PRIMARY KEY, big text);
ALTER TABLE nu_toast ALTER big SET STORAGE EXTERNAL;
INSERT INTO nu_toast VALUES (1, repeat('toast', 10000)), (2, repeat('toast', 10000));
SELECT ctid AS t1 FROM nu_toast WHERE id = 1 \gset
SELECT ctid AS t2 FROM nu_toast WHERE id = 2 \gset
UPDATE nu_toast SET big = repeat('toast', 10000);
\echo rows :ROW_COUNT
UPDATE nu_toast SET big = big || '' WHERE id = 2;
\echo rows :ROW_COUNT
SELECT ctid = :'t1' AS kept1 FROM nu_toast WHERE id = 1;
SELECT ctid = :'t2' AS kept2 FROM nu_toast WHERE id = 2;
UPDATE nu_toast SET big = repeat('toast', 10000) || '!' WHERE id = 2;
\echo rows :ROW_COUNT
SELECT ctid = :'t2' AS kept2, length(big) FROM nu_toast WHERE id = 2;

-- Eligibility: RETURNING is never suppressed
UPDATE nu SET a = a + 0 WHERE id = 6 RETURNING id;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- Eligibility: a plain self-assignment is a deliberate touch
UPDATE nu SET a = a, b = b WHERE id = 7;
\echo rows :ROW_COUNT
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- Eligibility: session_replication_role = replica
SET session_replication_role = replica;
UPDATE nu SET a = a + 0 WHERE id = 8;
\echo rows :ROW_COUNT
RESET session_replication_role;
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- REPEATABLE READ: suppressed (the row lock raises the same conflicts as stock);
-- SERIALIZABLE: written as stock (a skipped row would not register its write for SSI)
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE nu SET a = a + 0 WHERE id = 8;
\echo rows :ROW_COUNT
COMMIT;
SELECT nu_unchanged() AS unchanged;
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE nu SET a = a + 0 WHERE id = 8;
\echo rows :ROW_COUNT
COMMIT;
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- Eligibility: user AFTER ROW UPDATE trigger
CREATE TABLE nu_after (id int PRIMARY KEY, a int);
INSERT INTO nu_after VALUES (1, 1);
CREATE FUNCTION nu_after_fn() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'after row trigger fired for %', NEW.id; RETURN NULL; END $$;
CREATE TRIGGER nu_after_t AFTER UPDATE ON nu_after FOR EACH ROW EXECUTE FUNCTION nu_after_fn();
SELECT ctid AS ta FROM nu_after \gset
UPDATE nu_after SET a = 1;
\echo rows :ROW_COUNT
SELECT ctid = :'ta' AS kept FROM nu_after;

-- Eligibility: foreign tables are counted, never suppressed (here through postgres_fdw
-- on a loopback connection; the remote side is an ordinary table)
CREATE EXTENSION postgres_fdw;
CREATE TABLE nu_ft_base (id int PRIMARY KEY, a int);
INSERT INTO nu_ft_base VALUES (1, 1), (2, 2);
DO $$ BEGIN
  EXECUTE format('CREATE SERVER nu_loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname %L, port %L)',
                 current_database(), current_setting('port'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER nu_loop;
CREATE FOREIGN TABLE nu_ft (id int, a int) SERVER nu_loop OPTIONS (table_name 'nu_ft_base');
-- random() keeps the UPDATE local, so rows pass through the executor here
UPDATE nu_ft SET a = a + 0 WHERE random() >= 0;
\echo rows :ROW_COUNT
SELECT id, a FROM nu_ft ORDER BY id;

-- Statement-level triggers still fire
CREATE FUNCTION nu_stmt_fn() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE NOTICE 'statement trigger fired'; RETURN NULL; END $$;
CREATE TRIGGER nu_stmt_t AFTER UPDATE ON nu FOR EACH STATEMENT EXECUTE FUNCTION nu_stmt_fn();
UPDATE nu SET a = a + 0 WHERE id = 9;
\echo rows :ROW_COUNT
DROP TRIGGER nu_stmt_t ON nu;
SELECT nu_unchanged() AS unchanged;
SELECT nu_resnap();

-- BEFORE ROW triggers: compared after them
CREATE TABLE nu_before (id int PRIMARY KEY, a int, touched int DEFAULT 0);
INSERT INTO nu_before VALUES (1, 1), (2, 2);
CREATE FUNCTION nu_before_fn() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF NEW.id = 2 THEN NEW.touched := OLD.touched + 1; END IF; RETURN NEW; END $$;
CREATE TRIGGER nu_before_t BEFORE UPDATE ON nu_before FOR EACH ROW EXECUTE FUNCTION nu_before_fn();
CREATE TEMP TABLE before_b AS SELECT id, ctid AS tid FROM nu_before;
UPDATE nu_before SET a = a + 0;
\echo rows :ROW_COUNT
SELECT b.id, b.ctid = o.tid AS kept, b.touched FROM nu_before b JOIN before_b o USING (id) ORDER BY id;

-- ... but not when the UPDATE joins another table (a row could come twice and
-- its triggers would fire twice): written as stock
CREATE TEMP TABLE nu_before_src (id int);
INSERT INTO nu_before_src VALUES (1);
TRUNCATE before_b; INSERT INTO before_b SELECT id, ctid FROM nu_before;
UPDATE nu_before b SET a = b.a + 0 FROM nu_before_src s WHERE b.id = s.id;
\echo rows :ROW_COUNT
SELECT b.id, b.ctid = o.tid AS kept FROM nu_before b JOIN before_b o USING (id) WHERE id = 1;

-- Generated columns
CREATE TABLE nu_gen (id int PRIMARY KEY, a int, g int GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO nu_gen (id, a) VALUES (1, 1), (2, 2);
-- a partial index makes "a" an indexed column (changes to it can never be HOT)
CREATE INDEX nu_gen_partial ON nu_gen (id) WHERE a > 100;
CREATE TEMP TABLE before_g AS SELECT id, ctid AS tid FROM nu_gen;
UPDATE nu_gen SET a = CASE id WHEN 1 THEN 1 ELSE 3 END;
\echo rows :ROW_COUNT
SELECT n.id, n.ctid = o.tid AS kept, n.a, n.g FROM nu_gen n JOIN before_g o USING (id) ORDER BY id;

-- Partitions (cross-partition moves are changes)
CREATE TABLE nu_part (id int, k int, a int) PARTITION BY RANGE (k);
CREATE TABLE nu_part1 PARTITION OF nu_part FOR VALUES FROM (0) TO (10);
CREATE TABLE nu_part2 PARTITION OF nu_part FOR VALUES FROM (10) TO (20);
INSERT INTO nu_part VALUES (1, 1, 1), (2, 11, 2), (3, 12, 3);
CREATE TEMP TABLE before_p AS SELECT id, tableoid::regclass AS part, ctid AS tid FROM nu_part;
UPDATE nu_part SET a = CASE id WHEN 3 THEN 30 ELSE a END;
\echo rows :ROW_COUNT
UPDATE nu_part SET k = 5 WHERE id = 2;
\echo rows :ROW_COUNT
SELECT n.id, n.tableoid::regclass AS part, n.ctid = o.tid AND n.tableoid::regclass = o.part AS kept
FROM nu_part n JOIN before_p o USING (id) ORDER BY id;

-- An override on a partitioned table applies to its partitions; a partition's own wins
SELECT hygiene.set_noop_updates('nu_part', 'off');
SELECT hygiene.set_noop_updates('nu_part2', 'lock');
TRUNCATE before_p; INSERT INTO before_p SELECT id, tableoid::regclass, ctid FROM nu_part;
UPDATE nu_part SET a = a + 0;
\echo rows :ROW_COUNT
SELECT n.id, n.tableoid::regclass AS part, n.ctid = o.tid AS kept
FROM nu_part n JOIN before_p o USING (id) ORDER BY id;
SELECT hygiene.set_noop_updates('nu_part', NULL);
SELECT hygiene.set_noop_updates('nu_part2', NULL);

-- INSERT ... ON CONFLICT DO UPDATE without RETURNING: suppressed
CREATE TABLE nu_upsert (id int PRIMARY KEY, a int);
INSERT INTO nu_upsert VALUES (1, 1), (2, 2);
\echo rows :ROW_COUNT
CREATE TEMP TABLE before_u AS SELECT id, ctid AS tid FROM nu_upsert;
INSERT INTO nu_upsert VALUES (1, 1), (2, 20), (3, 3)
  ON CONFLICT (id) DO UPDATE SET a = excluded.a;
\echo rows :ROW_COUNT
SELECT n.id, n.a, n.ctid = o.tid AS kept FROM nu_upsert n LEFT JOIN before_u o USING (id) ORDER BY id;
-- ... with RETURNING: written as stock
TRUNCATE before_u; INSERT INTO before_u SELECT id, ctid FROM nu_upsert;
INSERT INTO nu_upsert VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET a = excluded.a RETURNING id;
\echo rows :ROW_COUNT
SELECT n.id, n.ctid = o.tid AS kept FROM nu_upsert n JOIN before_u o USING (id) WHERE id = 1;
-- ... a row proposed twice fails exactly as on stock
INSERT INTO nu_upsert VALUES (1, 1), (1, 1) ON CONFLICT (id) DO UPDATE SET a = excluded.a;
\echo rows :ROW_COUNT

-- MERGE ... WHEN MATCHED THEN UPDATE
CREATE TABLE nu_merge (id int PRIMARY KEY, a int);
INSERT INTO nu_merge VALUES (1, 1), (2, 2);
CREATE TEMP TABLE before_m AS SELECT id, ctid AS tid FROM nu_merge;
MERGE INTO nu_merge t USING (VALUES (1, 1), (2, 20), (3, 3)) AS s(id, a) ON t.id = s.id
  WHEN MATCHED THEN UPDATE SET a = s.a
  WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.a);
\echo rows :ROW_COUNT
SELECT n.id, n.a, n.ctid = o.tid AS kept FROM nu_merge n LEFT JOIN before_m o USING (id) ORDER BY id;
-- a target row matched twice fails exactly as on stock, even when a no-op
MERGE INTO nu_merge t USING (VALUES (1, 1), (1, 1)) AS s(id, a) ON t.id = s.id
  WHEN MATCHED THEN UPDATE SET a = s.a;
\echo rows :ROW_COUNT
-- a volatile action is evaluated once, by the executor only: written as stock
TRUNCATE before_m; INSERT INTO before_m SELECT id, ctid FROM nu_merge;
MERGE INTO nu_merge t USING (VALUES (1, 1)) AS s(id, a) ON t.id = s.id
  WHEN MATCHED AND random() >= 0 THEN UPDATE SET a = s.a;
\echo rows :ROW_COUNT
SELECT n.id, n.ctid = o.tid AS kept FROM nu_merge n JOIN before_m o USING (id) WHERE id = 1;

-- UPDATE ... FROM with a target row joined twice counts it once, as stock
CREATE TABLE nu_src (id int, a int);
INSERT INTO nu_src VALUES (1, 1), (1, 1), (2, 2);
UPDATE nu_merge t SET a = s.a FROM nu_src s WHERE t.id = s.id;
\echo rows :ROW_COUNT

-- Row counts: GET DIAGNOSTICS and SPI (plpgsql)
DO $$
DECLARE n bigint;
BEGIN
  UPDATE nu SET a = a + 0 WHERE id <= 4;
  GET DIAGNOSTICS n = ROW_COUNT;
  RAISE NOTICE 'ROW_COUNT = %', n;
  EXECUTE 'UPDATE nu SET a = a + 0 WHERE id <= 3';
  GET DIAGNOSTICS n = ROW_COUNT;
  RAISE NOTICE 'dynamic ROW_COUNT = %', n;
  UPDATE nu SET a = a + 0 WHERE id = 1;
  RAISE NOTICE 'FOUND = %', FOUND;
END $$;
SELECT nu_unchanged() AS unchanged;

-- WHERE CURRENT OF
BEGIN;
DECLARE cur CURSOR FOR SELECT * FROM nu WHERE id = 10 FOR UPDATE;
FETCH cur;
UPDATE nu SET a = a + 0 WHERE CURRENT OF cur;
\echo rows :ROW_COUNT
COMMIT;
SELECT nu_unchanged() AS unchanged;

-- EXPLAIN ANALYZE counts the rows the scan produced, suppressed or not
-- (without what differs between versions: 18 shows buffers and rows=N.00)
CREATE FUNCTION pg_temp.explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, '(rows=[0-9]+)\.00 ', '\1 ', 'g');
  END LOOP;
END $$;
SELECT pg_temp.explain_analyze('UPDATE nu SET a = a + 0 WHERE id <= 3') AS plan;
SELECT nu_unchanged() AS unchanged;

-- pg_hygiene.debug shows the path taken per table and the counts per statement
SET pg_hygiene.debug = on;
UPDATE nu SET a = a + 0 WHERE id <= 2;
UPDATE nu_before SET a = a + 0 WHERE id = 1;
UPDATE nu SET a = a + 0 WHERE id = 1 RETURNING id;
SET pg_hygiene.debug = off;

-- Per-table override wins over the setting
SELECT hygiene.set_noop_updates('nu_xml', 'off');
SELECT relid, mode FROM hygiene.noop_update_settings;
SELECT ctid AS t0 FROM nu_xml \gset
UPDATE nu_xml SET id = id + 0;
\echo rows :ROW_COUNT
SELECT ctid = :'t0' AS kept FROM nu_xml;
SELECT hygiene.set_noop_updates('nu_xml', NULL);
SELECT ctid AS t0 FROM nu_xml \gset
UPDATE nu_xml SET id = id + 0;
\echo rows :ROW_COUNT
SELECT ctid = :'t0' AS kept FROM nu_xml;
SELECT hygiene.set_noop_updates('nu_xml', 'sometimes');
SELECT hygiene.set_noop_updates('nu_xml', 'auto');
DROP TABLE nu_xml;
SELECT count(*) AS overrides_left FROM hygiene.noop_update_settings;

-- What the statistics saw
SELECT relname, rows_updated, noop_rows, noop_suppressed, ineligible_returning,
       ineligible_after_trigger, ineligible_self_assignment, ineligible_replica_role,
       ineligible_other, indexed_changed, nonindexed_only
FROM hygiene.table_write_stats WHERE relname LIKE 'nu%' ORDER BY relname COLLATE "C";

-- A non-superuser can neither switch it off nor change overrides
CREATE ROLE nu_user;
GRANT UPDATE, SELECT ON nu TO nu_user;
SET ROLE nu_user;
SET pg_hygiene.noop_updates = off;
SELECT hygiene.set_noop_updates('nu', 'off');
UPDATE nu SET a = a + 0 WHERE id = 1;
\echo rows :ROW_COUNT
RESET ROLE;
REVOKE ALL ON nu FROM nu_user;
DROP ROLE nu_user;

-- The internal trigger function refuses to be used directly
CREATE TRIGGER nu_bad BEFORE UPDATE ON nu FOR EACH ROW EXECUTE FUNCTION hygiene._noop_update_trigger();
UPDATE nu SET a = a + 1 WHERE id = 1;
\echo rows :ROW_COUNT
DROP TRIGGER nu_bad ON nu;

DROP TABLE nu, nu_toast, nu_after, nu_before, nu_gen, nu_part, nu_upsert, nu_merge, nu_src;
DROP FOREIGN TABLE nu_ft;
DROP USER MAPPING FOR CURRENT_USER SERVER nu_loop;
DROP SERVER nu_loop;
DROP TABLE nu_ft_base;
DROP EXTENSION postgres_fdw;
DROP FUNCTION nu_unchanged, nu_resnap, nu_after_fn, nu_stmt_fn, nu_before_fn;
