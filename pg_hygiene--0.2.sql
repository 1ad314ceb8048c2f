/* pg_hygiene--0.2.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_hygiene" to load this file. \quit

-- Refuse clearly when the library is not preloaded: every feature needs it.
DO $$
BEGIN
  IF NOT EXISTS (
      SELECT 1
      FROM regexp_split_to_table(current_setting('shared_preload_libraries'), '\s*,\s*') AS lib
      WHERE btrim(lib, ' "') IN ('pg_hygiene', '$libdir/pg_hygiene')) THEN
    RAISE EXCEPTION 'pg_hygiene must be loaded via shared_preload_libraries'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'shared_preload_libraries is "' || current_setting('shared_preload_libraries') || '".',
            HINT = 'Add pg_hygiene to shared_preload_libraries in postgresql.conf, restart the server, then run CREATE EXTENSION pg_hygiene again.';
  END IF;
END
$$;

CREATE FUNCTION hygiene._status(
    OUT library_version text,
    OUT shared_memory boolean,
    OUT started_at timestamptz,
    OUT statements_seen bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'hygiene_status'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION hygiene._status() IS
  'State of the loaded pg_hygiene library; read it through hygiene.status';

GRANT USAGE ON SCHEMA hygiene TO PUBLIC;

-- ==== Per-table UPDATE statistics (src/table_stats.c) ====

CREATE FUNCTION hygiene._table_write_stats(
    OUT dbid oid,
    OUT relid oid,
    OUT stats_since timestamptz,
    OUT rows_updated bigint,
    OUT noop_rows bigint,
    OUT noop_suppressed bigint,
    OUT ineligible_returning bigint,
    OUT ineligible_after_trigger bigint,
    OUT ineligible_self_assignment bigint,
    OUT ineligible_replica_role bigint,
    OUT ineligible_other bigint,
    OUT indexed_changed bigint,
    OUT nonindexed_only bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_table_write_stats'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION hygiene._table_stats_summary(
    OUT entries bigint,
    OUT max_entries integer,
    OUT dropped_rows bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'hygiene_table_stats_summary'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION hygiene.reset_table_write_stats(relid regclass DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hygiene_reset_table_write_stats'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION hygiene.reset_table_write_stats(regclass) IS
  'Forget the UPDATE statistics of one table of this database, or with NULL of every table';
REVOKE ALL ON FUNCTION hygiene.reset_table_write_stats(regclass) FROM PUBLIC;

-- What pg_hygiene saw of UPDATEs, per table of the current database, since the
-- server started (or the last reset).
CREATE VIEW hygiene.table_write_stats AS
  SELECT s.relid,
         n.nspname AS schemaname,
         c.relname,
         s.stats_since,
         s.rows_updated,
         s.noop_rows,
         s.noop_suppressed,
         s.ineligible_returning + s.ineligible_after_trigger
           + s.ineligible_self_assignment + s.ineligible_replica_role
           + s.ineligible_other AS ineligible_rows,
         s.ineligible_returning,
         s.ineligible_after_trigger,
         s.ineligible_self_assignment,
         s.ineligible_replica_role,
         s.ineligible_other,
         s.indexed_changed,
         s.nonindexed_only
  FROM hygiene._table_write_stats() AS s
       JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
       JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                  WHERE datname = pg_catalog.current_database());

GRANT SELECT ON hygiene.table_write_stats TO PUBLIC;

-- ==== Status ====

-- One row: the library and extension versions, whether shared memory is
-- attached, and how full the statistics table is.
CREATE VIEW hygiene.status AS
  SELECT s.library_version,
         e.extversion AS extension_version,
         s.shared_memory,
         s.started_at,
         s.statements_seen,
         t.entries AS table_stats_entries,
         t.max_entries AS table_stats_max,
         t.dropped_rows AS table_stats_dropped
  FROM hygiene._status() AS s,
       hygiene._table_stats_summary() AS t,
       pg_catalog.pg_extension AS e
  WHERE e.extname = 'pg_hygiene';

GRANT SELECT ON hygiene.status TO PUBLIC;

-- ==== DDL guard ====
-- See docs/ddl_guard.md.  The rules themselves run in the library's
-- ProcessUtility hook; ALTER TABLE rewrites are caught by the event trigger below.

CREATE FUNCTION hygiene._ddl_table_rewrite()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hygiene_ddl_table_rewrite'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION hygiene._ddl_table_rewrite() IS
  'table_rewrite event trigger of the DDL guard (rule table_rewrite)';

REVOKE ALL ON FUNCTION hygiene._ddl_table_rewrite() FROM PUBLIC;

-- Fires before ALTER TABLE / ALTER TYPE copies a single row; ENABLE ALWAYS so that
-- session_replication_role does not switch it off.
CREATE EVENT TRIGGER hygiene_ddl_table_rewrite ON table_rewrite
  EXECUTE FUNCTION hygiene._ddl_table_rewrite();
ALTER EVENT TRIGGER hygiene_ddl_table_rewrite ENABLE ALWAYS;

-- Allow one rule until the end of the current transaction.  Changes policy:
-- EXECUTE only for roles a DBA grants it to.
CREATE FUNCTION hygiene.allow_ddl(rule text)
RETURNS void
AS 'MODULE_PATHNAME', 'hygiene_allow_ddl'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION hygiene.allow_ddl(text) IS
  'Let one DDL guard rule (or all) pass until the end of the current transaction; recorded in hygiene.ddl_events';

REVOKE ALL ON FUNCTION hygiene.allow_ddl(text) FROM PUBLIC;

CREATE FUNCTION hygiene._ddl_events(
    OUT event_id bigint,
    OUT event_time timestamptz,
    OUT action text,
    OUT rule text,
    OUT role_name text,
    OUT database_name text,
    OUT pid integer,
    OUT relation text,
    OUT relation_size bigint,
    OUT message text,
    OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_ddl_events'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

COMMENT ON FUNCTION hygiene._ddl_events() IS
  'DDL guard events in shared memory; read them through hygiene.ddl_events';

-- Every warning, block, allowed hit and override, oldest first.  Other roles'
-- statement texts need the privileges of pg_read_all_stats.
CREATE VIEW hygiene.ddl_events AS
  SELECT * FROM hygiene._ddl_events();

GRANT SELECT ON hygiene.ddl_events TO PUBLIC;

CREATE FUNCTION hygiene.ddl_events_reset()
RETURNS bigint
AS 'MODULE_PATHNAME', 'hygiene_ddl_events_reset'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION hygiene.ddl_events_reset() IS
  'Forget every DDL guard event; returns how many were dropped';

REVOKE ALL ON FUNCTION hygiene.ddl_events_reset() FROM PUBLIC;
-- ==== Advice views (src/advice.c) ====
--
-- hygiene.table_health: one row per table and partition with the evidence;
-- hygiene.table_advice: one row per (table, recommendation);
-- hygiene.database_advice: instance-wide settings.
-- Statistics and catalogs only.  A sample of every table's counters goes into
-- a shared-memory ring (src/advice.c) when a view is queried and the last
-- sample is older than pg_hygiene.advice_sample_interval; rates and streaks
-- come from that ring.  The metric vector of a sample (1-based):
--   1 n_dead_tup  2 n_ins_since_vacuum  3 n_mod_since_analyze  4 n_tup_ins
--   5 n_tup_upd  6 n_tup_hot_upd  7 n_tup_del  8 autovacuum_count
--   9 table bytes (relpages)  10 hook rows_updated  11 hook indexed_changed
--   12 hook nonindexed_only  13 hook noop_rows  14 hook noop_suppressed
--   15 age(relfrozenxid)  16 oldest snapshot age in the database (ms)

CREATE FUNCTION hygiene._advice_claim(force boolean)
RETURNS boolean
AS 'MODULE_PATHNAME', 'hygiene_advice_claim'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION hygiene._advice_claim(boolean) FROM PUBLIC;

CREATE FUNCTION hygiene._advice_record(relids oid[], metrics bigint[], monotonic boolean[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'hygiene_advice_record'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION hygiene._advice_record(oid[], bigint[], boolean[]) FROM PUBLIC;

CREATE FUNCTION hygiene._advice_history(
    OUT relid oid,
    OUT samples integer,
    OUT taken_at timestamptz[],
    OUT metrics bigint[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_advice_history'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE FUNCTION hygiene._advice_history_summary(
    OUT tables bigint,
    OUT max_tables integer,
    OUT samples_per_table integer,
    OUT sample_interval_s integer,
    OUT dropped_samples bigint,
    OUT last_sample timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'hygiene_advice_history_summary'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- For tests and for importing figures measured elsewhere: add to a table's
-- UPDATE statistics as if the executor had counted them.  Superuser only.
CREATE FUNCTION hygiene._table_stats_feed(relid regclass, rows_updated bigint,
    noop_rows bigint, indexed_changed bigint, nonindexed_only bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'hygiene_table_stats_feed'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION hygiene._table_stats_feed(regclass, bigint, bigint, bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION hygiene._table_stats_feed(regclass, bigint, bigint, bigint, bigint) IS
  'Superuser only, for tests and imports: add UPDATE counts to hygiene.table_write_stats by hand';

-- Take a sample of every table of the current database into the history
-- when one is due (force: now).  Returns the tables sampled, NULL when none
-- was due.  Runs as the extension owner so that every table is sampled
-- whoever queries the views.
CREATE FUNCTION hygiene._advice_sample(force boolean)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE STRICT
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  horizon_ms bigint;
  n bigint;
BEGIN
  IF pg_catalog.current_setting('track_counts')::boolean IS NOT TRUE
     OR NOT hygiene._advice_claim(force) THEN
    RETURN NULL;
  END IF;
  SELECT coalesce(max(extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))
                      * 1000), 0)::bigint
    INTO horizon_ms
    FROM pg_stat_activity AS a
   WHERE a.backend_xmin IS NOT NULL AND a.pid <> pg_backend_pid()
     AND a.backend_type = 'client backend'
     AND a.datname = current_database();
  WITH w AS (
    SELECT * FROM hygiene._table_write_stats()
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())),
  t AS (
    SELECT s.relid,
           ARRAY[s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, s.n_tup_ins,
                 s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, s.autovacuum_count,
                 c.relpages::bigint * 8192,
                 coalesce(w.rows_updated, 0), coalesce(w.indexed_changed, 0),
                 coalesce(w.nonindexed_only, 0), coalesce(w.noop_rows, 0),
                 coalesce(w.noop_suppressed, 0),
                 age(c.relfrozenxid), horizon_ms] AS m
      FROM pg_stat_user_tables AS s
           JOIN pg_class AS c ON c.oid = s.relid
           LEFT JOIN w ON w.relid = s.relid
     WHERE c.relkind IN ('r', 'm'))
  SELECT hygiene._advice_record(
           coalesce(array_agg(t.relid), '{}'),
           coalesce(array_agg(t.m), '{}'),
           '{f,f,f,t,t,t,t,t,f,t,t,t,t,t,f,f}')
    INTO n
    FROM t;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION hygiene._advice_sample(boolean) FROM PUBLIC;

-- Take a sample now (for cron jobs that want a steady rhythm).
CREATE FUNCTION hygiene.take_sample()
RETURNS bigint
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
AS $$ SELECT hygiene._advice_sample(true) $$;
REVOKE ALL ON FUNCTION hygiene.take_sample() FROM PUBLIC;
COMMENT ON FUNCTION hygiene.take_sample() IS
  'Sample the statistics of every table of this database into the advice history now';

-- Sample if due; every advice view calls this first.
CREATE FUNCTION hygiene._advice_maybe_sample()
RETURNS bigint
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT hygiene._advice_sample(false) $$;

-- State of the history: tables tracked, capacity, window, last sample.
CREATE VIEW hygiene.advice_history AS
  SELECT * FROM hygiene._advice_history_summary();
GRANT SELECT ON hygiene.advice_history TO PUBLIC;

-- ---- Pure decision functions: every sizing rule, testable on its own ----

-- Fillfactor that leaves room on each page for the row versions that stay
-- unprunable while the xmin horizon is horizon_s old: lambda = updates per
-- page during that time; reserve lambda + 2*sqrt(lambda) + 1 versions (a
-- Poisson upper bound, so that busy pages also fit) of row_bytes each
-- (tuple + line pointer); round down to a multiple of 5, between 50 and 95.
-- When that is not below current_ff although HOT-eligible updates fail,
-- step 10 below current_ff and say so.
CREATE FUNCTION hygiene.fillfactor_for(
    row_bytes double precision,
    pages double precision,
    eligible_updates_per_s double precision,
    horizon_s double precision,
    current_ff integer,
    OUT fillfactor integer,
    OUT reserve_versions double precision,
    OUT driven_by text)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
AS $$
  WITH p AS (
    SELECT greatest(eligible_updates_per_s / greatest(pages, 1), 0)
             * greatest(horizon_s, 1.0) AS lambda),
  r AS (
    SELECT lambda, lambda + 2 * sqrt(lambda) + 1 AS versions FROM p),
  f AS (
    SELECT lambda, versions,
           least(95, greatest(50, (floor(100 * (1 - versions * row_bytes / 8168.0) / 5) * 5)::integer))
             AS ff
      FROM r)
  SELECT CASE WHEN ff < current_ff THEN ff ELSE greatest(50, current_ff - 10) END,
         round(versions::numeric, 2)::double precision,
         CASE WHEN ff < current_ff THEN
           format('%s updates/s on %s pages kept for %s s (xmin horizon age, at least 1 s) '
                  '= %s versions per page to fit, %s bytes each',
                  round(eligible_updates_per_s::numeric, 1), pages::bigint,
                  round(greatest(horizon_s, 1.0)::numeric, 1),
                  round(versions::numeric, 1), round(row_bytes::numeric))
         ELSE
           format('the sizing (%s versions of %s bytes per page) does not go below the current '
                  'fillfactor %s although HOT-eligible updates fail: one step of 10, then measure again',
                  round(versions::numeric, 1), round(row_bytes::numeric), current_ff)
         END
    FROM f
$$;

-- Trigger advice for a big table: autovacuum should start at about 2% of
-- rows, and never later than one index pass of autovacuum_work_mem can hold
-- (6 bytes per dead row, at most 1 GB).  Fires when the current trigger is
-- more than twice the recommended one (so applying it silences the rule); tables of ten times big_rows get
-- scale_factor = 0 and a fixed threshold (stable as they grow).
CREATE FUNCTION hygiene.vacuum_trigger_for(
    reltuples double precision,
    threshold double precision,
    scale_factor double precision,
    work_mem_bytes double precision,
    big_rows double precision,
    OUT fires boolean,
    OUT trigger_before bigint,
    OUT trigger_after bigint,
    OUT new_threshold bigint,
    OUT new_scale_factor double precision,
    OUT driven_by text)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
AS $$
  WITH t AS (
    SELECT threshold + scale_factor * reltuples AS before,
           least(0.02 * reltuples, 0.9 * least(work_mem_bytes, 1073741824) / 6) AS target,
           0.02 * reltuples <= 0.9 * least(work_mem_bytes, 1073741824) / 6 AS by_rows),
  n AS (
    SELECT t.*,
           CASE WHEN reltuples >= 10 * big_rows THEN 0::double precision
                ELSE round((greatest(target - threshold, 0) / greatest(reltuples, 1))::numeric, 4)::double precision
           END AS nsf,
           CASE WHEN reltuples >= 10 * big_rows
                THEN round(target::numeric, (1 - floor(log(greatest(target, 10)::numeric)))::integer)::bigint
                ELSE threshold::bigint
           END AS nth
      FROM t)
  SELECT reltuples >= big_rows AND before > 2 * (nth + nsf * reltuples),
         before::bigint,
         (nth + nsf * reltuples)::bigint,
         nth, nsf,
         CASE WHEN by_rows THEN '2% of rows'
              ELSE 'one index pass of autovacuum_work_mem (' ||
                   pg_size_pretty(least(work_mem_bytes, 1073741824)::bigint) || ')' END
    FROM n
$$;

-- Scale factor so that a threshold + scale * rows trigger lands near 2% of
-- rows on a big table; used for the insert and analyze triggers.  Fires when
-- the current trigger is more than twice the recommended one, or off (-1).
CREATE FUNCTION hygiene.scale_trigger_for(
    reltuples double precision,
    threshold double precision,
    scale_factor double precision,
    big_rows double precision,
    OUT fires boolean,
    OUT trigger_before bigint,
    OUT trigger_after bigint,
    OUT new_scale_factor double precision)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
AS $$
  SELECT reltuples >= big_rows
           AND (threshold < 0
                OR threshold + scale_factor * reltuples > 2 * (threshold + 0.02 * reltuples)),
         CASE WHEN threshold < 0 THEN NULL ELSE (threshold + scale_factor * reltuples)::bigint END,
         (greatest(threshold, 0) + 0.02 * reltuples)::bigint,
         0.02::double precision
$$;

-- Autovacuum runs too often: more than 12 runs an hour (every 5 minutes) on
-- a table big enough for each run to cost (index scans).  New threshold:
-- the dead rows of 5 minutes.
CREATE FUNCTION hygiene.trigger_too_early(
    autovacuums_per_hour double precision,
    dead_rows_per_hour double precision,
    table_bytes double precision,
    min_table_bytes double precision,
    OUT fires boolean,
    OUT new_threshold bigint)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
AS $$
  SELECT autovacuums_per_hour > 12 AND table_bytes >= min_table_bytes,
         greatest(50, round(dead_rows_per_hour / 12))::bigint
$$;

-- Vacuum losing the race: dead rows above the trigger in the last
-- above_trigger_samples samples (3 or more) although autovacuum ran in that
-- window or runs now, and nothing pins the horizon: the cost limit throttles
-- it.  New per-table limit: four times the effective one, at most 10000.
CREATE FUNCTION hygiene.vacuum_losing_race(
    above_trigger_samples integer,
    autovacuum_ran boolean,
    horizon_pinned boolean,
    cost_limit integer,
    OUT fires boolean,
    OUT new_cost_limit integer)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
AS $$
  SELECT above_trigger_samples >= 3 AND autovacuum_ran AND NOT horizon_pinned,
         least(10000, cost_limit * 4)
$$;

-- ---- Who holds the xmin horizon of this database ----

-- Everything that keeps vacuum from removing dead rows here: backends of this
-- database with a snapshot or xid, prepared transactions, replication slots,
-- standbys with hot_standby_feedback.  Oldest first.
CREATE FUNCTION hygiene._xmin_holders(
    OUT kind text,
    OUT pid integer,
    OUT name text,
    OUT holder text,
    OUT since timestamptz,
    OUT xid_age integer,
    OUT fix_sql text)
RETURNS SETOF record
-- RESTRICTED: pg_stat_activity can only be read in the leader.
LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED
AS $$
  SELECT * FROM (
    SELECT 'backend', a.pid, a.usename::text,
           format('backend pid %s (user %s, %s, transaction started %s)', a.pid,
                  coalesce(a.usename::text, '?'), coalesce(a.state, '?'),
                  coalesce(a.xact_start::text, '?')),
           a.xact_start,
           greatest(age(a.backend_xmin), age(a.backend_xid)),
           format('SELECT pg_terminate_backend(%s);', a.pid)
      FROM pg_catalog.pg_stat_activity AS a
     WHERE (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
       AND a.backend_type = 'client backend'
       AND a.pid <> pg_catalog.pg_backend_pid()
       AND a.datname = pg_catalog.current_database()
    UNION ALL
    SELECT 'prepared transaction', NULL, p.gid,
           format('prepared transaction %L (owner %s, prepared %s)', p.gid, p.owner, p.prepared),
           p.prepared, age(p.transaction),
           format('ROLLBACK PREPARED %L;', p.gid)
      FROM pg_catalog.pg_prepared_xacts AS p
     WHERE p.database = pg_catalog.current_database()
    UNION ALL
    SELECT 'replication slot', s.active_pid, s.slot_name::text,
           format('replication slot %s (%s, %s)', s.slot_name, s.slot_type,
                  CASE WHEN s.active THEN 'active' ELSE 'inactive' END),
           NULL::timestamptz,
           greatest(age(s.xmin), age(s.catalog_xmin)),
           format('SELECT pg_drop_replication_slot(%L);', s.slot_name)
      FROM pg_catalog.pg_replication_slots AS s
     WHERE s.xmin IS NOT NULL
        OR (s.catalog_xmin IS NOT NULL AND s.database = pg_catalog.current_database())
    UNION ALL
    SELECT 'standby feedback', r.pid, r.application_name,
           format('standby %s (walsender pid %s, hot_standby_feedback)',
                  coalesce(nullif(r.application_name, ''), r.client_addr::text, '?'), r.pid),
           r.backend_start, age(r.backend_xmin),
           '-- on that standby: end its long queries, or turn hot_standby_feedback off there (its queries may then be cancelled)'
      FROM pg_catalog.pg_stat_replication AS r
     WHERE r.backend_xmin IS NOT NULL
  ) AS h(kind, pid, name, holder, since, xid_age, fix_sql)
  ORDER BY xid_age DESC NULLS LAST, since NULLS FIRST
$$;

CREATE VIEW hygiene.xmin_holders AS SELECT * FROM hygiene._xmin_holders();
REVOKE ALL ON hygiene.xmin_holders FROM PUBLIC;
GRANT SELECT ON hygiene.xmin_holders TO pg_read_all_stats;

-- ---- Per-table evidence ----

-- Average row data width per table (sum of pg_statistic.stawidth): the row
-- size for fillfactor sizing and the bloat estimate.  pg_statistic is not
-- readable by ordinary roles; a width reveals no values.
CREATE FUNCTION hygiene._row_widths(OUT starelid oid, OUT w bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.starelid, sum(s.stawidth)::bigint
    FROM pg_catalog.pg_statistic AS s
   WHERE NOT s.stainherit
   GROUP BY s.starelid
$$;

CREATE FUNCTION hygiene._table_health(
    OUT relid oid, OUT schemaname name, OUT relname name, OUT partition_of regclass,
    OUT reltuples bigint, OUT n_live_tup bigint, OUT table_bytes bigint, OUT total_bytes bigint,
    OUT row_bytes integer, OUT fillfactor integer,
    OUT history_samples integer, OUT history_span interval,
    OUT inserts_per_hour double precision, OUT updates_per_hour double precision,
    OUT deletes_per_hour double precision, OUT growth_bytes_per_hour double precision,
    OUT autovacuums_per_hour double precision,
    OUT autovacuum_enabled boolean, OUT settings_from_table text[],
    OUT vacuum_threshold double precision, OUT vacuum_scale_factor double precision,
    OUT vacuum_trigger_rows bigint,
    OUT insert_threshold double precision, OUT insert_scale_factor double precision,
    OUT insert_trigger_rows bigint,
    OUT analyze_threshold double precision, OUT analyze_scale_factor double precision,
    OUT analyze_trigger_rows bigint,
    OUT cost_limit integer,
    OUT n_dead_tup bigint, OUT dead_vs_trigger double precision, OUT above_trigger_samples integer,
    OUT n_ins_since_vacuum bigint, OUT n_mod_since_analyze bigint,
    OUT last_vacuum timestamptz, OUT last_autovacuum timestamptz, OUT last_analyze timestamptz,
    OUT vacuum_running boolean,
    OUT xid_age integer, OUT mxid_age integer, OUT freeze_max_age bigint,
    OUT xids_to_forced_freeze bigint, OUT time_to_forced_freeze interval,
    OUT xmin_holder text, OUT xmin_holder_pid integer, OUT xmin_fix_sql text,
    OUT vacuum_pinned boolean,
    OUT hot_ratio double precision, OUT write_split text,
    OUT hook_rows_updated bigint, OUT updates_indexed_changed bigint,
    OUT updates_hot_eligible bigint, OUT hot_eligible_failed bigint,
    OUT noop_rows bigint, OUT noop_share double precision,
    OUT noop_suppressed bigint,
    OUT insert_share double precision, OUT update_share double precision,
    OUT max_horizon_s double precision, OUT peak_updates_per_s double precision,
    OUT expected_bytes bigint, OUT bloat_ratio double precision,
    OUT indexes text, OUT unused_index regclass, OUT unused_index_def text,
    OUT reloptions text[])
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
-- The plan over every table is costed high and JIT compiling it takes seconds;
-- 10,000 tables' history is a few MB of tuplestore.
SET jit = off SET work_mem = '64MB'
AS $$
  SELECT hygiene._advice_maybe_sample();
  WITH g AS MATERIALIZED (
    SELECT current_setting('autovacuum')::boolean AS av_on,
           current_setting('autovacuum_vacuum_threshold')::float8 AS vt,
           current_setting('autovacuum_vacuum_scale_factor')::float8 AS vsf,
           current_setting('autovacuum_vacuum_insert_threshold')::float8 AS it,
           current_setting('autovacuum_vacuum_insert_scale_factor')::float8 AS isf,
           current_setting('autovacuum_analyze_threshold')::float8 AS ant,
           current_setting('autovacuum_analyze_scale_factor')::float8 AS asf,
           current_setting('autovacuum_freeze_max_age')::bigint AS fma,
           current_setting('autovacuum_multixact_freeze_max_age')::bigint AS mfma,
           CASE current_setting('autovacuum_vacuum_cost_limit') WHEN '-1'
                THEN current_setting('vacuum_cost_limit')
                ELSE current_setting('autovacuum_vacuum_cost_limit') END::integer AS cl),
  hold AS MATERIALIZED (
    SELECT * FROM hygiene._xmin_holders() LIMIT 1),
  hist AS MATERIALIZED (
    SELECT * FROM hygiene._advice_history()),
  -- the snapshot age is the same for every table of a round: read the
  -- longest ring only
  horizon AS MATERIALIZED (
    SELECT max(m) / 1000.0 AS max_s
      FROM (SELECT * FROM hist ORDER BY hist.samples DESC LIMIT 1) AS l,
           unnest(l.metrics[1:l.samples][16:16]) AS m),
  wid AS MATERIALIZED (
    SELECT * FROM hygiene._row_widths()),
  prog AS MATERIALIZED (
    SELECT DISTINCT p.relid FROM pg_catalog.pg_stat_progress_vacuum AS p),
  -- every index of a user table: name, key columns (an index key of 0 is an
  -- expression), kind, scans; the first never-scanned non-unique index; pages
  idx AS MATERIALIZED (
    SELECT x.indrelid,
           string_agg(format('%I (%s)%s, %s scans', x.relname, x.cols,
                             CASE WHEN x.indisprimary THEN ', primary key'
                                  WHEN x.indisunique THEN ', unique' ELSE '' END, x.scans),
                      '; ' ORDER BY x.relname) AS list,
           (array_agg(x.indexrelid::regclass ORDER BY x.relname)
              FILTER (WHERE NOT x.indisunique AND x.scans = 0))[1] AS unused,
           sum(x.relpages) AS pages
      FROM (SELECT i.indrelid, i.indexrelid, ic.relname, ic.relpages, i.indisprimary,
                   i.indisunique, pg_stat_get_numscans(i.indexrelid) AS scans,
                   (SELECT string_agg(CASE WHEN k.att = 0 THEN 'expression' ELSE
                                        (SELECT quote_ident(a.attname) FROM pg_catalog.pg_attribute AS a
                                          WHERE a.attrelid = i.indrelid AND a.attnum = k.att) END,
                                      ', ' ORDER BY k.n)
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n)) AS cols
              FROM pg_catalog.pg_index AS i
              JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
              JOIN pg_catalog.pg_class AS tc ON tc.oid = i.indrelid AND tc.relkind IN ('r', 'm')
              JOIN pg_catalog.pg_namespace AS tn ON tn.oid = tc.relnamespace
                                                AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
           ) AS x
     GROUP BY x.indrelid),
  base AS (
    SELECT c.oid AS relid, n.nspname AS schemaname, c.relname,
           CASE WHEN c.relispartition THEN
             (SELECT inh.inhparent::regclass FROM pg_catalog.pg_inherits AS inh
               WHERE inh.inhrelid = c.oid LIMIT 1) END AS partition_of,
           c.reltuples, c.relpages, c.reloptions, s.*,
           tt.relpages AS toast_pages,
           ro.opts,
           h.samples AS hs, h.taken_at AS ht, h.metrics AS hm,
           wid.w,
           c.relfrozenxid, c.relminmxid
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_class AS tt ON tt.oid = c.reltoastrelid
      JOIN LATERAL (
        SELECT pg_stat_get_live_tuples(c.oid) AS live,
               pg_stat_get_dead_tuples(c.oid) AS dead,
               pg_stat_get_ins_since_vacuum(c.oid) AS ins_since_vac,
               pg_stat_get_mod_since_analyze(c.oid) AS mod_since_an,
               pg_stat_get_tuples_inserted(c.oid) AS ins,
               pg_stat_get_tuples_updated(c.oid) AS upd,
               pg_stat_get_tuples_hot_updated(c.oid) AS hot,
               pg_stat_get_tuples_deleted(c.oid) AS del,
               pg_stat_get_last_vacuum_time(c.oid) AS lv,
               pg_stat_get_last_autovacuum_time(c.oid) AS lav,
               greatest(pg_stat_get_last_analyze_time(c.oid),
                        pg_stat_get_last_autoanalyze_time(c.oid)) AS la) AS s ON true
      LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)) AS opts
          FROM unnest(c.reloptions) AS o) AS ro ON c.reloptions IS NOT NULL
      LEFT JOIN hist AS h ON h.relid = c.oid
      LEFT JOIN wid ON wid.starelid = c.oid
     WHERE c.relkind IN ('r', 'm')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_toast'),
  eff AS (
    SELECT b.*,
           coalesce((b.opts->>'autovacuum_enabled')::boolean, true) AS av_tab,
           coalesce((b.opts->>'autovacuum_vacuum_threshold')::float8, g.vt) AS e_vt,
           coalesce((b.opts->>'autovacuum_vacuum_scale_factor')::float8, g.vsf) AS e_vsf,
           coalesce((b.opts->>'autovacuum_vacuum_insert_threshold')::float8, g.it) AS e_it,
           coalesce((b.opts->>'autovacuum_vacuum_insert_scale_factor')::float8, g.isf) AS e_isf,
           coalesce((b.opts->>'autovacuum_analyze_threshold')::float8, g.ant) AS e_at,
           coalesce((b.opts->>'autovacuum_analyze_scale_factor')::float8, g.asf) AS e_asf,
           least(coalesce((b.opts->>'autovacuum_freeze_max_age')::bigint, g.fma), g.fma) AS e_fma,
           coalesce(nullif((b.opts->>'autovacuum_vacuum_cost_limit')::integer, -1), g.cl) AS e_cl,
           coalesce((b.opts->>'fillfactor')::integer, 100) AS ff,
           greatest(b.reltuples, 0) AS rt,
           g.av_on, g.mfma,
           CASE WHEN b.hs >= 2 THEN extract(epoch FROM b.ht[1] - b.ht[b.hs]) END AS span_s
      FROM base AS b, g),
  trig AS (
    SELECT e.*,
           e.e_vt + e.e_vsf * e.rt AS vtrig,
           CASE WHEN e.e_it >= 0 THEN e.e_it + e.e_isf * e.rt END AS itrig,
           e.e_at + e.e_asf * e.rt AS atrig,
           CASE WHEN e.span_s > 0 THEN 3600.0 / e.span_s END AS per_h,
           CASE WHEN e.w IS NOT NULL THEN
             (ceil((24 + e.w) / 8.0) * 8 + 4)::integer
           WHEN e.rt > 0 AND e.relpages > 0 THEN
             (e.relpages * 8192.0 / e.rt)::integer END AS rb
      FROM eff AS e),
  ev AS (
    SELECT t.*,
           -- hook counters: window deltas with two samples, else cumulative
           CASE WHEN t.hs >= 2 THEN t.hm[1][10] - t.hm[t.hs][10] END AS w_hook,
           CASE WHEN t.hs >= 2 THEN t.hm[1][11] - t.hm[t.hs][11] END AS w_idx,
           CASE WHEN t.hs >= 2 THEN t.hm[1][12] - t.hm[t.hs][12] END AS w_elig,
           CASE WHEN t.hs >= 2 THEN t.hm[1][13] - t.hm[t.hs][13] END AS w_noop,
           CASE WHEN t.hs >= 2 THEN t.hm[1][14] - t.hm[t.hs][14] END AS w_sup,
           CASE WHEN t.hs >= 2 THEN t.hm[1][4] - t.hm[t.hs][4] END AS w_ins,
           CASE WHEN t.hs >= 2 THEN t.hm[1][7] - t.hm[t.hs][7] END AS w_del,
           CASE WHEN t.hs >= 2 THEN t.hm[1][5] - t.hm[t.hs][5] END AS w_upd,
           CASE WHEN t.hs >= 2 THEN t.hm[1][6] - t.hm[t.hs][6] END AS w_hot,
           -- the busiest interval between two consecutive samples
           (SELECT max((t.hm[j][5] - t.hm[j + 1][5])
                       / greatest(extract(epoch FROM t.ht[j] - t.ht[j + 1]), 0.001))
              FROM generate_series(1, t.hs - 1) AS j) AS peak_upd,
           -- samples, newest first, in a row with dead rows above the trigger
           coalesce((SELECT min(j) - 1 FROM generate_subscripts(t.hm, 1) AS j
                      WHERE t.hm[j][1] <= t.vtrig), t.hs)::integer AS streak,
           ws.rows_updated AS c_hook, ws.indexed_changed AS c_idx,
           ws.nonindexed_only AS c_elig, ws.noop_rows AS c_noop, ws.noop_suppressed AS c_sup
      FROM trig AS t
      LEFT JOIN hygiene._table_write_stats() AS ws
        ON ws.relid = t.relid
       AND ws.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
  SELECT ev.relid, ev.schemaname, ev.relname, ev.partition_of,
         ev.reltuples::bigint, ev.live, ev.relpages::bigint * 8192,
         (ev.relpages + coalesce(ev.toast_pages, 0) + coalesce(idx.pages, 0))::bigint * 8192,
         ev.rb, ev.ff,
         coalesce(ev.hs, 0), ev.ht[1] - ev.ht[ev.hs],
         (ev.hm[1][4] - ev.hm[ev.hs][4]) * ev.per_h,
         (ev.hm[1][5] - ev.hm[ev.hs][5]) * ev.per_h,
         (ev.hm[1][7] - ev.hm[ev.hs][7]) * ev.per_h,
         (ev.hm[1][9] - ev.hm[ev.hs][9]) * ev.per_h,
         (ev.hm[1][8] - ev.hm[ev.hs][8]) * ev.per_h,
         ev.av_on AND ev.av_tab,
         (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(ev.opts) AS k),
         ev.e_vt, ev.e_vsf, ev.vtrig::bigint,
         ev.e_it, ev.e_isf, ev.itrig::bigint,
         ev.e_at, ev.e_asf, ev.atrig::bigint,
         ev.e_cl,
         ev.dead, ev.dead / greatest(ev.vtrig, 1), coalesce(ev.streak, 0),
         ev.ins_since_vac, ev.mod_since_an,
         ev.lv, ev.lav, ev.la,
         ev.relid IN (SELECT relid FROM prog),
         age(ev.relfrozenxid), mxid_age(ev.relminmxid), ev.e_fma,
         greatest(ev.e_fma - age(ev.relfrozenxid), 0),
         CASE WHEN ev.hs >= 2 AND ev.hm[1][15] > ev.hm[ev.hs][15] THEN
           make_interval(secs => greatest(ev.e_fma - age(ev.relfrozenxid), 0)
                                 / ((ev.hm[1][15] - ev.hm[ev.hs][15]) / ev.span_s)) END,
         hold.holder, hold.pid, hold.fix_sql,
         hold.holder IS NOT NULL AND ev.dead >= ev.e_vt
           AND greatest(ev.lv, ev.lav) IS NOT NULL
           AND (hold.since IS NULL OR greatest(ev.lv, ev.lav) >= hold.since),
         CASE WHEN ev.hs >= 2 AND ev.w_upd > 0 THEN ev.w_hot::float8 / ev.w_upd
              WHEN ev.hs >= 2 THEN NULL
              WHEN ev.upd > 0 THEN ev.hot::float8 / ev.upd END,
         CASE WHEN coalesce(ev.w_upd, ev.upd) = 0 THEN 'no updates'
              WHEN coalesce(ev.w_hook, ev.c_hook, 0) = 0 THEN 'unknown'
              WHEN ev.hs >= 2 THEN 'hook, window'
              ELSE 'hook, cumulative' END,
         coalesce(ev.w_hook, ev.c_hook),
         coalesce(ev.w_idx, ev.c_idx),
         coalesce(ev.w_elig, ev.c_elig),
         CASE WHEN ev.w_hook > 0 THEN greatest(ev.w_elig - ev.w_hot, 0) END,
         coalesce(ev.w_noop, ev.c_noop),
         coalesce(ev.w_noop, ev.c_noop)::float8 / nullif(coalesce(ev.w_hook, ev.c_hook), 0),
         coalesce(ev.w_sup, ev.c_sup),
         -- shares of writes: in the window when it saw writes, else cumulative
         coalesce(ev.w_ins::float8 / nullif(ev.w_ins + ev.w_upd + ev.w_del, 0),
                  ev.ins::float8 / nullif(ev.ins + ev.upd + ev.del, 0)),
         coalesce(ev.w_upd::float8 / nullif(ev.w_ins + ev.w_upd + ev.w_del, 0),
                  ev.upd::float8 / nullif(ev.ins + ev.upd + ev.del, 0)),
         (SELECT max_s FROM horizon), ev.peak_upd,
         -- bloat estimate: pages the live and the not yet vacuumed dead rows need
         CASE WHEN ev.w IS NOT NULL AND ev.rt > 0 THEN
           (ceil((ev.rt + ev.dead) * ev.rb / (8168.0 * ev.ff / 100)) * 8192)::bigint END,
         CASE WHEN ev.w IS NOT NULL AND ev.rt > 0 AND ev.relpages > 0 THEN
           ev.relpages / greatest(ceil((ev.rt + ev.dead) * ev.rb / (8168.0 * ev.ff / 100)), 1) END,
         idx.list, idx.unused,
         CASE WHEN idx.unused IS NOT NULL THEN pg_get_indexdef(idx.unused) END,
         ev.reloptions
    FROM ev
    LEFT JOIN hold ON true
    LEFT JOIN idx ON idx.indrelid = ev.relid
$$;

CREATE VIEW hygiene.table_health AS SELECT * FROM hygiene._table_health();
GRANT SELECT ON hygiene.table_health TO PUBLIC;

-- Wraparound: forced (anti-wraparound) autovacuum starts at freeze_max_age;
-- 'warning' once a table is twice past it (forced vacuum is not keeping up),
-- 'critical' from 1.2 billion (vacuum_failsafe_age is 1.6 billion, the hard
-- stop 2^31 less a few million).  NULL below.
CREATE FUNCTION hygiene.wraparound_severity(xid_age bigint, freeze_max_age bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN xid_age >= 1200000000 THEN 'critical'
              WHEN xid_age >= 2 * freeze_max_age THEN 'warning' END
$$;

-- ALTER TABLE statements that put the named reloptions back as they are now.
CREATE FUNCTION hygiene._reloptions_revert(qualified text, reloptions text[], names text[])
RETURNS text
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
AS $$
  WITH o AS (
    SELECT n, (SELECT substr(r, length(n) + 2) FROM unnest(reloptions) AS r
                WHERE r LIKE n || '=%' LIMIT 1) AS old
      FROM unnest(names) AS n)
  SELECT concat_ws(' ',
           (SELECT format('ALTER TABLE %s SET (%s);', qualified,
                          string_agg(format('%s = %s', n, old), ', ' ORDER BY n))
              FROM o WHERE old IS NOT NULL HAVING count(*) > 0),
           (SELECT format('ALTER TABLE %s RESET (%s);', qualified, string_agg(n, ', ' ORDER BY n))
              FROM o WHERE old IS NULL HAVING count(*) > 0))
$$;

-- ---- Per-table recommendations ----

CREATE FUNCTION hygiene._table_advice(
    OUT relid oid, OUT schemaname name, OUT relname name,
    OUT rule text, OUT severity text, OUT reason text,
    OUT alter_sql text, OUT revert_sql text, OUT needs_rewrite boolean)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
-- The plan over every table is costed high and JIT compiling it takes seconds;
-- 10,000 tables' history is a few MB of tuplestore.
SET jit = off SET work_mem = '64MB'
AS $$
  WITH p AS MATERIALIZED (
    SELECT current_setting('pg_hygiene.advice_big_table_rows')::float8 AS big,
           current_setting('pg_hygiene.advice_min_updates')::bigint AS min_upd,
           pg_size_bytes(current_setting('pg_hygiene.advice_min_table_size'))::float8 AS min_size,
           current_setting('autovacuum_multixact_freeze_max_age')::bigint AS mfma,
           CASE WHEN current_setting('autovacuum_work_mem') = '-1'
                THEN pg_size_bytes(current_setting('maintenance_work_mem'))
                ELSE pg_size_bytes(current_setting('autovacuum_work_mem')) END::float8 AS mem),
  h AS MATERIALIZED (
    SELECT t.*, format('%I.%I', t.schemaname, t.relname) AS qn,
           extract(epoch FROM t.history_span) AS span_s
      FROM hygiene._table_health() AS t),
  r AS (
    -- wraparound_near (transaction ids, then multixact ids)
    SELECT h.relid, h.schemaname, h.relname, 'wraparound_near' AS rule,
           hygiene.wraparound_severity(h.xid_age, h.freeze_max_age) AS severity,
           format('age(relfrozenxid) is %s, %s times autovacuum_freeze_max_age (%s): forced '
                  'vacuum has not caught up%s', h.xid_age,
                  round(h.xid_age::numeric / h.freeze_max_age, 1), h.freeze_max_age,
                  CASE WHEN h.vacuum_pinned THEN '; the xmin horizon is held by ' || h.xmin_holder
                       ELSE '' END) AS reason,
           format('VACUUM (FREEZE, VERBOSE) %s;', h.qn) AS alter_sql,
           NULL::text AS revert_sql, false AS needs_rewrite
      FROM h WHERE hygiene.wraparound_severity(h.xid_age, h.freeze_max_age) IS NOT NULL
    UNION ALL
    SELECT h.relid, h.schemaname, h.relname, 'wraparound_near',
           hygiene.wraparound_severity(h.mxid_age, p.mfma),
           format('mxid_age(relminmxid) is %s, %s times autovacuum_multixact_freeze_max_age (%s): '
                  'forced vacuum has not caught up', h.mxid_age,
                  round(h.mxid_age::numeric / p.mfma, 1), p.mfma),
           format('VACUUM (FREEZE, VERBOSE) %s;', h.qn), NULL, false
      FROM h, p
     WHERE hygiene.wraparound_severity(h.mxid_age, p.mfma) IS NOT NULL
       AND hygiene.wraparound_severity(h.xid_age, h.freeze_max_age) IS NULL
    UNION ALL
    -- xmin_pinned
    SELECT h.relid, h.schemaname, h.relname, 'xmin_pinned', 'warning',
           format('%s dead rows; the last vacuum (%s) ran while %s held the xmin horizon, '
                  'so rows that died after it started cannot be removed: no reloption '
                  'helps, end the blocker', h.n_dead_tup,
                  greatest(h.last_vacuum, h.last_autovacuum), h.xmin_holder),
           h.xmin_fix_sql, NULL, false
      FROM h WHERE h.vacuum_pinned
    UNION ALL
    -- autovacuum_disabled
    SELECT h.relid, h.schemaname, h.relname, 'autovacuum_disabled', 'warning',
           format('%s dead rows are past the vacuum trigger (%s) but autovacuum is off for '
                  'this table (only anti-wraparound vacuums run)', h.n_dead_tup, h.vacuum_trigger_rows),
           format('ALTER TABLE %s RESET (autovacuum_enabled);', h.qn),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{autovacuum_enabled}'), false
      FROM h
     WHERE NOT h.autovacuum_enabled AND h.n_dead_tup > h.vacuum_trigger_rows
       AND 'autovacuum_enabled' = ANY (h.settings_from_table)
    UNION ALL
    -- vacuum_trigger_late
    SELECT h.relid, h.schemaname, h.relname, 'vacuum_trigger_late', 'warning',
           format('%s rows: autovacuum starts at %s dead rows (threshold %s + scale_factor %s '
                  'x rows), %s%% of the table; sized to %s it starts at %s',
                  h.reltuples, v.trigger_before, h.vacuum_threshold, h.vacuum_scale_factor,
                  round(100.0 * v.trigger_before / greatest(h.reltuples, 1), 1),
                  v.driven_by, v.trigger_after),
           format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = %s, autovacuum_vacuum_threshold = %s);',
                  h.qn, v.new_scale_factor, v.new_threshold),
           hygiene._reloptions_revert(h.qn, h.reloptions,
                                      '{autovacuum_vacuum_scale_factor,autovacuum_vacuum_threshold}'),
           false
      FROM h, p,
           LATERAL hygiene.vacuum_trigger_for(h.reltuples, h.vacuum_threshold,
                                              h.vacuum_scale_factor, p.mem, p.big) AS v
     WHERE v.fires AND coalesce(h.insert_share, 0) < 0.99   -- dead rows come from updates and deletes
    UNION ALL
    -- vacuum_trigger_early
    SELECT h.relid, h.schemaname, h.relname, 'vacuum_trigger_early', 'info',
           format('autovacuum ran %s times an hour on a %s table (trigger %s dead rows): each run '
                  'scans every index; a threshold of the dead rows of 5 minutes (%s) is enough',
                  round(h.autovacuums_per_hour::numeric, 1), pg_size_pretty(h.table_bytes),
                  h.vacuum_trigger_rows, e.new_threshold),
           format('ALTER TABLE %s SET (autovacuum_vacuum_threshold = %s);', h.qn, e.new_threshold),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{autovacuum_vacuum_threshold}'), false
      FROM h, p,
           LATERAL hygiene.trigger_too_early(h.autovacuums_per_hour,
                                             coalesce(h.updates_per_hour, 0) + coalesce(h.deletes_per_hour, 0),
                                             h.table_bytes, p.min_size) AS e
     WHERE e.fires
    UNION ALL
    -- vacuum_losing_race
    SELECT h.relid, h.schemaname, h.relname, 'vacuum_losing_race', 'warning',
           format('dead rows above the trigger (%s) in the last %s samples although autovacuum '
                  'ran: it is throttled by autovacuum_vacuum_cost_limit %s',
                  h.vacuum_trigger_rows, h.above_trigger_samples, h.cost_limit),
           format('ALTER TABLE %s SET (autovacuum_vacuum_cost_limit = %s);', h.qn, l.new_cost_limit),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{autovacuum_vacuum_cost_limit}'), false
      FROM h,
           LATERAL hygiene.vacuum_losing_race(h.above_trigger_samples,
                                              coalesce(h.autovacuums_per_hour, 0) > 0 OR h.vacuum_running,
                                              h.vacuum_pinned, h.cost_limit) AS l
     WHERE l.fires AND h.autovacuum_enabled
    UNION ALL
    -- insert_trigger
    SELECT h.relid, h.schemaname, h.relname, 'insert_trigger', 'info',
           format('%s%% of writes are inserts on %s rows: %s; at about 2%% of rows (%s) vacuum '
                  'keeps the visibility map current for index-only scans and freezes in small steps',
                  round(100 * h.insert_share::numeric), h.reltuples,
                  CASE WHEN s.trigger_before IS NULL THEN 'insert-driven vacuum is off (threshold -1)'
                       ELSE format('insert-driven vacuum starts after %s inserted rows', s.trigger_before) END,
                  s.trigger_after),
           format('ALTER TABLE %s SET (autovacuum_vacuum_insert_scale_factor = %s%s);', h.qn,
                  s.new_scale_factor,
                  CASE WHEN h.insert_threshold < 0 THEN ', autovacuum_vacuum_insert_threshold = 1000' ELSE '' END),
           hygiene._reloptions_revert(h.qn, h.reloptions,
             CASE WHEN h.insert_threshold < 0
                  THEN '{autovacuum_vacuum_insert_scale_factor,autovacuum_vacuum_insert_threshold}'::text[]
                  ELSE '{autovacuum_vacuum_insert_scale_factor}' END),
           false
      FROM h, p,
           LATERAL hygiene.scale_trigger_for(h.reltuples, h.insert_threshold,
                                             h.insert_scale_factor, p.big) AS s
     WHERE s.fires AND h.insert_share >= 0.9
    UNION ALL
    -- analyze_trigger_late
    SELECT h.relid, h.schemaname, h.relname, 'analyze_trigger_late', 'info',
           format('%s rows: statistics are refreshed after %s changed rows (%s%%); at 2%% (%s) '
                  'plans follow the data sooner', h.reltuples, s.trigger_before,
                  round(100.0 * s.trigger_before / greatest(h.reltuples, 1), 1), s.trigger_after),
           format('ALTER TABLE %s SET (autovacuum_analyze_scale_factor = %s);', h.qn, s.new_scale_factor),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{autovacuum_analyze_scale_factor}'), false
      FROM h, p,
           LATERAL hygiene.scale_trigger_for(h.reltuples, h.analyze_threshold,
                                             h.analyze_scale_factor, p.big) AS s
     WHERE s.fires
    UNION ALL
    -- stale_stats
    SELECT h.relid, h.schemaname, h.relname, 'stale_stats', 'warning',
           format('%s rows changed since the last analyze (%s), more than twice the analyze '
                  'trigger (%s)%s', h.n_mod_since_analyze, coalesce(h.last_analyze::text, 'never'),
                  h.analyze_trigger_rows,
                  CASE WHEN NOT h.autovacuum_enabled THEN ': autovacuum is off for this table' ELSE '' END),
           format('ANALYZE %s;', h.qn), NULL, false
      FROM h
     WHERE h.n_mod_since_analyze > 2 * h.analyze_trigger_rows
       AND (NOT h.autovacuum_enabled OR h.last_analyze IS NULL
            OR h.last_analyze < now() - interval '1 hour')
    UNION ALL
    -- fillfactor_lower
    SELECT h.relid, h.schemaname, h.relname, 'fillfactor_lower', 'warning',
           format('%s of %s HOT-eligible updates (only non-indexed columns changed) were not HOT '
                  'in %s: pages were full; fillfactor %s from %s', h.hot_eligible_failed,
                  h.updates_hot_eligible, h.history_span, f.fillfactor, f.driven_by),
           format('ALTER TABLE %s SET (fillfactor = %s);', h.qn, f.fillfactor),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{fillfactor}'), true
      FROM h, p,
           LATERAL hygiene.fillfactor_for(h.row_bytes, greatest(h.table_bytes / 8192, 1),
                                          -- HOT-eligible share of the busiest interval's updates
                                          greatest(h.updates_hot_eligible / greatest(h.span_s, 1),
                                                   coalesce(h.peak_updates_per_s, 0) * h.updates_hot_eligible
                                                     / greatest(h.hook_rows_updated, 1)),
                                          coalesce(h.max_horizon_s, 0), h.fillfactor) AS f
     WHERE h.hot_eligible_failed IS NOT NULL
       AND h.updates_hot_eligible >= p.min_upd
       AND h.hot_eligible_failed >= 0.1 * h.updates_hot_eligible
       AND h.row_bytes IS NOT NULL AND h.fillfactor > 50
    UNION ALL
    -- hot_blocked_by_index
    SELECT h.relid, h.schemaname, h.relname, 'hot_blocked_by_index', 'info',
           format('%s%% of updates changed an indexed column, so they can never be HOT and a lower '
                  'fillfactor would not help; indexes: %s%s',
                  round(100.0 * h.updates_indexed_changed
                        / greatest(h.updates_indexed_changed + coalesce(h.updates_hot_eligible, 0), 1)),
                  h.indexes,
                  CASE WHEN h.unused_index IS NOT NULL
                       THEN format('; %s was never scanned since statistics were reset', h.unused_index)
                       ELSE '' END),
           CASE WHEN h.unused_index IS NOT NULL
                THEN format('DROP INDEX CONCURRENTLY %s;', h.unused_index) END,
           CASE WHEN h.unused_index IS NOT NULL
                THEN regexp_replace(h.unused_index_def, '^CREATE (UNIQUE )?INDEX', 'CREATE \1INDEX CONCURRENTLY') || ';' END,
           false
      FROM h, p
     WHERE h.updates_indexed_changed >= p.min_upd
       AND h.updates_indexed_changed >= 0.5 * (h.updates_indexed_changed + coalesce(h.updates_hot_eligible, 0))
    UNION ALL
    -- noop_share_high
    SELECT h.relid, h.schemaname, h.relname, 'noop_share_high', 'info',
           format('%s of %s updated rows (%s%%) were no-ops (every column unchanged) and %s were '
                  'suppressed: each wrote a new row version, index entries and a dead row',
                  h.noop_rows, h.hook_rows_updated, round(100 * h.noop_share::numeric),
                  coalesce(h.noop_suppressed, 0)),
           format('ALTER DATABASE %I SET pg_hygiene.noop_updates = lock;', current_database()),
           format('ALTER DATABASE %I RESET pg_hygiene.noop_updates;', current_database()), false
      FROM h, p
     WHERE h.hook_rows_updated >= p.min_upd AND h.noop_share >= 0.2
       AND coalesce(h.noop_suppressed, 0) < 0.5 * h.noop_rows
    UNION ALL
    -- fillfactor_unused
    SELECT h.relid, h.schemaname, h.relname, 'fillfactor_unused', 'info',
           format('fillfactor %s reserves %s%% of every page for updates, but only %s%% of writes '
                  'are updates', h.fillfactor, 100 - h.fillfactor,
                  round(100 * coalesce(h.update_share, 0)::numeric, 2)),
           format('ALTER TABLE %s SET (fillfactor = 100);', h.qn),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{fillfactor}'), true
      FROM h, p
     WHERE h.fillfactor < 100 AND h.table_bytes >= p.min_size
       AND coalesce(h.update_share, 0) < 0.01
    UNION ALL
    -- bloat_rewrite
    SELECT h.relid, h.schemaname, h.relname, 'bloat_rewrite', 'warning',
           format('%s on disk for %s rows of about %s bytes at fillfactor %s (estimate %s): '
                  'vacuum reuses the space but cannot give it back; only a rewrite can '
                  '(VACUUM FULL takes an ACCESS EXCLUSIVE lock; pg_repack does it online). '
                  'Exact figures: SELECT * FROM hygiene.exact_bloat(%L)',
                  pg_size_pretty(h.table_bytes), h.reltuples, h.row_bytes, h.fillfactor,
                  pg_size_pretty(h.expected_bytes), h.qn),
           format('VACUUM (FULL, ANALYZE) %s;', h.qn), NULL, true
      FROM h, p
     WHERE h.bloat_ratio >= 2 AND h.table_bytes - h.expected_bytes >= p.min_size)
  SELECT r.* FROM r
   ORDER BY CASE r.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
            r.schemaname, r.relname, r.rule
$$;

CREATE VIEW hygiene.table_advice AS SELECT * FROM hygiene._table_advice();
GRANT SELECT ON hygiene.table_advice TO PUBLIC;

-- ---- Instance-wide recommendations ----

CREATE FUNCTION hygiene._database_advice(
    OUT rule text, OUT severity text, OUT setting text, OUT current_value text,
    OUT recommended_value text, OUT reason text, OUT alter_sql text, OUT revert_sql text,
    OUT needs_restart boolean)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
-- The plan over every table is costed high and JIT compiling it takes seconds;
-- 10,000 tables' history is a few MB of tuplestore.
SET jit = off SET work_mem = '64MB'
AS $$
  WITH h AS MATERIALIZED (SELECT * FROM hygiene._table_health()),
  mem AS (
    SELECT CASE WHEN current_setting('autovacuum_work_mem') = '-1'
                THEN 'maintenance_work_mem' ELSE 'autovacuum_work_mem' END AS name,
           least(CASE WHEN current_setting('autovacuum_work_mem') = '-1'
                      THEN pg_size_bytes(current_setting('maintenance_work_mem'))
                      ELSE pg_size_bytes(current_setting('autovacuum_work_mem')) END,
                 1073741824) AS bytes),
  big AS (
    SELECT h.schemaname, h.relname, h.vacuum_trigger_rows
      FROM h WHERE h.indexes IS NOT NULL
     ORDER BY h.vacuum_trigger_rows DESC LIMIT 1),
  hold AS (SELECT * FROM hygiene._xmin_holders() LIMIT 1),
  r AS (
    SELECT 'track_counts_off' AS rule, 'critical' AS severity, 'track_counts' AS setting,
           'off' AS current_value, 'on' AS recommended_value,
           'without statistics autovacuum cannot tell when a table needs vacuum or analyze, '
           'and these views see nothing' AS reason,
           'ALTER SYSTEM SET track_counts = on; SELECT pg_reload_conf();' AS alter_sql,
           'ALTER SYSTEM RESET track_counts; SELECT pg_reload_conf();' AS revert_sql,
           false AS needs_restart
     WHERE NOT current_setting('track_counts')::boolean
    UNION ALL
    SELECT 'autovacuum_off', 'critical', 'autovacuum', 'off', 'on',
           'dead rows are never removed and statistics never refreshed except by hand; only '
           'anti-wraparound vacuums run',
           'ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf();',
           'ALTER SYSTEM RESET autovacuum; SELECT pg_reload_conf();', false
     WHERE NOT current_setting('autovacuum')::boolean
    UNION ALL
    SELECT 'xmin_horizon_held', 'warning', NULL, NULL, NULL,
           format('%s holds the xmin horizon of this database (xid age %s%s): vacuum cannot '
                  'remove rows that died after it started, in any table',
                  hold.holder, hold.xid_age,
                  CASE WHEN hold.since IS NOT NULL THEN ', for ' || date_trunc('second', now() - hold.since)
                       ELSE '' END),
           hold.fix_sql, NULL, false
      FROM hold
     WHERE hold.xid_age >= 10000000 OR hold.since < now() - interval '5 minutes'
        OR hold.kind = 'replication slot' AND hold.pid IS NULL
    UNION ALL
    SELECT 'autovacuum_max_workers', 'warning', 'autovacuum_max_workers',
           current_setting('autovacuum_max_workers'),
           (current_setting('autovacuum_max_workers')::integer + 2)::text,
           format('%s tables are past their vacuum trigger and all %s autovacuum workers are busy',
                  (SELECT count(*) FROM h WHERE h.autovacuum_enabled AND h.n_dead_tup > h.vacuum_trigger_rows),
                  current_setting('autovacuum_max_workers')),
           format('ALTER SYSTEM SET autovacuum_max_workers = %s;',
                  current_setting('autovacuum_max_workers')::integer + 2),
           'ALTER SYSTEM RESET autovacuum_max_workers;', true
     WHERE (SELECT count(*) FROM h WHERE h.autovacuum_enabled AND h.n_dead_tup > h.vacuum_trigger_rows)
             >= current_setting('autovacuum_max_workers')::integer
       AND (SELECT count(*) FROM pg_catalog.pg_stat_activity
             WHERE backend_type = 'autovacuum worker')
             >= current_setting('autovacuum_max_workers')::integer
    UNION ALL
    SELECT 'autovacuum_cost_limit', 'warning', 'autovacuum_vacuum_cost_limit',
           current_setting('autovacuum_vacuum_cost_limit'),
           least(10000, 4 * min(h.cost_limit))::text,
           format('%s tables stay above their vacuum trigger although autovacuum runs on them '
                  '(vacuum_losing_race): the cost limit is shared by all workers',
                  count(*)),
           format('ALTER SYSTEM SET autovacuum_vacuum_cost_limit = %s; SELECT pg_reload_conf();',
                  least(10000, 4 * min(h.cost_limit))),
           'ALTER SYSTEM RESET autovacuum_vacuum_cost_limit; SELECT pg_reload_conf();', false
      FROM h,
           LATERAL hygiene.vacuum_losing_race(h.above_trigger_samples,
                                              coalesce(h.autovacuums_per_hour, 0) > 0 OR h.vacuum_running,
                                              h.vacuum_pinned, h.cost_limit) AS l
     WHERE l.fires AND h.autovacuum_enabled
    HAVING count(*) >= 2
    UNION ALL
    SELECT 'autovacuum_work_mem', 'info', 'autovacuum_work_mem',
           pg_size_pretty(mem.bytes),
           pg_size_pretty(least(1073741824, ceil(big.vacuum_trigger_rows * 6 * 1.1 / 1048576) * 1048576)::bigint),
           format('a vacuum of %I.%I started at its trigger (%s dead rows) needs %s passes over '
                  'every index with %s = %s (6 bytes per dead row); lowering that table''s trigger '
                  '(vacuum_trigger_late) is the other way',
                  big.schemaname, big.relname, big.vacuum_trigger_rows,
                  ceil(big.vacuum_trigger_rows * 6.0 / mem.bytes), mem.name, pg_size_pretty(mem.bytes)),
           format('ALTER SYSTEM SET autovacuum_work_mem = %L; SELECT pg_reload_conf();',
                  (ceil(least(1073741824, big.vacuum_trigger_rows * 6 * 1.1) / 1048576))::bigint || 'MB'),
           'ALTER SYSTEM RESET autovacuum_work_mem; SELECT pg_reload_conf();', false
      FROM big, mem
     WHERE big.vacuum_trigger_rows * 6 > mem.bytes)
  SELECT * FROM r
   ORDER BY CASE r.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, r.rule
$$;

CREATE VIEW hygiene.database_advice AS SELECT * FROM hygiene._database_advice();
GRANT SELECT ON hygiene.database_advice TO PUBLIC;

-- Exact bloat of one table through pgstattuple (a full scan of the table):
-- only on request, and only where pgstattuple is installed.
CREATE FUNCTION hygiene.exact_bloat(rel regclass,
    OUT table_bytes bigint, OUT live_bytes bigint, OUT dead_bytes bigint,
    OUT free_bytes bigint, OUT free_percent double precision)
RETURNS record
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
AS $$
DECLARE
  nsp name;
BEGIN
  SELECT n.nspname INTO nsp
    FROM pg_catalog.pg_extension AS e JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
   WHERE e.extname = 'pgstattuple';
  IF nsp IS NULL THEN
    RAISE EXCEPTION 'pgstattuple is not installed in this database'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'hygiene.exact_bloat reads every page of the table through pgstattuple.',
            HINT = 'Run CREATE EXTENSION pgstattuple, or rely on the estimate in hygiene.table_health.';
  END IF;
  EXECUTE format('SELECT table_len, tuple_len, dead_tuple_len, free_space, free_percent FROM %I.pgstattuple($1)', nsp)
     INTO table_bytes, live_bytes, dead_bytes, free_bytes, free_percent
    USING rel;
END
$$;
-- ==== No-op UPDATE suppression (src/noop_update.c) ====

-- Per-table override of pg_hygiene.noop_updates.  Kept by pg_dump (the rows are
-- configuration), keyed by regclass so that a restore maps names to new OIDs.
CREATE TABLE hygiene.noop_update_settings (
    relid regclass PRIMARY KEY,
    mode text NOT NULL CHECK (mode IN ('off', 'observe', 'lock', 'auto')),
    set_by name NOT NULL DEFAULT current_user,
    set_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('hygiene.noop_update_settings', '');
COMMENT ON TABLE hygiene.noop_update_settings IS
  'Per-table override of pg_hygiene.noop_updates; change it with hygiene.set_noop_updates()';
REVOKE ALL ON hygiene.noop_update_settings FROM PUBLIC;
GRANT SELECT ON hygiene.noop_update_settings TO PUBLIC;

-- Every backend rebuilds its cache of the settings once a change commits.
CREATE FUNCTION hygiene._noop_settings_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'hygiene_noop_settings_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE TRIGGER noop_update_settings_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hygiene.noop_update_settings
  FOR EACH STATEMENT EXECUTE FUNCTION hygiene._noop_settings_changed();

-- Internal: the comparison pg_hygiene appends to a query's BEFORE ROW UPDATE
-- triggers.  It refuses to run as an ordinary trigger.
CREATE FUNCTION hygiene._noop_update_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'hygiene_noop_update_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION hygiene._noop_update_trigger() FROM PUBLIC;

-- Set (or with NULL remove) the override for one table.
CREATE FUNCTION hygiene.set_noop_updates(tbl regclass, mode text)
RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'table must not be null'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the table, e.g. hygiene.set_noop_updates(''public.t'', ''lock'').';
  END IF;
  IF mode IS NULL THEN
    DELETE FROM hygiene.noop_update_settings AS s WHERE s.relid = tbl;
    RETURN;
  END IF;
  IF mode NOT IN ('off', 'observe', 'lock', 'auto') THEN
    RAISE EXCEPTION 'invalid no-op update mode "%"', mode
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Valid modes are off, observe, lock and auto.',
            HINT = 'Pass NULL to remove the override and follow pg_hygiene.noop_updates again.';
  END IF;
  IF (SELECT c.relkind FROM pg_class AS c WHERE c.oid = tbl) NOT IN ('r', 'p') THEN
    RAISE EXCEPTION '"%" is not a table', tbl
      USING ERRCODE = 'wrong_object_type',
            HINT = 'No-op UPDATE suppression applies to ordinary and partitioned tables.';
  END IF;
  INSERT INTO hygiene.noop_update_settings AS s (relid, mode) VALUES (tbl, mode)
    ON CONFLICT (relid) DO UPDATE
      SET mode = excluded.mode, set_by = current_user, set_at = now();
END
$$;
COMMENT ON FUNCTION hygiene.set_noop_updates(regclass, text) IS
  'Override pg_hygiene.noop_updates for one table (off, observe, lock, auto); NULL removes the override';
REVOKE ALL ON FUNCTION hygiene.set_noop_updates(regclass, text) FROM PUBLIC;

-- Forget the overrides of dropped tables (a dangling regclass would not restore).
CREATE FUNCTION hygiene._noop_settings_drop()
RETURNS event_trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  dropped oid[];
BEGIN
  SELECT array_agg(d.objid) INTO dropped
  FROM pg_event_trigger_dropped_objects() AS d
  WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0;
  -- Touch the table only when needed: its trigger makes every backend reload.
  IF EXISTS (SELECT 1 FROM hygiene.noop_update_settings AS s
             WHERE s.relid::oid = ANY (dropped)) THEN
    DELETE FROM hygiene.noop_update_settings AS s WHERE s.relid::oid = ANY (dropped);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION hygiene._noop_settings_drop() FROM PUBLIC;
CREATE EVENT TRIGGER hygiene_noop_settings_drop ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION hygiene._noop_settings_drop();
-- ==== query_rules ====
-- Query digest rules (docs/query_rules.md): block or throttle statements by queryid.
-- One row per (queryid, role); role NULL means every role.  Backends cache the rows:
-- the trigger below makes a committed change visible to every session of the primary
-- before its next statement, standbys reread the replicated table once a second.

CREATE SEQUENCE hygiene.query_rule_id_seq;

CREATE TABLE hygiene.query_rule (
    rule_id        bigint NOT NULL DEFAULT nextval('hygiene.query_rule_id_seq') PRIMARY KEY,
    queryid        bigint NOT NULL CHECK (queryid <> 0),
    role           regrole,
    action         text NOT NULL CHECK (action IN ('block', 'throttle')),
    per_second     double precision CHECK (per_second > 0 AND per_second < 'infinity'),
    max_concurrent integer CHECK (max_concurrent > 0),
    dry_run        boolean NOT NULL DEFAULT false,
    reason         text NOT NULL CHECK (btrim(reason) <> '' AND char_length(reason) <= 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     name NOT NULL DEFAULT session_user,
    expires_at     timestamptz,
    CONSTRAINT query_rule_queryid_role_key UNIQUE NULLS NOT DISTINCT (queryid, role),
    CONSTRAINT query_rule_limits_check CHECK (
        (action = 'block' AND per_second IS NULL AND max_concurrent IS NULL) OR
        (action = 'throttle' AND (per_second IS NOT NULL OR max_concurrent IS NOT NULL)))
);
ALTER SEQUENCE hygiene.query_rule_id_seq OWNED BY hygiene.query_rule.rule_id;

COMMENT ON TABLE hygiene.query_rule IS
  'Query digest rules; change them with hygiene.block_query(), hygiene.throttle_query() and hygiene.remove_query_rule()';

SELECT pg_catalog.pg_extension_config_dump('hygiene.query_rule', '');
SELECT pg_catalog.pg_extension_config_dump('hygiene.query_rule_id_seq', '');

REVOKE ALL ON hygiene.query_rule FROM PUBLIC;
REVOKE ALL ON SEQUENCE hygiene.query_rule_id_seq FROM PUBLIC;

CREATE FUNCTION hygiene._query_rules_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'hygiene_query_rules_changed'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION hygiene._query_rules_changed() FROM PUBLIC;

CREATE TRIGGER query_rule_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hygiene.query_rule
  FOR EACH STATEMENT EXECUTE FUNCTION hygiene._query_rules_changed();

-- Validate and store one rule (insert, or replace the rule of the same queryid and role).
CREATE FUNCTION hygiene._set_query_rule(
    p_queryid bigint, p_action text, p_per_second double precision, p_max_concurrent integer,
    p_reason text, p_ttl interval, p_role regrole, p_dry_run boolean)
RETURNS bigint
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id bigint;
  v_max integer;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'query rules cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Change the rule on the primary; standbys apply it through replication within a second.';
  END IF;
  IF p_queryid IS NULL OR p_queryid = 0 THEN
    RAISE EXCEPTION 'queryid must be a non-zero query identifier'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Take it from pg_stat_statements.queryid, pg_stat_activity.query_id or EXPLAIN (VERBOSE).';
  END IF;
  IF p_reason IS NULL OR btrim(p_reason) = '' THEN
    RAISE EXCEPTION 'a query rule needs a reason'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is shown to the clients the rule stops and in hygiene.query_rules.',
            HINT = 'Pass reason => ''why this digest is limited''.';
  END IF;
  IF char_length(p_reason) > 200 THEN
    RAISE EXCEPTION 'the reason of a query rule is limited to 200 characters, not %', char_length(p_reason)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Put the details in a ticket and its reference in the reason.';
  END IF;
  IF p_ttl IS NOT NULL AND p_ttl <= interval '0' THEN
    RAISE EXCEPTION 'ttl must be positive, not %', p_ttl
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass NULL for a rule that never expires.';
  END IF;
  IF p_dry_run IS NULL THEN
    RAISE EXCEPTION 'dry_run must be true or false'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF p_action = 'throttle' THEN
    IF p_per_second IS NULL AND p_max_concurrent IS NULL THEN
      RAISE EXCEPTION 'a throttle rule needs per_second or max_concurrent'
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Pass per_second => 10 to allow ten statements a second, max_concurrent => 2 to allow two at a time, or both.';
    END IF;
    IF p_per_second IS NOT NULL AND NOT (p_per_second > 0 AND p_per_second < 'infinity') THEN
      RAISE EXCEPTION 'per_second must be a positive finite number, not %', p_per_second
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'To stop the digest entirely use hygiene.block_query().';
    END IF;
    IF p_max_concurrent IS NOT NULL AND p_max_concurrent <= 0 THEN
      RAISE EXCEPTION 'max_concurrent must be positive, not %', p_max_concurrent
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'To stop the digest entirely use hygiene.block_query().';
    END IF;
  END IF;

  v_max := current_setting('pg_hygiene.max_query_rules')::integer;
  IF NOT EXISTS (SELECT 1 FROM hygiene.query_rule r
                 WHERE r.queryid = p_queryid AND r.role IS NOT DISTINCT FROM p_role)
     AND (SELECT count(*) FROM hygiene.query_rule) >= v_max THEN
    RAISE EXCEPTION 'too many query rules'
      USING ERRCODE = 'program_limit_exceeded',
            DETAIL = format('This database already has %s rules; pg_hygiene.max_query_rules is %s.',
                            (SELECT count(*) FROM hygiene.query_rule), v_max),
            HINT = 'Remove expired rules with hygiene.purge_expired_query_rules() or raise pg_hygiene.max_query_rules and restart.';
  END IF;

  IF current_setting('compute_query_id') = 'off' THEN
    RAISE WARNING 'compute_query_id is off: statements have no queryid, so query rules match nothing'
      USING HINT = 'Set compute_query_id to auto (the default) or on.';
  END IF;

  INSERT INTO hygiene.query_rule AS r
         (queryid, role, action, per_second, max_concurrent, dry_run, reason, expires_at)
  VALUES (p_queryid, p_role, p_action, p_per_second, p_max_concurrent, p_dry_run, p_reason,
          now() + p_ttl)
  ON CONFLICT ON CONSTRAINT query_rule_queryid_role_key DO UPDATE
     SET action = EXCLUDED.action, per_second = EXCLUDED.per_second,
         max_concurrent = EXCLUDED.max_concurrent, dry_run = EXCLUDED.dry_run,
         reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at,
         created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by
  RETURNING r.rule_id INTO v_id;
  RETURN v_id;
END
$$;

REVOKE ALL ON FUNCTION hygiene._set_query_rule(bigint, text, double precision, integer, text, interval, regrole, boolean) FROM PUBLIC;

CREATE FUNCTION hygiene.block_query(
    queryid bigint, reason text, ttl interval DEFAULT NULL, role regrole DEFAULT NULL,
    dry_run boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT hygiene._set_query_rule($1, 'block', NULL, NULL, $2, $3, $4, $5) $$;

COMMENT ON FUNCTION hygiene.block_query(bigint, text, interval, regrole, boolean) IS
  'Rejects statements with this queryid (SQLSTATE 53H10), for every role or one; returns the rule id';

CREATE FUNCTION hygiene.throttle_query(
    queryid bigint, per_second double precision DEFAULT NULL, max_concurrent integer DEFAULT NULL,
    reason text DEFAULT NULL, ttl interval DEFAULT NULL, role regrole DEFAULT NULL,
    dry_run boolean DEFAULT false)
RETURNS bigint
LANGUAGE sql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT hygiene._set_query_rule($1, 'throttle', $2, $3, $4, $5, $6, $7) $$;

COMMENT ON FUNCTION hygiene.throttle_query(bigint, double precision, integer, text, interval, regrole, boolean) IS
  'Limits statements with this queryid to per_second (SQLSTATE 53H11) and/or max_concurrent (53H12); returns the rule id';

CREATE FUNCTION hygiene.remove_query_rule(queryid bigint, role regrole DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id bigint;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'query rules cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Change the rule on the primary; standbys apply it through replication within a second.';
  END IF;
  DELETE FROM hygiene.query_rule r
   WHERE r.queryid = $1 AND r.role IS NOT DISTINCT FROM $2
  RETURNING r.rule_id INTO v_id;
  IF v_id IS NULL THEN
    RAISE EXCEPTION 'no query rule for queryid % and %', $1,
                    coalesce('role ' || $2::text, 'every role')
      USING ERRCODE = 'undefined_object',
            HINT = 'SELECT queryid, role FROM hygiene.query_rules lists the rules; a rule for one role is removed with remove_query_rule(queryid, role).';
  END IF;
  RETURN v_id;
END
$$;

COMMENT ON FUNCTION hygiene.remove_query_rule(bigint, regrole) IS
  'Removes the rule of this queryid for every role (role NULL) or for one role; returns its id';

CREATE FUNCTION hygiene.purge_expired_query_rules()
RETURNS integer
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'query rules cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Purge expired rules on the primary; standbys follow through replication.';
  END IF;
  DELETE FROM hygiene.query_rule WHERE expires_at <= now();
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;

COMMENT ON FUNCTION hygiene.purge_expired_query_rules() IS
  'Deletes expired query rules (they stop applying when they expire, but stay listed until purged)';

CREATE FUNCTION hygiene.reload_query_rules()
RETURNS void
AS 'MODULE_PATHNAME', 'hygiene_reload_query_rules'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION hygiene.reload_query_rules() IS
  'Makes every session of this database reread hygiene.query_rule now';

CREATE FUNCTION hygiene._query_rule_stats(
    OUT rule_id bigint, OUT matched bigint, OUT blocked bigint, OUT throttled bigint,
    OUT waited bigint, OUT dry_run_hits bigint, OUT exempted bigint, OUT active integer,
    OUT last_hit timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_query_rule_stats'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- Every rule of this database with its counters (this server's, since its start).
CREATE VIEW hygiene.query_rules AS
  SELECT r.rule_id, r.queryid, r.role, r.action, r.per_second, r.max_concurrent,
         r.dry_run, r.reason, r.created_at, r.created_by, r.expires_at,
         (r.expires_at IS NOT NULL AND r.expires_at <= now()) AS expired,
         coalesce(s.matched, 0) AS matched,
         coalesce(s.blocked, 0) AS blocked,
         coalesce(s.throttled, 0) AS throttled,
         coalesce(s.waited, 0) AS waited,
         coalesce(s.dry_run_hits, 0) AS dry_run_hits,
         coalesce(s.exempted, 0) AS exempted,
         coalesce(s.active, 0) AS active,
         s.last_hit
  FROM hygiene.query_rule AS r
       LEFT JOIN hygiene._query_rule_stats() AS s ON s.rule_id = r.rule_id;

REVOKE ALL ON FUNCTION hygiene.block_query(bigint, text, interval, regrole, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene.throttle_query(bigint, double precision, integer, text, interval, regrole, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene.remove_query_rule(bigint, regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene.purge_expired_query_rules() FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene.reload_query_rules() FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene._query_rule_stats() FROM PUBLIC;
REVOKE ALL ON hygiene.query_rules FROM PUBLIC;
-- ==== limits ====
-- Per-role statement and priority limits (docs/limits.md).  Policy lives in GUCs set
-- with ALTER ROLE / ALTER DATABASE ... SET pg_hygiene.*; these objects only show state.

CREATE FUNCTION hygiene._role_stats(
    OUT roleid oid,
    OUT rolname text,
    OUT active_now integer,
    OUT admitted bigint,
    OUT queued bigint,
    OUT wait_ms double precision,
    OUT rejected_active bigint,
    OUT rejected_total bigint,
    OUT rejected_rate bigint,
    OUT rejected_plan_cost bigint,
    OUT rejected_join_rels bigint,
    OUT throttled_ms double precision,
    OUT wal_bytes_charged bigint,
    OUT stats_reset timestamptz,
    OUT admitted_over_cap bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_role_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION hygiene._role_stats() IS
  'Per-role limiter counters; read them through hygiene.role_stats';

-- One row per role a limit applied to since the server started.
CREATE VIEW hygiene.role_stats AS
  SELECT * FROM hygiene._role_stats();

CREATE FUNCTION hygiene._limits_summary(
    OUT active_total integer,
    OUT waiting integer,
    OUT tracked_roles integer,
    OUT untracked_statements bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'hygiene_limits_summary'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION hygiene._limits_summary() IS
  'Instance-wide limiter state; read it through hygiene.limits_summary';

-- One row: statements counted against max_active_total, statements queued now.
CREATE VIEW hygiene.limits_summary AS
  SELECT * FROM hygiene._limits_summary();

-- Zero the statistics of one role (or all, with NULL); live counts are kept.
CREATE FUNCTION hygiene.reset_role_stats(role regrole DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hygiene_reset_role_stats'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION hygiene.reset_role_stats(regrole) IS
  'Zero hygiene.role_stats counters of one role, or of all roles when NULL';

-- Other roles' activity: monitoring roles only.  Resetting: superusers (or whom they grant).
REVOKE ALL ON FUNCTION hygiene._role_stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene._limits_summary() FROM PUBLIC;
REVOKE ALL ON hygiene.role_stats FROM PUBLIC;
REVOKE ALL ON hygiene.limits_summary FROM PUBLIC;
REVOKE ALL ON FUNCTION hygiene.reset_role_stats(regrole) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hygiene._role_stats() TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION hygiene._limits_summary() TO pg_read_all_stats;
GRANT SELECT ON hygiene.role_stats TO pg_read_all_stats;
GRANT SELECT ON hygiene.limits_summary TO pg_read_all_stats;
