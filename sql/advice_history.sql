-- The rolling history behind rates and streaks, the database-wide advice and
-- the pure decision functions.
\set VERBOSITY terse
SET pg_hygiene.advice_sample_interval = 0;
SET pg_hygiene.advice_big_table_rows = 5000;
CREATE SCHEMA advh;
CREATE TABLE advh.t (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
INSERT INTO advh.t SELECT g, 0 FROM generate_series(1, 3000) g;
SELECT pg_stat_force_next_flush();
ANALYZE advh.t;
SELECT pg_stat_force_next_flush();

-- Each query takes a sample (interval 0); the ring keeps at most
-- pg_hygiene.advice_history_samples of them.
SELECT hygiene.take_sample() > 0 AS sampled;
SELECT history_samples >= 1 AS has_history FROM hygiene.table_health WHERE relid = 'advh.t'::regclass;
DELETE FROM advh.t WHERE id <= 1000;
SELECT pg_stat_force_next_flush();
SELECT history_samples >= 2 AS two_samples, n_dead_tup, vacuum_trigger_rows, above_trigger_samples
FROM hygiene.table_health WHERE relid = 'advh.t'::regclass;
SELECT above_trigger_samples FROM hygiene.table_health WHERE relid = 'advh.t'::regclass;
SELECT deletes_per_s > 0 AS delete_rate, inserts_per_s = 0 AS no_inserts_in_window
FROM hygiene.table_health WHERE relid = 'advh.t'::regclass;
SELECT samples_per_table, sample_interval_s, dropped_samples, last_sample IS NOT NULL AS sampled
FROM hygiene.advice_history;
SELECT max(history_samples) <= (SELECT samples_per_table FROM hygiene.advice_history) AS bounded
FROM hygiene.table_health, generate_series(1, 8);

-- A longer interval: querying does not sample again.
SET pg_hygiene.advice_sample_interval = '1h';
SELECT hygiene._advice_sample(false) IS NULL AS not_due;
SET pg_hygiene.advice_sample_interval = 0;

-- A dropped table leaves the history at the next sample.
CREATE TABLE advh.gone (id int);
INSERT INTO advh.gone VALUES (1);
SELECT pg_stat_force_next_flush();
SELECT hygiene.take_sample() > 0 AS sampled;
SELECT count(*) AS gone_tracked FROM hygiene._advice_history() WHERE relid = 'advh.gone'::regclass;
CREATE TEMP TABLE gone_oid AS SELECT 'advh.gone'::regclass::oid AS oid;
DROP TABLE advh.gone;
SELECT hygiene.take_sample() > 0 AS sampled;
SELECT count(*) AS gone_tracked FROM hygiene._advice_history() WHERE relid = (SELECT oid FROM gone_oid);

-- A statistics reset restarts the table's ring (no rate spans a reset).
SELECT pg_stat_reset_single_table_counters('advh.t'::regclass);
SELECT pg_stat_force_next_flush();
SELECT history_samples FROM hygiene.table_health WHERE relid = 'advh.t'::regclass;

-- Partitions are tables of their own: one row each, with their parent.
CREATE TABLE advh.p (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE advh.p1 PARTITION OF advh.p FOR VALUES FROM (0) TO (100);
CREATE TABLE advh.p2 PARTITION OF advh.p FOR VALUES FROM (100) TO (200);
SELECT relname, partition_of FROM hygiene.table_health
WHERE schemaname = 'advh' AND relname LIKE 'p%' ORDER BY relname COLLATE "C";

-- Bad input to the recorder is refused.
SELECT hygiene._advice_record('{1}', '{{1,2}}', '{t}');
SELECT hygiene._advice_record('{1}', '{{1}}', '{}');

-- ---- database_advice: one index pass of autovacuum_work_mem ----
-- autovacuum_work_mem is -1 here, so maintenance_work_mem counts.
CREATE TABLE advh.late (id int PRIMARY KEY) WITH (autovacuum_enabled = off, autovacuum_vacuum_threshold = 2000000);
SET maintenance_work_mem = '1MB';
SELECT rule, severity, setting, current_value, recommended_value, alter_sql, needs_restart
FROM hygiene.database_advice;
SELECT reason FROM hygiene.database_advice WHERE rule = 'autovacuum_work_mem';
RESET maintenance_work_mem;
SELECT count(*) AS db_rules_with_64mb FROM hygiene.database_advice;

-- ---- pure decision functions ----
-- fillfactor_for: the measured case of design.md section 4 (50k rows of ~240
-- bytes, 2000 updates/s, horizon 2 s: 100% HOT at 80) and its neighbours.
SELECT * FROM hygiene.fillfactor_for(244, 1667, 2000, 2, 100);
SELECT fillfactor FROM hygiene.fillfactor_for(244, 1667, 200, 0, 100);   -- short transactions: little reserve
SELECT fillfactor FROM hygiene.fillfactor_for(244, 1667, 20000, 10, 100); -- never below 50
SELECT fillfactor, driven_by FROM hygiene.fillfactor_for(100, 1000, 10, 1, 90); -- sizing says 95: one step
-- the reason names the cost of the reserve (bench/advice_apply.sh: the heap grows with it):
-- about current_ff / fillfactor times the pages, +25% from 100 to 80, +13% from 90 to 80
SELECT fillfactor, substring(driven_by FROM '; cost: .*') AS cost
FROM hygiene.fillfactor_for(244, 1667, 2000, 2, 100);
SELECT fillfactor, substring(driven_by FROM '; cost: .*') AS cost
FROM hygiene.fillfactor_for(100, 1000, 10, 1, 90);
-- fillfactor_cap: the lowest fillfactor whose reserve costs no more heap pages than the index
-- pages non-HOT updates take (index pages x share not HOT).  bench/fillfactor_sweep.sh's two
-- tables: a primary key only (463 heap pages, 57 index pages, 24% not HOT: none, 100) and
-- four indexes (448, 360, 28%: 85, where the sweep measured the smallest totals at 80-85).
SELECT fillfactor, round(index_pages_at_stake::numeric, 1) AS at_stake FROM hygiene.fillfactor_cap(463, 57, 0.24, 100);
SELECT fillfactor, round(index_pages_at_stake::numeric, 1) AS at_stake FROM hygiene.fillfactor_cap(448, 360, 0.28, 100);
SELECT fillfactor FROM hygiene.fillfactor_cap(1000, 500, 1, 90);     -- from 90: 90 x 1000/1500 = 60
SELECT fillfactor FROM hygiene.fillfactor_cap(1000, NULL, NULL, 90); -- nothing at stake: the current
SELECT fillfactor FROM hygiene.fillfactor_cap(1000, 500, 7, 100);    -- share capped at 1
-- vacuum_trigger_for: 2% of rows, or one index pass of autovacuum_work_mem.
SELECT * FROM hygiene.vacuum_trigger_for(1e7, 50, 0.2, 64 * 1048576, 1e6);
SELECT * FROM hygiene.vacuum_trigger_for(1e9, 50, 0.2, 64 * 1048576, 1e6);
SELECT * FROM hygiene.vacuum_trigger_for(5e6, 50, 0.2, 64 * 1048576, 1e6);
SELECT fires FROM hygiene.vacuum_trigger_for(5e6, 50, 0.02, 64 * 1048576, 1e6); -- already tuned
SELECT fires FROM hygiene.vacuum_trigger_for(5e5, 50, 0.2, 64 * 1048576, 1e6);  -- not big
-- scale_trigger_for (insert and analyze triggers)
SELECT * FROM hygiene.scale_trigger_for(1e7, 1000, 0.2, 1e6);
SELECT * FROM hygiene.scale_trigger_for(1e7, -1, 0.2, 1e6);
SELECT fires FROM hygiene.scale_trigger_for(1e7, 1000, 0.02, 1e6);
-- trigger_too_early: more than 12 runs an hour on a table that costs; the new trigger is
-- the least of the dead rows of 5 minutes, 20% of live rows and one index pass (O33)
SELECT * FROM hygiene.trigger_too_early(60, 120000, 1e9, 8388608, 1e7, 0, 5000, 64 * 1048576);
SELECT fires FROM hygiene.trigger_too_early(10, 120000, 1e9, 8388608, 1e7, 0, 5000, 64 * 1048576);
SELECT fires FROM hygiene.trigger_too_early(60, 120000, 1e5, 8388608, 1e7, 0, 5000, 64 * 1048576);
-- O33's table: 50,000 rows, 2,000 updates a second, autovacuum 711 times an hour at its
-- default trigger (10,050): the dead rows of 5 minutes would be 600,000, 12 times the live
-- rows; bounded by 20% of them the trigger would not even double, so no advice
SELECT * FROM hygiene.trigger_too_early(710.9, 2000 * 3600, 12e6, 8388608, 50000, 0.2, 10050, 64 * 1048576);
-- a table of 20,000 rows with a trigger of 50: 20% of its rows
SELECT * FROM hygiene.trigger_too_early(60, 120000, 1e9, 8388608, 20000, 0, 50, 64 * 1048576);
-- a billion rows: one index pass of 64 MB
SELECT * FROM hygiene.trigger_too_early(60, 1.2e9, 1e11, 8388608, 1e9, 0, 5000, 64 * 1048576);
-- the scale factor's share counts: threshold = bound - scale_factor x rows
SELECT * FROM hygiene.trigger_too_early(60, 1.2e6, 1e9, 8388608, 1e6, 0.01, 10050, 64 * 1048576);
-- a big table (big_rows 100,000) whose trigger vacuum_trigger_late set to 2% of its
-- 200,000 rows (4,010): autovacuum runs often, but a trigger above twice that 2% (8,000)
-- would make vacuum_trigger_late fire again, so no advice; without big_rows (the bound
-- does not apply) it would recommend 20% of the rows, undoing vacuum_trigger_late
SELECT * FROM hygiene.trigger_too_early(2220, 1.2e7, 3e7, 1048576, 200000, 0.0198, 4010, 64 * 1048576, 100000);
SELECT fires, new_trigger FROM hygiene.trigger_too_early(2220, 1.2e7, 3e7, 1048576, 200000, 0.0198, 4010, 64 * 1048576);
-- the same table with a trigger of 500: twice the 2% target
SELECT * FROM hygiene.trigger_too_early(2220, 1.2e7, 3e7, 1048576, 200000, 0, 500, 64 * 1048576, 100000);
-- the 20% bound counts the rows that die within the xmin horizon (advbench: small_upd,
-- 10,000 rows, about 600 dead rows a second, 2 s horizon: 20% is 2,000, less 1,200 = 800;
-- the 20% trigger alone peaked at 29% of live rows); at least 1 s is counted
SELECT * FROM hygiene.trigger_too_early(3360, 600 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000, 2);
SELECT new_trigger, driven_by FROM hygiene.trigger_too_early(3360, 600 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000, 0);
-- without a horizon (NULL) nothing is taken off: 20% of the rows
SELECT new_trigger, driven_by FROM hygiene.trigger_too_early(3360, 600 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000);
-- a horizon that holds more than 20% of the rows: no threshold is worth raising
SELECT fires FROM hygiene.trigger_too_early(3360, 600 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000, 10);
-- the first call above does not fire: 800 is below twice the 1,200 rows that die within the
-- 2 s horizon, which stay after every vacuum (vacuums would still run back to back); with a
-- 0.5 s horizon (600 counted, at least 1 s) 1,400 is enough, and with 40 dead rows a second
-- (80 within 2 s) so is 1,920
SELECT fires, new_trigger FROM hygiene.trigger_too_early(3360, 600 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000, 0.5);
SELECT fires, new_trigger FROM hygiene.trigger_too_early(3360, 40 * 3600, 1.6e6, 1048576, 10000, 0.005, 60, 64 * 1048576, 100000, 2);
-- vacuum_losing_race: 3 samples above trigger although vacuum ran, nothing pinning
SELECT * FROM hygiene.vacuum_losing_race(3, true, false, 200);
SELECT fires FROM hygiene.vacuum_losing_race(2, true, false, 200);
SELECT fires FROM hygiene.vacuum_losing_race(5, false, false, 200);
SELECT fires FROM hygiene.vacuum_losing_race(5, true, true, 200);
-- ... but not when the trigger (60 rows) is below the rows that die within the horizon
-- (500 a second x 1.5 s): a short rotating snapshot keeps them, a higher cost limit
-- cannot help (bench/advice_apply.sh); with 10 a second (15 rows) it still fires
SELECT fires FROM hygiene.vacuum_losing_race(6, true, false, 200, 60, 500, 1.5);
SELECT fires FROM hygiene.vacuum_losing_race(6, true, false, 200, 60, 10, 1.5);
-- a horizon under a second counts as 1 s; unknown rates do not stop the rule
SELECT fires FROM hygiene.vacuum_losing_race(6, true, false, 200, 60, 100, 0.1);
SELECT fires FROM hygiene.vacuum_losing_race(6, true, false, 200, 60, NULL, 1.5);
-- wraparound_severity
-- (the multixact side uses the same thresholds against autovacuum_multixact_freeze_max_age)
SELECT x, hygiene.wraparound_severity(x, 200000000)
FROM unnest('{150000000,399999999,400000000,1200000000}'::bigint[]) AS x;

DROP SCHEMA advh CASCADE;
