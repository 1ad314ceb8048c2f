-- Soft index drop (issue 13, design section 6): hygiene.disable_index() hides an index
-- from the planner, hygiene.enable_index() restores it; constraint indexes, non-indexes
-- and other owners' tables are refused.  Standbys and open sessions: test/t/510_index_disable.pl.
SET pg_hygiene.debug = off;
SET enable_bitmapscan = off;
CREATE TABLE idx_t (id int PRIMARY KEY, b int, c int, e int4range,
                    CONSTRAINT idx_t_c_key UNIQUE (c),
                    CONSTRAINT idx_t_e_excl EXCLUDE USING gist (e WITH &&));
CREATE INDEX idx_t_b ON idx_t (b);
CREATE UNIQUE INDEX idx_t_b_uniq_partial ON idx_t (b) WHERE b < 0;
INSERT INTO idx_t SELECT g, g, g, int4range(g, g + 1) FROM generate_series(1, 10000) g;
ANALYZE idx_t;
-- the counters' baseline is read when the index is disabled: flush this session's first
SELECT pg_stat_force_next_flush();

EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
-- a cached generic plan of a prepared statement
SET plan_cache_mode = force_generic_plan;
PREPARE q(int) AS SELECT count(*) FROM idx_t WHERE b = $1;
EXPLAIN (COSTS OFF) EXECUTE q(5);

SELECT hygiene.disable_index('idx_t_b', 'no scans on primary and standbys since 2026-11-01');
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
EXPLAIN (COSTS OFF) EXECUTE q(5);
EXECUTE q(5);
-- writes still maintain it (test/t/510_index_disable.pl checks it with amcheck); no
-- planner setting brings it back
INSERT INTO idx_t VALUES (10001, 10001, 10001, int4range(10001, 10002));
SELECT pg_stat_force_next_flush();
SET enable_seqscan = off;
-- (the plan without the "Disabled: true" line that PostgreSQL 18 adds to the seq scan)
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF l NOT LIKE '%Disabled: true' THEN
      RETURN NEXT l;
    END IF;
  END LOOP;
END $$;
SELECT pg_temp.plan('SELECT * FROM idx_t WHERE b = 5') AS "QUERY PLAN";
RESET enable_seqscan;
SELECT index_schema, index_name, index, "table", active, disabled_by = current_user AS by_me,
       reason, expires_at, idx_scan_since_disabled, index_writes_since_disabled,
       index_bytes > 0 AS has_size
  FROM hygiene.disabled_indexes;
-- disabling again updates the reason, keeps when and the counters' baseline
SELECT hygiene.disable_index('idx_t_b', 'still unused');
SELECT index_name, reason, index_writes_since_disabled FROM hygiene.disabled_indexes;

SELECT hygiene.enable_index('idx_t_b');
SELECT hygiene.enable_index('idx_t_b');   -- nothing to enable: false
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
EXPLAIN (COSTS OFF) EXECUTE q(5);

-- a disable that rolls back changes nothing
BEGIN;
SELECT hygiene.disable_index('idx_t_b', 'try');
ROLLBACK;
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;

-- ttl: an expired row hides nothing
SELECT hygiene.disable_index('idx_t_b', 'short', '1 second');
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
SELECT pg_sleep(1.2);
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
SELECT index_name, active, expires_at IS NOT NULL AS has_expiry FROM hygiene.disabled_indexes;
SELECT hygiene.enable_index('idx_t_b');

-- a unique index that backs no constraint may be disabled
SELECT hygiene.disable_index('idx_t_b_uniq_partial', 'test');
SELECT hygiene.enable_index('idx_t_b_uniq_partial');

-- refused
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT hygiene.disable_index('idx_t_pkey', 'x');
SELECT hygiene.disable_index('idx_t_c_key', 'x');
SELECT hygiene.disable_index('idx_t_e_excl', 'x');
SELECT hygiene.disable_index('idx_t', 'x');
SELECT hygiene.disable_index('pg_class_oid_index', 'x');
SELECT hygiene.disable_index('idx_t_b', '');
SELECT hygiene.disable_index('idx_t_b', 'x', '-1 hour');
CREATE TABLE idx_p (a int) PARTITION BY RANGE (a);
CREATE INDEX idx_p_a ON idx_p (a);
SELECT hygiene.disable_index('idx_p_a', 'x');
\set VERBOSITY terse
\set SHOW_CONTEXT errors

-- only the owner of the table (or a superuser)
CREATE ROLE idx_other;
CREATE ROLE idx_owner;
CREATE TABLE idx_o (a int);
CREATE INDEX idx_o_a ON idx_o (a);
ALTER TABLE idx_o OWNER TO idx_owner;
SET ROLE idx_other;
SELECT hygiene.disable_index('idx_o_a', 'x');
INSERT INTO hygiene.disabled_index (index_schema, index_name, reason) VALUES ('public', 'idx_o_a', 'x');
-- nor an index that does not exist yet (its future owner would find it disabled)
INSERT INTO hygiene.disabled_index (index_schema, index_name, reason) VALUES ('public', 'idx_future', 'x');
RESET ROLE;
SET ROLE idx_owner;
SELECT hygiene.disable_index('idx_o_a', 'owner may');
SELECT index_name, disabled_by FROM hygiene.disabled_indexes;
RESET ROLE;
SET ROLE idx_other;
SELECT hygiene.enable_index('idx_o_a');
DELETE FROM hygiene.disabled_index;
UPDATE hygiene.disabled_index SET reason = 'mine now';
TRUNCATE hygiene.disabled_index;
RESET ROLE;
SELECT index_name, reason FROM hygiene.disabled_indexes;
SELECT hygiene.enable_index('idx_o_a');

-- a renamed index is enabled again (rows name the index); a dropped one leaves a row
-- that hides nothing
SELECT hygiene.disable_index('idx_t_b', 'rename');
ALTER INDEX idx_t_b RENAME TO idx_t_b2;
EXPLAIN (COSTS OFF) SELECT * FROM idx_t WHERE b = 5;
SELECT index_name, index, active FROM hygiene.disabled_indexes;
DELETE FROM hygiene.disabled_index;

DEALLOCATE q;
RESET plan_cache_mode;
DROP TABLE idx_t, idx_p, idx_o;
DROP ROLE idx_other;
DROP ROLE idx_owner;
