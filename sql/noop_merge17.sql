-- MERGE as PostgreSQL 17 extended it (WHEN NOT MATCHED BY SOURCE, RETURNING) under the
-- no-op modes: every statement returns and leaves what stock returns and leaves.  On
-- PostgreSQL 15 and 16 these statements are syntax errors (expected/noop_merge17_1.out).
SET pg_hygiene.noop_updates = lock;
CREATE TABLE nm17 (id int PRIMARY KEY, v int);
CREATE TABLE nm17_src (id int PRIMARY KEY, v int);
INSERT INTO nm17 VALUES (1, 10), (2, NULL), (3, 30), (4, 40);
INSERT INTO nm17_src VALUES (1, 10), (3, 31), (4, 40);

-- Row 2 has no source row: it takes the NOT MATCHED BY SOURCE action (DELETE), not the
-- WHEN MATCHED UPDATE, which would assign it NULL = its own value (a no-op).
MERGE INTO nm17 t USING nm17_src s ON t.id = s.id
  WHEN MATCHED THEN UPDATE SET v = s.v
  WHEN NOT MATCHED BY SOURCE THEN DELETE;
\echo rows :ROW_COUNT
SELECT * FROM nm17 ORDER BY id;

-- The same with a condition on the source side of the join.
INSERT INTO nm17 VALUES (5, NULL);
MERGE INTO nm17 t USING nm17_src s ON t.id = s.id AND s.v > 0
  WHEN MATCHED THEN UPDATE SET v = s.v
  WHEN NOT MATCHED BY SOURCE AND t.v IS NULL THEN DELETE;
\echo rows :ROW_COUNT
SELECT * FROM nm17 ORDER BY id;

-- RETURNING returns every row an action took, no-op or not.
WITH m AS (
  MERGE INTO nm17 t USING nm17_src s ON t.id = s.id
    WHEN MATCHED THEN UPDATE SET v = s.v
    RETURNING merge_action(), t.*)
SELECT * FROM m ORDER BY id;

SET pg_hygiene.noop_updates = auto;
WITH m AS (
  MERGE INTO nm17 t USING nm17_src s ON t.id = s.id
    WHEN MATCHED THEN UPDATE SET v = s.v
    RETURNING merge_action(), t.*)
SELECT * FROM m ORDER BY id;

RESET pg_hygiene.noop_updates;
DROP TABLE nm17, nm17_src;
