-- hygiene.table_advice: each rule fires on the workload made for it and stays
-- silent on its near neighbour.  Every table has autovacuum off so that the
-- statistics stay where the workload left them.
\set VERBOSITY terse
SET pg_hygiene.advice_sample_interval = 0;   -- a sample on every query
SET pg_hygiene.advice_big_table_rows = 5000;
SET pg_hygiene.advice_min_updates = 100;
SET pg_hygiene.advice_min_table_size = '64kB';
SELECT hygiene.reset_table_write_stats() >= 0 AS reset;
CREATE SCHEMA adv;

-- The workloads.
CREATE TABLE adv.big (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.big_tuned (id int PRIMARY KEY, v int, pad text)
  WITH (autovacuum_enabled = off, autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_insert_threshold = 100,
        autovacuum_analyze_scale_factor = 0.01);
CREATE TABLE adv.small (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.ins_only (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.upd_heavy (id int PRIMARY KEY, v int, pad text)
  WITH (autovacuum_enabled = off, autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_analyze_scale_factor = 0.01);
CREATE TABLE adv.stale (id int, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.dead_many (id int, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.dead_few (id int, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.bloat (id int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.ff_unused (id int, pad text) WITH (autovacuum_enabled = off, fillfactor = 70);
CREATE TABLE adv.ff_used (id int, pad text) WITH (autovacuum_enabled = off, fillfactor = 70);
INSERT INTO adv.big SELECT g, 0, repeat('x', 100) FROM generate_series(1, 10000) g;
UPDATE adv.big SET v = 1 WHERE id <= 2000;
INSERT INTO adv.ins_only SELECT g, 0, repeat('x', 100) FROM generate_series(1, 10000) g;
INSERT INTO adv.big_tuned SELECT g, 0, repeat('x', 100) FROM generate_series(1, 10000) g;
INSERT INTO adv.small SELECT g, 0 FROM generate_series(1, 1000) g;
INSERT INTO adv.upd_heavy SELECT g, 0, repeat('x', 100) FROM generate_series(1, 10000) g;
UPDATE adv.upd_heavy SET v = 1;
INSERT INTO adv.stale SELECT g, 0 FROM generate_series(1, 2000) g;
INSERT INTO adv.dead_many SELECT g, 0 FROM generate_series(1, 1000) g;
INSERT INTO adv.dead_few SELECT g, 0 FROM generate_series(1, 1000) g;
INSERT INTO adv.bloat SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g;
INSERT INTO adv.ff_unused SELECT g, repeat('x', 100) FROM generate_series(1, 10000) g;
INSERT INTO adv.ff_used SELECT g, repeat('x', 100) FROM generate_series(1, 10000) g;
UPDATE adv.ff_used SET pad = repeat('y', 100) WHERE id % 5 = 0;
SELECT pg_stat_force_next_flush();
-- ANALYZE after the inserts are in the statistics, or they would count as
-- changes since the analyze.
ANALYZE adv.big, adv.ins_only, adv.big_tuned, adv.small, adv.upd_heavy, adv.dead_many, adv.dead_few,
        adv.ff_unused, adv.ff_used;
DELETE FROM adv.dead_many WHERE id <= 500;
DELETE FROM adv.dead_few WHERE id <= 100;
DELETE FROM adv.bloat WHERE id % 10 <> 0;
SELECT pg_stat_force_next_flush();
VACUUM adv.bloat;
ANALYZE adv.bloat;
SELECT pg_stat_force_next_flush();

-- What the view sees, and what it recommends.
SELECT relname, reltuples, vacuum_trigger_rows, insert_trigger_rows, analyze_trigger_rows,
       n_dead_tup, autovacuum_enabled, round(insert_share::numeric, 2) AS insert_share,
       bloat_ratio > 2 AS bloated
FROM hygiene.table_health WHERE schemaname = 'adv' ORDER BY relname COLLATE "C";

SELECT relname, rule, severity, needs_rewrite
FROM hygiene.table_advice WHERE schemaname = 'adv' ORDER BY relname COLLATE "C", rule COLLATE "C";

-- The statements, in full, for the trigger rules of the big table.
SELECT relname, rule, reason, alter_sql, revert_sql
FROM hygiene.table_advice WHERE relname IN ('big', 'ins_only') AND schemaname = 'adv'
ORDER BY relname COLLATE "C", rule COLLATE "C";

-- Applying alter_sql silences the rule; revert_sql puts the table back.
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT alter_sql FROM hygiene.table_advice
            WHERE schemaname = 'adv' AND relname IN ('big', 'ins_only') AND rule LIKE '%trigger%' LOOP
    EXECUTE s;
  END LOOP;
END $$;
SELECT relname, reloptions FROM pg_class WHERE oid IN ('adv.big'::regclass, 'adv.ins_only'::regclass) ORDER BY 1;
-- (big keeps autovacuum_disabled: its 2000 dead rows are past the new trigger)
SELECT relname, rule FROM hygiene.table_advice
WHERE schemaname = 'adv' AND relname IN ('big', 'ins_only') ORDER BY 1, 2;
SELECT hygiene._reloptions_revert('adv.big', (SELECT reloptions FROM pg_class WHERE oid = 'adv.big'::regclass),
                                  '{autovacuum_vacuum_scale_factor,fillfactor}') AS revert;

-- ---- HOT, fillfactor and no-op rules: they need the executor's split ----
-- The no-op suppressor's hook counts them; observe mode writes every row as
-- stock does, so pg_stat's counts match the workload.
SET pg_hygiene.noop_updates = observe;
CREATE TABLE adv.hot_full (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.hot_idx (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE INDEX hot_idx_v ON adv.hot_idx (v);
CREATE TABLE adv.hot_roomy (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off, fillfactor = 60);
CREATE TABLE adv.no_hook (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.noop_many (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.noop_few (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
INSERT INTO adv.hot_full SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g;
INSERT INTO adv.hot_idx SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g;
INSERT INTO adv.hot_roomy SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g;
INSERT INTO adv.no_hook SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g;
INSERT INTO adv.noop_many SELECT g, 0 FROM generate_series(1, 2000) g;
INSERT INTO adv.noop_few SELECT g, 0 FROM generate_series(1, 2000) g;
SELECT pg_stat_force_next_flush();
ANALYZE adv.hot_full, adv.hot_idx, adv.hot_roomy, adv.no_hook, adv.noop_many, adv.noop_few;
SELECT pg_stat_force_next_flush();
SELECT count(*) > 0 AS baseline_sample FROM hygiene.table_health;
-- hot_full: full pages, only a non-indexed column changes: most updates cannot be HOT.
UPDATE adv.hot_full SET pad = repeat('y', 100);
-- hot_idx: the indexed column changes: never HOT, whatever the fillfactor.
UPDATE adv.hot_idx SET v = id;
-- hot_roomy: room on every page: the same kind of update is HOT.
UPDATE adv.hot_roomy SET pad = repeat('y', 100) WHERE id % 4 = 0;
-- no_hook: updates the hook did not count (suppressor off): the split is unknown.
SET pg_hygiene.noop_updates = off;
UPDATE adv.no_hook SET pad = repeat('y', 100);
SET pg_hygiene.noop_updates = observe;
-- noop_many: half the updated rows were no-ops; noop_few: 5%.
UPDATE adv.noop_many SET v = 0 WHERE id <= 1000;
UPDATE adv.noop_many SET v = 1 WHERE id > 1000;
UPDATE adv.noop_few SET v = 0 WHERE id <= 100;
UPDATE adv.noop_few SET v = 1 WHERE id > 100;
SELECT pg_stat_force_next_flush();

SELECT relname, history_samples, write_split, hook_rows_updated, updates_indexed_changed,
       updates_hot_eligible, hot_eligible_failed > 0.5 * updates_hot_eligible AS mostly_failed,
       round(noop_share::numeric, 2) AS noop_share, indexes
FROM hygiene.table_health
WHERE schemaname = 'adv' AND relname IN ('hot_full', 'hot_idx', 'hot_roomy', 'no_hook', 'noop_many', 'noop_few')
ORDER BY relname COLLATE "C";

SELECT relname, rule, severity, needs_rewrite, alter_sql ~ '^ALTER TABLE adv.hot_full SET \(fillfactor = \d+\);$' AS ff_sql
FROM hygiene.table_advice
WHERE schemaname = 'adv' AND relname IN ('hot_full', 'hot_idx', 'hot_roomy', 'no_hook', 'noop_many', 'noop_few')
ORDER BY relname COLLATE "C", rule COLLATE "C";
-- hot_blocked_by_index recommends disabling, never dropping, with the statistics' age (the
-- time varies: masked) and the query to run on each standby (O2)
SELECT regexp_replace(reason, 'reset [0-9: -]+ UTC \([0-9]+ [a-z]+ ago\)', 'reset <time> (<age> ago)', 'g') AS reason,
       regexp_replace(alter_sql, 'reset [0-9: -]+ UTC \([0-9]+ [a-z]+ ago\)', 'reset <time> (<age> ago)', 'g') AS alter_sql,
       revert_sql
FROM hygiene.table_advice
WHERE schemaname = 'adv' AND rule IN ('hot_blocked_by_index', 'noop_share_high') ORDER BY rule;
-- once disabled, the advice says so and recommends nothing more
SELECT hygiene.disable_index('adv.hot_idx_v', 'test');
SET pg_hygiene.advice_sample_interval = 3600;
SELECT reason ~ 'adv.hot_idx_v is disabled since .* confirm on every standby' AS says_disabled,
       alter_sql IS NULL AS no_sql
FROM hygiene.table_advice WHERE schemaname = 'adv' AND rule = 'hot_blocked_by_index';
SELECT hygiene.enable_index('adv.hot_idx_v');
-- noop_share_high recommends lock only for a table in observe mode: an explicit
-- override (off, or lock already) silences it (no new samples meanwhile)
SET pg_hygiene.advice_sample_interval = 3600;
SELECT count(*) AS noop_advice FROM hygiene.table_advice WHERE rule = 'noop_share_high';
SELECT hygiene.set_noop_updates('adv.noop_many', 'off');
SELECT count(*) AS noop_advice FROM hygiene.table_advice WHERE rule = 'noop_share_high';
SELECT hygiene.set_noop_updates('adv.noop_many', 'lock');
SELECT count(*) AS noop_advice FROM hygiene.table_advice WHERE rule = 'noop_share_high';
SELECT hygiene.set_noop_updates('adv.noop_many', NULL);
SELECT count(*) AS noop_advice FROM hygiene.table_advice WHERE rule = 'noop_share_high';
SET pg_hygiene.advice_sample_interval = 0;
SELECT revert_sql FROM hygiene.table_advice WHERE schemaname = 'adv' AND rule = 'fillfactor_lower';

-- ---- fillfactor_lower stays within the index space HOT updates give back (O33) ----
-- hot_wide: rows of ~1 kB and only a primary key: any reserve costs more heap pages than
-- the index entries the failed HOT updates added, so the rule says so and gives no SQL.
-- hot_wide_ix: narrow rows and four more indexes: a fillfactor, no lower than the bound.
SET pg_hygiene.noop_updates = observe;
CREATE TABLE adv.hot_wide (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
CREATE TABLE adv.hot_wide_ix (id int PRIMARY KEY, v int, pad text, a int, b int, c int, d int)
  WITH (autovacuum_enabled = off);
CREATE INDEX ON adv.hot_wide_ix (a);
CREATE INDEX ON adv.hot_wide_ix (b);
CREATE INDEX ON adv.hot_wide_ix (c);
CREATE INDEX ON adv.hot_wide_ix (d);
INSERT INTO adv.hot_wide SELECT g, 0, repeat('w', 1000) FROM generate_series(1, 2000) g;
INSERT INTO adv.hot_wide_ix SELECT g, 0, repeat('w', 100), g, g, g, g FROM generate_series(1, 2000) g;
SELECT pg_stat_force_next_flush();
ANALYZE adv.hot_wide, adv.hot_wide_ix;
SELECT pg_stat_force_next_flush();
SELECT count(*) > 0 AS baseline_sample FROM hygiene.table_health;
UPDATE adv.hot_wide SET v = 1;
UPDATE adv.hot_wide_ix SET v = 1;
SELECT pg_stat_force_next_flush();
SELECT relname, rule, severity, needs_rewrite, alter_sql IS NULL AS no_sql, revert_sql IS NULL AS no_revert,
       reason ~ 'is not advised: its reserve would cost more heap than the index space it saves' AS not_advised,
       reason ~ '; cost: the heap needs up to about [0-9.]+ times the pages it needs at fillfactor 100 \(100/[0-9]+, about [0-9]+ pages more\), from the rewrite on; the index space non-HOT updates take now, which HOT updates give back: [0-9]+ index pages x [0-9]+% of HOT-eligible updates not HOT = [0-9]+ pages$' AS states_both
FROM hygiene.table_advice
WHERE schemaname = 'adv' AND relname IN ('hot_wide', 'hot_wide_ix') AND rule = 'fillfactor_lower'
ORDER BY relname COLLATE "C";
-- the advised fillfactor is never below the bound fillfactor_cap() computes from the same figures
SELECT a.relname, substring(a.alter_sql FROM 'fillfactor = (\d+)')::int
         >= (SELECT c.fillfactor FROM hygiene.fillfactor_cap(t.table_bytes / 8192.0,
                 (SELECT sum(ic.relpages) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                   WHERE i.indrelid = t.relid),
                 t.hot_eligible_failed::float8 / t.updates_hot_eligible, 100) AS c) AS within_bound
FROM hygiene.table_advice AS a JOIN hygiene.table_health AS t USING (relid)
WHERE a.schemaname = 'adv' AND a.relname = 'hot_wide_ix' AND a.rule = 'fillfactor_lower';

-- ---- xmin_pinned: a prepared transaction holds the horizon ----
CREATE TABLE adv.pinned (id int, v int) WITH (autovacuum_enabled = off);
CREATE TABLE adv.pin_keeper (id int);
INSERT INTO adv.pinned SELECT g, 0 FROM generate_series(1, 1000) g;
BEGIN;
INSERT INTO adv.pin_keeper VALUES (1);
PREPARE TRANSACTION 'adv_pin';
DELETE FROM adv.pinned WHERE id <= 600;
SELECT pg_stat_force_next_flush();
VACUUM adv.pinned;
SELECT pg_stat_force_next_flush();
SELECT relname, n_dead_tup, vacuum_pinned, xmin_holder ~ '^prepared transaction ''adv_pin''' AS names_it
FROM hygiene.table_health WHERE schemaname = 'adv' AND relname IN ('pinned', 'dead_many')
ORDER BY relname COLLATE "C";
SELECT relname, rule, alter_sql FROM hygiene.table_advice
WHERE schemaname = 'adv' AND rule = 'xmin_pinned' ORDER BY relname COLLATE "C";
SELECT kind, name, fix_sql FROM hygiene.xmin_holders;
ROLLBACK PREPARED 'adv_pin';
VACUUM adv.pinned;
SELECT pg_stat_force_next_flush();
SELECT count(*) AS pinned_after_rollback FROM hygiene.table_advice
WHERE schemaname = 'adv' AND rule = 'xmin_pinned';

-- ---- Privileges and bad input ----
CREATE ROLE adv_reader;
SET ROLE adv_reader;
SELECT count(*) > 0 AS can_read FROM hygiene.table_advice;
SELECT count(*) >= 0 AS can_read_db FROM hygiene.database_advice;
SELECT hygiene._table_stats_feed(0, 1, 0, 0, 1);
SELECT hygiene.take_sample();
RESET ROLE;
DROP ROLE adv_reader;
SELECT hygiene._table_stats_feed('adv.hot_full', 1, 2, 0, 0);
SELECT hygiene._table_stats_feed('adv.hot_full', -1, 0, 0, 0);
SELECT hygiene._table_stats_feed(0, 1, 0, 0, 1);

DROP SCHEMA adv CASCADE;
