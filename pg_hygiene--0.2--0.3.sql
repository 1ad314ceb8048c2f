/* pg_hygiene--0.2--0.3.sql: update from 0.2 with ALTER EXTENSION pg_hygiene UPDATE */

\echo Use "ALTER EXTENSION pg_hygiene UPDATE TO '0.3'" to load this file. \quit

-- Version 0.3 collects the schema changes of the 0.3 work, one section per concern.
-- A fresh install reaches 0.3 through this script as well (0.1 base, then the updates),
-- so every change here is also what a new database gets.  Keep each section's statements
-- together; add new sections at the end.

-- == Section: trust, no-op suppression (issue 10, N) ==

-- N6: set_noop_updates() checks the table before anything else: it must exist, be an
-- ordinary or partitioned table that is neither a system catalog nor one of pg_hygiene's
-- own tables, and the caller must own it (or be a superuser).
CREATE OR REPLACE FUNCTION hygiene.set_noop_updates(tbl regclass, mode text)
RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c record;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION 'table must not be null'
      USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the table, e.g. hygiene.set_noop_updates(''public.t'', ''lock'').';
  END IF;
  SELECT r.relkind, r.relowner, r.relnamespace INTO c
    FROM pg_catalog.pg_class AS r WHERE r.oid = tbl::oid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid
      USING ERRCODE = 'undefined_table',
            HINT = 'Pass an existing table, e.g. hygiene.set_noop_updates(''public.t'', ''lock'').';
  END IF;
  IF tbl::oid < 16384 OR c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace THEN
    RAISE EXCEPTION '"%" is a system table', tbl
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'No-op UPDATE suppression never applies to system tables.';
  END IF;
  IF c.relkind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION '"%" is not a table', tbl
      USING ERRCODE = 'wrong_object_type',
            HINT = 'No-op UPDATE suppression applies to ordinary and partitioned tables.';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                AND d.objid = tbl::oid AND d.objsubid = 0
                AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension AS e
                                   WHERE e.extname = 'pg_hygiene')
                AND d.deptype = 'e') THEN
    RAISE EXCEPTION '"%" belongs to the extension pg_hygiene', tbl
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'The extension''s own tables are never subject to no-op UPDATE suppression settings.';
  END IF;
  IF NOT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', tbl
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Ask the table''s owner or a superuser to set its no-op UPDATE mode.';
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
  INSERT INTO hygiene.noop_update_settings AS s (relid, mode) VALUES (tbl, mode)
    ON CONFLICT (relid) DO UPDATE
      SET mode = excluded.mode, set_by = current_user, set_at = pg_catalog.now();
END
$$;

-- O11: the default mode is observe (count, write as stock); the noop_share_high advice
-- recommends lock per table (or database) for tables whose no-op rows were written in
-- observe mode, and leaves tables with an explicit override alone.  Only that rule
-- changes; the rest of the function is as in 0.1.
CREATE OR REPLACE FUNCTION hygiene._table_advice(
    OUT relid oid, OUT schemaname name, OUT relname name,
    OUT rule text, OUT severity text, OUT reason text,
    OUT alter_sql text, OUT revert_sql text, OUT needs_rewrite boolean)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
-- The plan over every table is costed high and JIT compiling it takes seconds;
-- 10,000 tables' history is a few MB of tuplestore.
SET jit = off SET work_mem = '64MB' SET search_path = pg_catalog, pg_temp
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
    -- noop_share_high: the no-op rows of a table in observe mode (the default) were written;
    -- recommend lock for that table (or its database), never against an explicit override
    SELECT h.relid, h.schemaname, h.relname, 'noop_share_high', 'info',
           format('%s of %s updated rows (%s%%) were no-ops (every column unchanged) and were '
                  'written, each a new row version, index entries and a dead row; with '
                  'pg_hygiene.noop_updates = lock for this table (or its database: ALTER DATABASE '
                  '%I SET pg_hygiene.noop_updates = lock) they would only be locked, with the same '
                  'results for applications',
                  h.noop_rows, h.hook_rows_updated, round(100 * h.noop_share::numeric),
                  current_database()),
           format('SELECT hygiene.set_noop_updates(%L, ''lock'');', h.qn),
           format('SELECT hygiene.set_noop_updates(%L, %L);', h.qn, o.mode), false
      FROM h CROSS JOIN p
      LEFT JOIN hygiene.noop_update_settings AS o ON o.relid::oid = h.relid
     WHERE h.hook_rows_updated >= p.min_upd AND h.noop_share >= 0.2
       AND coalesce(h.noop_suppressed, 0) < 0.5 * h.noop_rows
       AND coalesce(o.mode, current_setting('pg_hygiene.noop_updates')) = 'observe'
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

-- == Section: trust, security and privileges (issue 10, S) ==

-- S3: a schema "hygiene" that a role other than a superuser owns (or may create in) lets
-- that role plant objects the extension would call.  A fresh install is refused by the
-- library (src/extension_objects.c) before the 0.1 script runs; an existing installation
-- is checked here, so that updating one that was installed into such a schema fails loudly.
DO $check$
DECLARE
  who name;
BEGIN
  SELECT r.rolname INTO who
    FROM pg_catalog.pg_extension AS e
         JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
         JOIN pg_catalog.pg_roles AS r ON r.oid = n.nspowner
   WHERE e.extname = 'pg_hygiene' AND NOT r.rolsuper;
  IF who IS NOT NULL THEN
    RAISE EXCEPTION 'schema hygiene is owned by role "%", which is not a superuser', who
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'The owner of the schema could have replaced the extension''s objects or planted functions its code calls.',
            HINT = 'Check the schema''s objects, then ALTER SCHEMA hygiene OWNER TO a superuser, or DROP EXTENSION pg_hygiene and the schema and create the extension again.';
  END IF;
END
$check$;

-- S2: every SQL function runs with a fixed search_path, whoever calls it, so that an
-- object planted in a schema on the caller's path (a format() overload, an operator) is
-- never chosen.  Bodies already qualify the extension's own objects.  C functions resolve
-- no names and stay as they are (a SET clause would cost a GUC save and restore per
-- call, per row for the no-op trigger).
ALTER FUNCTION hygiene.take_sample() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.fillfactor_for(double precision, double precision, double precision, double precision, integer)
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.vacuum_trigger_for(double precision, double precision, double precision, double precision, double precision)
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.scale_trigger_for(double precision, double precision, double precision, double precision)
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.trigger_too_early(double precision, double precision, double precision, double precision)
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.vacuum_losing_race(integer, boolean, boolean, integer)
  SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene._xmin_holders() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene._table_health() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene.wraparound_severity(bigint, bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene._reloptions_revert(text, text[], text[]) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene._table_advice() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION hygiene._database_advice() SET search_path = pg_catalog, pg_temp;

-- exact_bloat builds dynamic SQL: pinned, and every call in it qualified.
CREATE OR REPLACE FUNCTION hygiene.exact_bloat(rel regclass,
    OUT table_bytes bigint, OUT live_bytes bigint, OUT dead_bytes bigint,
    OUT free_bytes bigint, OUT free_percent double precision)
RETURNS record
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  nsp name;
BEGIN
  SELECT n.nspname INTO nsp
    FROM pg_catalog.pg_extension AS e JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
   WHERE e.extname OPERATOR(pg_catalog.=) 'pgstattuple';
  IF nsp IS NULL THEN
    RAISE EXCEPTION 'pgstattuple is not installed in this database'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = 'hygiene.exact_bloat reads every page of the table through pgstattuple.',
            HINT = 'Run CREATE EXTENSION pgstattuple, or rely on the estimate in hygiene.table_health.';
  END IF;
  EXECUTE pg_catalog.format('SELECT p.table_len, p.tuple_len, p.dead_tuple_len, p.free_space, p.free_percent FROM %I.pgstattuple($1::pg_catalog.regclass) AS p', nsp)
     INTO table_bytes, live_bytes, dead_bytes, free_bytes, free_percent
    USING rel;
END
$$;

-- The sampler runs as the extension owner for whoever reads the advice views: its call of
-- _advice_record names the argument types, so that no other overload can match.
CREATE OR REPLACE FUNCTION hygiene._advice_sample(force boolean)
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
    FROM pg_catalog.pg_stat_activity AS a
   WHERE a.backend_xmin IS NOT NULL AND a.pid <> pg_catalog.pg_backend_pid()
     AND a.backend_type = 'client backend'
     AND a.datname = pg_catalog.current_database();
  WITH w AS (
    SELECT * FROM hygiene._table_write_stats()
     WHERE dbid = (SELECT oid FROM pg_catalog.pg_database
                    WHERE datname = pg_catalog.current_database())),
  t AS (
    SELECT s.relid,
           ARRAY[s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze, s.n_tup_ins,
                 s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, s.autovacuum_count,
                 c.relpages::bigint * 8192,
                 coalesce(w.rows_updated, 0), coalesce(w.indexed_changed, 0),
                 coalesce(w.nonindexed_only, 0), coalesce(w.noop_rows, 0),
                 coalesce(w.noop_suppressed, 0),
                 pg_catalog.age(c.relfrozenxid), horizon_ms] AS m
      FROM pg_catalog.pg_stat_user_tables AS s
           JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
           LEFT JOIN w ON w.relid = s.relid
     WHERE c.relkind IN ('r', 'm'))
  SELECT hygiene._advice_record(
           coalesce(pg_catalog.array_agg(t.relid), '{}')::pg_catalog.oid[],
           coalesce(pg_catalog.array_agg(t.m), '{}')::pg_catalog.int8[],
           '{f,f,f,t,t,t,t,t,f,t,t,t,t,t,f,f}'::pg_catalog.bool[])
    INTO n
    FROM t;
  RETURN n;
END
$$;

-- S6: the widths of the columns the caller may read, through pg_stats (which checks
-- column privileges and row security), instead of pg_statistic as the extension owner.
CREATE OR REPLACE FUNCTION hygiene._row_widths(OUT starelid oid, OUT w bigint)
RETURNS SETOF record
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c.oid, pg_catalog.sum(s.avg_width)::pg_catalog.int8
    FROM pg_catalog.pg_stats AS s
         JOIN pg_catalog.pg_namespace AS n ON n.nspname = s.schemaname
         JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = s.tablename
   WHERE NOT s.inherited
   GROUP BY c.oid
$$;

-- == Section: trust, limits and query rules (issue 10, L) ==

-- L9, L10, L14: a throttle rule slower than one statement a day, a rule for role 0 or for a
-- role that does not exist, and a reason with control characters are rejected.  (The C
-- side ignores rows of role 0, raises slower rates to one a day and blanks control
-- characters of rows stored before.)
CREATE OR REPLACE FUNCTION hygiene._set_query_rule(
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
  IF p_reason ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION 'the reason of a query rule must not contain control characters'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is shown to clients inside an error''s DETAIL line; a newline there would forge other lines.',
            HINT = 'Write the reason on one line.';
  END IF;
  IF char_length(p_reason) > 200 THEN
    RAISE EXCEPTION 'the reason of a query rule is limited to 200 characters, not %', char_length(p_reason)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Put the details in a ticket and its reference in the reason.';
  END IF;
  IF p_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.oid = p_role) THEN
    RAISE EXCEPTION 'role % does not exist', p_role::oid
      USING ERRCODE = 'undefined_object',
            HINT = 'Pass role => NULL (the default) for a rule that applies to every role.';
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
    IF p_per_second IS NOT NULL AND p_per_second < 1.0 / 86400 THEN
      RAISE EXCEPTION 'per_second must be at least one statement a day (1/86400), not %', p_per_second
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

-- == Section: trust, shared memory and DDL guard (issue 10, M, G1) ==

-- == Section: packaging (issue 11) ==
