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

-- O11: the default mode is observe (count, write as stock).  The noop_share_high rule of
-- hygiene._table_advice() recommends lock per table (or database) for tables whose no-op
-- rows were written in observe mode, and leaves tables with an explicit override alone;
-- the function is redefined once, with that rule, in the advice section (issue 13) below.

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

-- L9, L10, L14 (a throttle rule slower than one statement a day, a rule for role 0 or for a
-- role that does not exist, a reason with control characters are rejected) are checked by
-- hygiene._set_query_rule as the rules section below defines it, with the sample text.
-- (The C side ignores rows of role 0, raises slower rates to one a day and blanks control
-- characters of rows stored before.)

-- == Section: trust, shared memory and DDL guard (issue 10, M, G1) ==

-- == Section: packaging (issue 11) ==

-- == Section: advice, soft index drop, monitoring (issue 13) ==

-- Soft index drop (design section 6, O2).  A row names an index the planner of every
-- session, on the primary and on every standby, no longer considers; writes still
-- maintain it.  Rows name the index (schema, name), not its OID: pg_dump restores this
-- table's data before it creates indexes, and OIDs change in a restore.
CREATE TABLE hygiene.disabled_index (
    index_schema name NOT NULL,
    index_name name NOT NULL,
    reason text NOT NULL,
    disabled_by name NOT NULL DEFAULT current_user,
    disabled_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    idx_scan_at_disable bigint,
    table_writes_at_disable bigint,
    PRIMARY KEY (index_schema, index_name)
);
SELECT pg_catalog.pg_extension_config_dump('hygiene.disabled_index', '');
COMMENT ON TABLE hygiene.disabled_index IS
  'Indexes the planner does not consider (soft drop); change it with hygiene.disable_index() and hygiene.enable_index()';
-- Rows are checked by the trigger below as the role that writes them: only the owner of
-- the index's table (or a superuser) may add, change or remove its row.
REVOKE ALL ON hygiene.disabled_index FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON hygiene.disabled_index TO PUBLIC;

-- Check a row as the role writing it; fill in who, when and the counters at that moment.
CREATE FUNCTION hygiene._disabled_index_check()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_row record;
  v_idx oid;
  v_tbl oid;
  v_kind "char";
  v_con name;
  v_contype "char";
BEGIN
  -- the row being replaced or removed must be the caller's to change, too
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT c.oid, i.indrelid INTO v_idx, v_tbl
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_index AS i ON i.indexrelid = c.oid
     WHERE n.nspname = OLD.index_schema AND c.relname = OLD.index_name;
    IF v_tbl IS NOT NULL
       AND NOT pg_catalog.pg_has_role(current_user,
             (SELECT t.relowner FROM pg_catalog.pg_class AS t WHERE t.oid = v_tbl), 'USAGE') THEN
      RAISE EXCEPTION 'must be owner of table %', v_tbl::regclass
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = format('Index %I.%I is disabled; only the owner of its table may enable it.',
                              OLD.index_schema, OLD.index_name);
    END IF;
    IF TG_OP = 'DELETE' THEN
      RETURN OLD;
    END IF;
  END IF;

  SELECT c.oid, c.relkind INTO v_idx, v_kind
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE n.nspname = NEW.index_schema AND c.relname = NEW.index_name;
  IF v_idx IS NULL THEN
    -- A restore (pg_dump loads this table's data before it creates indexes) runs as a
    -- superuser: keep the row as dumped, without counters of this server.  Nobody else
    -- may name an index that does not exist (yet): its future owner would find it disabled.
    IF TG_OP = 'INSERT' AND (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r
                              WHERE r.rolname = current_user) THEN
      NEW.idx_scan_at_disable := NULL;
      NEW.table_writes_at_disable := NULL;
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'index %.% does not exist', pg_catalog.quote_ident(NEW.index_schema),
                    pg_catalog.quote_ident(NEW.index_name)
      USING ERRCODE = 'undefined_object';
  END IF;
  IF v_kind = 'I' THEN
    RAISE EXCEPTION '"%" is a partitioned index', v_idx::regclass
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'The planner never uses a partitioned index itself, only the indexes of the partitions.',
            HINT = 'Disable the index of each partition you mean.';
  END IF;
  IF v_kind <> 'i' THEN
    RAISE EXCEPTION '"%" is not an index', v_idx::regclass
      USING ERRCODE = 'wrong_object_type',
            HINT = 'hygiene.disable_index() takes an index.';
  END IF;
  SELECT i.indrelid INTO v_tbl FROM pg_catalog.pg_index AS i WHERE i.indexrelid = v_idx;
  IF NOT pg_catalog.pg_has_role(current_user,
           (SELECT t.relowner FROM pg_catalog.pg_class AS t WHERE t.oid = v_tbl), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', v_tbl::regclass
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Only the owner of the table (or a superuser) may disable or enable its indexes.';
  END IF;
  IF v_tbl < 16384 OR (SELECT t.relkind FROM pg_catalog.pg_class AS t WHERE t.oid = v_tbl) NOT IN ('r', 'm') THEN
    RAISE EXCEPTION 'cannot disable index "%" of "%"', v_idx::regclass, v_tbl::regclass
      USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only indexes of user tables and materialized views can be disabled.';
  END IF;
  SELECT co.conname, co.contype INTO v_con, v_contype
    FROM pg_catalog.pg_constraint AS co
   WHERE co.conindid = v_idx AND co.conrelid = v_tbl AND co.contype IN ('p', 'u', 'x')
   LIMIT 1;
  IF v_con IS NOT NULL
     OR (SELECT i.indisprimary OR i.indisexclusion FROM pg_catalog.pg_index AS i
          WHERE i.indexrelid = v_idx) THEN
    RAISE EXCEPTION 'cannot disable index "%" because it backs constraint "%" of table %',
                    v_idx::regclass, coalesce(v_con, '?'), v_tbl::regclass
      USING ERRCODE = 'dependent_objects_still_exist',
            DETAIL = format('The index enforces the %s constraint, which must keep using it.',
                            CASE v_contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE'
                                           ELSE 'EXCLUDE' END),
            HINT = 'Only indexes that back no PRIMARY KEY, UNIQUE or EXCLUDE constraint can be disabled.';
  END IF;

  NEW.disabled_by := current_user;
  IF TG_OP = 'INSERT' OR NEW.index_schema IS DISTINCT FROM OLD.index_schema
     OR NEW.index_name IS DISTINCT FROM OLD.index_name THEN
    NEW.disabled_at := pg_catalog.now();
    NEW.idx_scan_at_disable := pg_catalog.pg_stat_get_numscans(v_idx);
    NEW.table_writes_at_disable := pg_catalog.pg_stat_get_tuples_inserted(v_tbl)
      + pg_catalog.pg_stat_get_tuples_updated(v_tbl)
      - pg_catalog.pg_stat_get_tuples_hot_updated(v_tbl);
  ELSE
    NEW.disabled_at := OLD.disabled_at;
    NEW.idx_scan_at_disable := OLD.idx_scan_at_disable;
    NEW.table_writes_at_disable := OLD.table_writes_at_disable;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER disabled_index_check
  BEFORE INSERT OR UPDATE OR DELETE ON hygiene.disabled_index
  FOR EACH ROW EXECUTE FUNCTION hygiene._disabled_index_check();

-- Every backend (and every standby) rereads the set, and the plans of the index's table
-- are rebuilt, once a change commits.
CREATE FUNCTION hygiene._disabled_index_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'hygiene_disabled_index_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION hygiene._disabled_index_changed() FROM PUBLIC;
CREATE TRIGGER disabled_index_changed
  AFTER INSERT OR UPDATE OR DELETE ON hygiene.disabled_index
  FOR EACH ROW EXECUTE FUNCTION hygiene._disabled_index_changed();
CREATE TRIGGER disabled_index_truncated
  AFTER TRUNCATE ON hygiene.disabled_index
  FOR EACH STATEMENT EXECUTE FUNCTION hygiene._disabled_index_changed();

-- Hide an index from the planner everywhere; writes keep maintaining it.
CREATE FUNCTION hygiene.disable_index(index regclass, reason text, ttl interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF index IS NULL THEN
    RAISE EXCEPTION 'index must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF reason IS NULL OR pg_catalog.btrim(reason) = '' THEN
    RAISE EXCEPTION 'a reason is required to disable an index'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Say why, e.g. ''idx_scan 0 on the primary and on both standbys since 2026-11-01''.';
  END IF;
  IF ttl IS NOT NULL AND ttl <= interval '0' THEN
    RAISE EXCEPTION 'ttl must be positive, not %', ttl
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass NULL to disable the index until hygiene.enable_index() is called.';
  END IF;
  INSERT INTO hygiene.disabled_index AS d (index_schema, index_name, reason, expires_at)
  SELECT n.nspname, c.relname, disable_index.reason, pg_catalog.now() + ttl
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE c.oid = index
  ON CONFLICT (index_schema, index_name) DO UPDATE
     SET reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', index::oid
      USING ERRCODE = 'undefined_table';
  END IF;
END
$$;

-- Let the planner use the index again, everywhere, at once.
CREATE FUNCTION hygiene.enable_index(index regclass)
RETURNS boolean
LANGUAGE plpgsql STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  DELETE FROM hygiene.disabled_index AS d
   USING pg_catalog.pg_class AS c
   JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE c.oid = index AND d.index_schema = n.nspname AND d.index_name = c.relname;
  RETURN FOUND;
END
$$;

CREATE VIEW hygiene.disabled_indexes AS
SELECT d.index_schema, d.index_name,
       c.oid::regclass AS index,
       i.indrelid::regclass AS "table",
       (c.oid IS NOT NULL AND (d.expires_at IS NULL OR d.expires_at > pg_catalog.now())) AS active,
       d.disabled_at, d.disabled_by, d.reason, d.expires_at,
       CASE WHEN s.scans >= 0 THEN s.scans END AS idx_scan_since_disabled,
       CASE WHEN s.writes >= 0 THEN s.writes END AS index_writes_since_disabled,
       pg_catalog.pg_relation_size(c.oid) AS index_bytes
  FROM hygiene.disabled_index AS d
  LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname = d.index_schema
  LEFT JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = d.index_name
                                    AND c.relkind = 'i'
  LEFT JOIN pg_catalog.pg_index AS i ON i.indexrelid = c.oid
  CROSS JOIN LATERAL (
    SELECT pg_catalog.pg_stat_get_numscans(c.oid) - d.idx_scan_at_disable AS scans,
           pg_catalog.pg_stat_get_tuples_inserted(i.indrelid)
             + pg_catalog.pg_stat_get_tuples_updated(i.indrelid)
             - pg_catalog.pg_stat_get_tuples_hot_updated(i.indrelid)
             - d.table_writes_at_disable AS writes) AS s;
COMMENT ON VIEW hygiene.disabled_indexes IS
  'Indexes the planner does not consider (hygiene.disable_index()), with what happened since';
COMMENT ON COLUMN hygiene.disabled_indexes.active IS
  'The index exists under this name and its ttl has not passed: the planner does not consider it';
COMMENT ON COLUMN hygiene.disabled_indexes.idx_scan_since_disabled IS
  'Scans of the index since it was disabled (this server''s counters; NULL after a statistics reset or a restore)';
COMMENT ON COLUMN hygiene.disabled_indexes.index_writes_since_disabled IS
  'Rows inserted or updated without HOT in the table since the index was disabled: each wrote an index entry (this server''s counters; NULL after a statistics reset or a restore)';
COMMENT ON COLUMN hygiene.disabled_indexes.index_bytes IS
  'Size of the index in bytes';
GRANT SELECT ON hygiene.disabled_indexes TO PUBLIC;

-- O33: trigger_too_early bounds its threshold.  The trigger it recommends is the least of
-- the dead rows of 5 minutes, 20% of the live rows and what one index pass of
-- autovacuum_work_mem holds (6 bytes per dead row, at most 1 GB, 90% of it), and it fires
-- only when that at least doubles the current trigger; driven_by names the figure.  The
-- unbounded 4-argument form is dropped.  For tables of big_rows or more (the
-- vacuum_trigger_late rule's domain) the trigger is also at most twice that rule's target
-- (2% of rows or one index pass): a higher one would make vacuum_trigger_late fire on the
-- next look, and the two rules would undo each other (found by bench/advice_apply.sh).
-- With horizon_s (the oldest snapshot's age, at least 1 s) the 20% bound counts the rows
-- that die within the horizon: vacuum cannot remove them, so they come on top of the
-- trigger (advbench: a 20% trigger under a 1-2 s horizon peaked at 29% of live rows,
-- against 26% with the 60-row trigger it replaced).  And it fires only when the new trigger
-- is at least twice the rows that die within the horizon: those stay after every vacuum, so
-- below that vacuums still start back to back and the raise buys nothing but dead rows
-- (bench/advice_apply.sh at 8,200 TPS: a raise from 60 to 863 under 1,137 such rows left
-- 264 autovacuums instead of 285 and made the table 5% larger).
DROP FUNCTION hygiene.trigger_too_early(double precision, double precision, double precision, double precision);
CREATE FUNCTION hygiene.trigger_too_early(
    autovacuums_per_hour double precision,
    dead_rows_per_hour double precision,
    table_bytes double precision,
    min_table_bytes double precision,
    reltuples double precision,
    scale_factor double precision,
    current_trigger double precision,
    work_mem_bytes double precision,
    big_rows double precision DEFAULT NULL,
    horizon_s double precision DEFAULT NULL,
    OUT fires boolean,
    OUT new_threshold bigint,
    OUT new_trigger bigint,
    OUT driven_by text)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
  WITH c AS (
    SELECT dead_rows_per_hour / 12 AS by_rate,
           greatest(0.2 * greatest(reltuples, 0)
                    - CASE WHEN horizon_s IS NOT NULL
                           THEN coalesce(dead_rows_per_hour, 0) / 3600 * greatest(horizon_s, 1)
                           ELSE 0 END, 0) AS by_rows,
           CASE WHEN horizon_s IS NOT NULL
                THEN coalesce(dead_rows_per_hour, 0) / 3600 * greatest(horizon_s, 1)
                ELSE 0 END AS in_horizon,
           0.9 * least(work_mem_bytes, 1073741824) / 6 AS by_mem,
           CASE WHEN reltuples >= big_rows
                THEN 2 * least(0.02 * reltuples, 0.9 * least(work_mem_bytes, 1073741824) / 6)
           END AS by_late),
  t AS (
    SELECT c.*, least(by_rate, by_rows, by_mem, by_late) AS target,
           greatest(coalesce(scale_factor, 0) * greatest(reltuples, 0), 0) AS by_scale
      FROM c)
  SELECT autovacuums_per_hour > 12 AND table_bytes >= min_table_bytes
           AND t.target - t.by_scale >= 50 AND t.target >= 2 * current_trigger
           AND t.target >= 2 * t.in_horizon,
         round(t.target - t.by_scale)::bigint,
         (round(t.target - t.by_scale) + t.by_scale)::bigint,
         CASE WHEN t.target = t.by_rate
              THEN format('the dead rows of 5 minutes (%s an hour)', round(dead_rows_per_hour))
              WHEN t.target = t.by_late
              THEN format('twice the 2%% target of vacuum_trigger_late (tables of %s rows or more)',
                          round(big_rows))
              WHEN t.target = t.by_rows AND t.in_horizon > 0
              THEN format('20%% of the %s live rows less the %s that die within the %s s xmin horizon',
                          round(reltuples), round(t.in_horizon),
                          round(greatest(horizon_s, 1)::numeric, 1))
              WHEN t.target = t.by_rows
              THEN format('20%% of the %s live rows', round(reltuples))
              ELSE format('one index pass of autovacuum_work_mem (%s)',
                          pg_size_pretty(least(work_mem_bytes, 1073741824)::bigint)) END
    FROM t
$$;

-- vacuum_losing_race blamed autovacuum_vacuum_cost_limit when the dead rows that stay above
-- the trigger are those a short, rotating snapshot keeps (seen by bench/advice_apply.sh:
-- 500 updates a second under a 1-2 s old horizon keep about 1,000 dead rows, whatever
-- the cost limit, above a 60-row trigger; no holder is "pinned" because the snapshots
-- rotate, and the advice raised the cost limit x4 at every look).  The rule now also
-- needs the trigger to be above the rows that die within the horizon (dead rows a second
-- x max_horizon_s, at least 1 s); below that, vacuum cannot win by going faster, and
-- vacuum_trigger_early (a higher trigger) or the xmin rules are the answer.  Both callers,
-- hygiene._table_advice() (below) and hygiene._database_advice() (monitor section), pass
-- the figures.
DROP FUNCTION hygiene.vacuum_losing_race(integer, boolean, boolean, integer);
CREATE FUNCTION hygiene.vacuum_losing_race(
    above_trigger_samples integer,
    autovacuum_ran boolean,
    horizon_pinned boolean,
    cost_limit integer,
    trigger_rows double precision DEFAULT NULL,
    dead_rows_per_s double precision DEFAULT NULL,
    horizon_s double precision DEFAULT NULL,
    OUT fires boolean,
    OUT new_cost_limit integer)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT above_trigger_samples >= 3 AND autovacuum_ran AND NOT horizon_pinned
           AND NOT coalesce(dead_rows_per_s * greatest(horizon_s, 1) >= trigger_rows, false),
         least(10000, cost_limit * 4)
$$;

-- O33: a lower fillfactor is paid in heap pages; what HOT updates give back in size is index
-- space (a non-HOT update adds an entry to every index of the table).  bench/fillfactor_sweep.sh
-- (one copy of a HOT-starved table per fillfactor, 300 s of the same updates): with only a
-- primary key every step down from 100 made the table larger (total 4.10 MB at 100, 4.30 at
-- 90, 4.58 at 75) although HOT rose from 0.74 to 0.98; with three more indexes the total fell
-- from 6.35 MB at 100 to 5.48 at 80.  fillfactor_cap() is the lowest fillfactor whose reserve
-- (pages x (current_ff / ff - 1)) stays within the index pages that non-HOT updates take now,
-- estimated as the index pages x the share of HOT-eligible updates that were not HOT; the
-- fillfactor_lower rule advises no lower than that, and gives no SQL when it is not below the
-- current fillfactor (the table would only grow).
CREATE FUNCTION hygiene.fillfactor_cap(
    pages double precision,
    index_pages double precision,
    not_hot_share double precision,
    current_ff integer,
    OUT fillfactor integer,
    OUT index_pages_at_stake double precision)
RETURNS SETOF record
-- SETOF, not STRICT: the planner inlines it into the advice query.
LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT least(current_ff,
               (ceil(current_ff * greatest(pages, 1) / (greatest(pages, 1) + stake) / 5) * 5)::integer),
         stake
    FROM (SELECT greatest(coalesce(index_pages, 0), 0)
                   * least(greatest(coalesce(not_hot_share, 0), 0), 1) AS stake) AS x
$$;
COMMENT ON FUNCTION hygiene.fillfactor_cap(double precision, double precision, double precision, integer) IS
  'The size bound of the fillfactor_lower rule as a pure function: the lowest fillfactor whose heap reserve costs no more pages than the index pages non-HOT updates take (index pages x share not HOT)';

-- O2, O33: the advice (rules as in the trust section above, two changed): hot_blocked_by_index
-- recommends hygiene.disable_index() with the statistics' age and the query to run on each
-- standby, never DROP INDEX; vacuum_trigger_early uses the bounded trigger_too_early().
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
                ELSE pg_size_bytes(current_setting('autovacuum_work_mem')) END::float8 AS mem,
           (SELECT CASE WHEN d.stats_reset IS NULL
                        THEN 'statistics began (never reset)'
                        ELSE format('statistics were reset %s UTC (%s ago)',
                                    to_char(d.stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                                    CASE WHEN now() - d.stats_reset < interval '2 hours'
                                         THEN floor(extract(epoch FROM now() - d.stats_reset) / 60) || ' minutes'
                                         WHEN now() - d.stats_reset < interval '2 days'
                                         THEN floor(extract(epoch FROM now() - d.stats_reset) / 3600) || ' hours'
                                         ELSE floor(extract(epoch FROM now() - d.stats_reset) / 86400) || ' days' END) END
              FROM pg_catalog.pg_stat_database AS d
             WHERE d.datname = current_database()) AS stats_age),
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
    -- vacuum_trigger_early (O33): the new trigger is bounded by 20% of the live rows and by
    -- one index pass of autovacuum_work_mem; the reason names the figure that set it
    SELECT h.relid, h.schemaname, h.relname, 'vacuum_trigger_early', 'info',
           format('autovacuum ran %s times an hour on a %s table of %s rows (trigger %s dead rows): '
                  'each run scans every index; a trigger of %s dead rows, set by %s, keeps dead rows '
                  'under 20%% of live rows and within one index pass',
                  round(h.autovacuums_per_hour::numeric, 1), pg_size_pretty(h.table_bytes),
                  h.reltuples, h.vacuum_trigger_rows, e.new_trigger, e.driven_by),
           format('ALTER TABLE %s SET (autovacuum_vacuum_threshold = %s);', h.qn, e.new_threshold),
           hygiene._reloptions_revert(h.qn, h.reloptions, '{autovacuum_vacuum_threshold}'), false
      FROM h, p,
           LATERAL hygiene.trigger_too_early(h.autovacuums_per_hour,
                                             coalesce(h.updates_per_hour, 0) + coalesce(h.deletes_per_hour, 0),
                                             h.table_bytes, p.min_size, h.reltuples,
                                             h.vacuum_scale_factor, h.vacuum_trigger_rows, p.mem,
                                             p.big, coalesce(h.max_horizon_s, 0)) AS e
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
                                              h.vacuum_pinned, h.cost_limit, h.vacuum_trigger_rows,
                                              coalesce(h.peak_updates_per_s, h.updates_per_hour / 3600, 0)
                                                + coalesce(h.deletes_per_hour, 0) / 3600,
                                              h.max_horizon_s) AS l
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
    -- fillfactor_lower: sized by fillfactor_for(), never lower than fillfactor_cap() (O33);
    -- no SQL when the cap is the current fillfactor: the reserve would cost more heap than
    -- the index space HOT updates give back
    SELECT h.relid, h.schemaname, h.relname, 'fillfactor_lower',
           CASE WHEN a.ff < h.fillfactor THEN 'warning' ELSE 'info' END,
           format('%s of %s HOT-eligible updates (only non-indexed columns changed) were not HOT '
                  'in %s: pages were full; ', h.hot_eligible_failed, h.updates_hot_eligible,
                  h.history_span)
           || CASE WHEN a.ff < h.fillfactor AND a.ff = f.fillfactor THEN
                format('fillfactor %s from %s', a.ff, split_part(f.driven_by, '; cost: ', 1))
              WHEN a.ff < h.fillfactor THEN
                format('fillfactor %s, the lowest whose reserve costs no more heap than the index '
                       'space it saves; the sizing alone gives %s (from %s)',
                       a.ff, f.fillfactor, split_part(f.driven_by, '; cost: ', 1))
              ELSE
                format('a fillfactor that fits them (%s, from %s) is not advised: its reserve would '
                       'cost more heap than the index space it saves, even at fillfactor %s; HOT '
                       'updates would still save index writes and WAL (if those matter more than '
                       'the heap: ALTER TABLE %s SET (fillfactor = %s) and a rewrite)',
                       f.fillfactor, split_part(f.driven_by, '; cost: ', 1),
                       greatest(50, h.fillfactor - 5), h.qn, f.fillfactor) END
           || format('; cost: the heap needs up to about %s times the pages it needs at fillfactor '
                     '%s (%s/%s, about %s pages more), from the rewrite on; the index space non-HOT '
                     'updates take now, which HOT updates give back: %s index pages x %s%% of '
                     'HOT-eligible updates not HOT = %s pages',
                     round(h.fillfactor::numeric / a.shown_ff, 2), h.fillfactor, h.fillfactor,
                     a.shown_ff, round(a.pages * (h.fillfactor::numeric / a.shown_ff - 1)),
                     round(a.index_pages), round(100 * a.not_hot_share),
                     round(c.index_pages_at_stake::numeric)),
           CASE WHEN a.ff < h.fillfactor THEN format('ALTER TABLE %s SET (fillfactor = %s);', h.qn, a.ff) END,
           CASE WHEN a.ff < h.fillfactor THEN hygiene._reloptions_revert(h.qn, h.reloptions, '{fillfactor}') END,
           a.ff < h.fillfactor
      FROM h, p,
           LATERAL hygiene.fillfactor_for(h.row_bytes, greatest(h.table_bytes / 8192, 1),
                                          -- HOT-eligible share of the busiest interval's updates
                                          greatest(h.updates_hot_eligible / greatest(h.span_s, 1),
                                                   coalesce(h.peak_updates_per_s, 0) * h.updates_hot_eligible
                                                     / greatest(h.hook_rows_updated, 1)),
                                          coalesce(h.max_horizon_s, 0), h.fillfactor) AS f,
           LATERAL (SELECT greatest(h.table_bytes / 8192, 1)::numeric AS pages,
                           (SELECT coalesce(sum(ic.relpages), 0)
                              FROM pg_catalog.pg_index AS i
                              JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
                             WHERE i.indrelid = h.relid)::numeric AS index_pages,
                           (h.hot_eligible_failed::numeric / greatest(h.updates_hot_eligible, 1)) AS not_hot_share
                   ) AS x,
           LATERAL hygiene.fillfactor_cap(x.pages, x.index_pages, x.not_hot_share, h.fillfactor) AS c,
           LATERAL (SELECT x.*, greatest(f.fillfactor, c.fillfactor) AS ff,
                           CASE WHEN greatest(f.fillfactor, c.fillfactor) < h.fillfactor
                                THEN greatest(f.fillfactor, c.fillfactor) ELSE f.fillfactor END AS shown_ff
                   ) AS a
     WHERE h.hot_eligible_failed IS NOT NULL
       AND h.updates_hot_eligible >= p.min_upd
       AND h.hot_eligible_failed >= 0.1 * h.updates_hot_eligible
       AND h.row_bytes IS NOT NULL AND h.fillfactor > 50
    UNION ALL
    -- hot_blocked_by_index (O2): never DROP INDEX from this server's scan counts alone; an
    -- index never scanned here is to be disabled (soft drop), after checking every standby
    SELECT h.relid, h.schemaname, h.relname, 'hot_blocked_by_index', 'info',
           format('%s%% of updates changed an indexed column, so they can never be HOT and a lower '
                  'fillfactor would not help; indexes: %s%s',
                  round(100.0 * h.updates_indexed_changed
                        / greatest(h.updates_indexed_changed + coalesce(h.updates_hot_eligible, 0), 1)),
                  h.indexes,
                  CASE WHEN u.idx IS NULL THEN ''
                       WHEN u.disabled_at IS NOT NULL
                       THEN format('; %s is disabled since %s (hygiene.disabled_indexes): confirm on '
                                   'every standby that it stays unused (%s) before dropping it',
                                   u.idx, u.disabled_at, u.standby_check)
                       ELSE format('; %s was never scanned on this server since %s; standbys keep '
                                   'their own counts (reads there do not show here): run on each '
                                   'standby %s, then disable it (the planner stops using it, writes '
                                   'still maintain it, hygiene.enable_index() undoes it at once)',
                                   u.idx, p.stats_age, u.standby_check) END),
           CASE WHEN u.idx IS NOT NULL AND u.disabled_at IS NULL
                THEN format('SELECT hygiene.disable_index(%L, %L);', u.idx::text,
                            format('never scanned on the primary since %s; checked on every standby',
                                   p.stats_age)) END,
           CASE WHEN u.idx IS NOT NULL AND u.disabled_at IS NULL
                THEN format('SELECT hygiene.enable_index(%L);', u.idx::text) END,
           false
      FROM h CROSS JOIN p
      LEFT JOIN LATERAL (
        SELECT h.unused_index AS idx, d.disabled_at,
               format('SELECT idx_scan, (SELECT stats_reset FROM pg_stat_database WHERE datname '
                      '= current_database()) FROM pg_stat_user_indexes WHERE indexrelid = %L::regclass',
                      h.unused_index::text) AS standby_check
          FROM pg_catalog.pg_index AS i
          LEFT JOIN hygiene.disabled_indexes AS d ON d.index = h.unused_index AND d.active
         WHERE i.indexrelid = h.unused_index AND NOT i.indisexclusion) AS u ON true
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

-- O16, O21: monitoring.  pg_monitor (the role an exporter runs as) reads every counter
-- view: role_stats and limits_summary through pg_read_all_stats (a member role) already;
-- query_rules needs its counter function as well.  monitoring/pg_hygiene_queries.yaml
-- reads only these cheap views (no advice view: those take a sample).
GRANT SELECT ON hygiene.query_rules TO pg_monitor;
GRANT EXECUTE ON FUNCTION hygiene._query_rule_stats() TO pg_monitor;
GRANT SELECT ON hygiene.role_stats, hygiene.limits_summary TO pg_monitor;
GRANT EXECUTE ON FUNCTION hygiene._role_stats(), hygiene._limits_summary() TO pg_monitor;

COMMENT ON VIEW hygiene.status IS
  'The loaded library: version, shared memory, statements seen, table statistics capacity (cheap; for monitoring)';
COMMENT ON VIEW hygiene.role_stats IS
  'Per-role limit counters since the server started or hygiene.reset_role_stats() (cheap; for monitoring)';
COMMENT ON VIEW hygiene.limits_summary IS
  'Statements running and waiting under role limits now (cheap; for monitoring)';
COMMENT ON VIEW hygiene.query_rules IS
  'Query digest rules of this database with this server''s counters (cheap; for monitoring)';
COMMENT ON VIEW hygiene.table_write_stats IS
  'Per-table UPDATE counters of the executor hook: no-op rows, indexed and HOT-eligible changes (cheap)';
COMMENT ON VIEW hygiene.ddl_events IS
  'The DDL guard''s ring of recent events (bounded; the oldest are overwritten)';
COMMENT ON VIEW hygiene.advice_history IS
  'The sample history behind the advice views: tables, capacity, interval, last sample (cheap)';
COMMENT ON VIEW hygiene.table_health IS
  'Per-table evidence for the advice (takes a statistics sample if one is due: not for frequent scrapes)';
COMMENT ON VIEW hygiene.table_advice IS
  'Per-table recommendations with reason, ALTER and revert statements (takes a sample if due: not for frequent scrapes)';
COMMENT ON VIEW hygiene.database_advice IS
  'Instance-wide recommendations (autovacuum workers, cost limit, work memory, xmin horizon)';
COMMENT ON VIEW hygiene.xmin_holders IS
  'What holds the xmin horizon: backends, prepared transactions, replication slots, standby feedback';
COMMENT ON COLUMN hygiene.role_stats.wait_ms IS 'Time statements waited for a slot, in milliseconds';
COMMENT ON COLUMN hygiene.role_stats.throttled_ms IS 'Time statements were delayed by the write budget, in milliseconds';
COMMENT ON COLUMN hygiene.role_stats.wal_bytes_charged IS 'WAL bytes charged to the role''s write budget';
COMMENT ON COLUMN hygiene.advice_history.sample_interval_s IS 'pg_hygiene.advice_sample_interval, in seconds';
COMMENT ON COLUMN hygiene.advice_history.last_sample IS 'When this database was last sampled (by the background sampler, a view or take_sample())';

-- == Section: DDL guard (issue 12) ==
-- Rule table_rewrite is decided by the library's object access hook now, in every
-- database of a server that preloads it, with or without this extension.  The
-- event trigger of 0.1 is gone: it did nothing more, and it called into the
-- library, so that ALTER TABLE failed once the library was no longer preloaded.
DROP EVENT TRIGGER IF EXISTS hygiene_ddl_table_rewrite;
DROP FUNCTION IF EXISTS hygiene._ddl_table_rewrite();

-- == Section: trusttests: ineligible reasons, the extension's own tables (issue 12, O25) ==
-- ineligible_other of hygiene.table_write_stats, by named reason.  The extension's own
-- tables (query_rule, noop_update_settings, disabled_index) are left out of both
-- functions by the library: their updates are pg_hygiene's bookkeeping.
CREATE FUNCTION hygiene._table_write_ineligible(
    OUT dbid oid,
    OUT relid oid,
    OUT reason text,
    OUT ineligible_rows bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_table_write_ineligible'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION hygiene._table_write_ineligible() IS
  'The reasons behind ineligible_other per table; read it through hygiene.table_write_ineligible';

CREATE VIEW hygiene.table_write_ineligible AS
  SELECT s.relid,
         n.nspname AS schemaname,
         c.relname,
         s.reason,
         s.ineligible_rows
    FROM hygiene._table_write_ineligible() AS s
         JOIN pg_catalog.pg_class AS c ON c.oid = s.relid
         JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d
                    WHERE d.datname = pg_catalog.current_database());
GRANT SELECT ON hygiene.table_write_ineligible TO PUBLIC;
COMMENT ON VIEW hygiene.table_write_ineligible IS
  'Why the rows counted in table_write_stats.ineligible_other were not considered for no-op suppression: one row per table and reason (cheap)';
COMMENT ON COLUMN hygiene.table_write_ineligible.relid IS 'OID of the table';
COMMENT ON COLUMN hygiene.table_write_ineligible.schemaname IS 'Schema of the table';
COMMENT ON COLUMN hygiene.table_write_ineligible.relname IS 'Name of the table';
COMMENT ON COLUMN hygiene.table_write_ineligible.reason IS
  'serializable, not_heap_table, with_check, not_valid_check, mutable_check, other_writer, merge_actions, repeated_row, repeat_check_full or self_modified (docs/noop_updates.md)';
COMMENT ON COLUMN hygiene.table_write_ineligible.ineligible_rows IS
  'Rows counted in ineligible_other for this reason since the table''s statistics started (counter)';
-- == Section: policy: live role settings, standby scopes, standby errors (issue 12, O1 O10 O14 O22 O28) ==

-- O10: the status view says whether the server is in recovery (a hot standby).
CREATE OR REPLACE VIEW hygiene.status AS
  SELECT s.library_version,
         e.extversion AS extension_version,
         s.shared_memory,
         s.started_at,
         s.statements_seen,
         t.entries AS table_stats_entries,
         t.max_entries AS table_stats_max,
         t.dropped_rows AS table_stats_dropped,
         pg_catalog.pg_is_in_recovery() AS in_recovery
  FROM hygiene._status() AS s,
       hygiene._table_stats_summary() AS t,
       pg_catalog.pg_extension AS e
  WHERE e.extname = 'pg_hygiene';
COMMENT ON COLUMN hygiene.status.in_recovery IS
  'The server is in recovery (a hot standby): policy is changed on the primary, pg_hygiene.on_standby settings apply here';

-- O10: the functions that change policy stored in tables refuse on a standby with
-- 25006 and say where to run them, as the query rule functions do (before, a raw
-- "cannot execute INSERT in a read-only transaction" with PL/pgSQL context).
CREATE OR REPLACE FUNCTION hygiene.set_noop_updates(tbl regclass, mode text)
RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c record;
BEGIN
  IF pg_catalog.pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pg_hygiene: no-op UPDATE settings cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Run hygiene.set_noop_updates() on the primary; standbys follow through replication.';
  END IF;
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

CREATE OR REPLACE FUNCTION hygiene.disable_index(index regclass, reason text, ttl interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pg_hygiene: disabled indexes cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Run hygiene.disable_index() on the primary; standbys follow through replication.';
  END IF;
  IF index IS NULL THEN
    RAISE EXCEPTION 'index must not be NULL'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF reason IS NULL OR pg_catalog.btrim(reason) = '' THEN
    RAISE EXCEPTION 'a reason is required to disable an index'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Say why, e.g. ''idx_scan 0 on the primary and on both standbys since 2026-11-01''.';
  END IF;
  IF ttl IS NOT NULL AND ttl <= interval '0' THEN
    RAISE EXCEPTION 'ttl must be positive, not %', ttl
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass NULL to disable the index until hygiene.enable_index() is called.';
  END IF;
  INSERT INTO hygiene.disabled_index AS d (index_schema, index_name, reason, expires_at)
  SELECT n.nspname, c.relname, disable_index.reason, pg_catalog.now() + ttl
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE c.oid = index
  ON CONFLICT (index_schema, index_name) DO UPDATE
     SET reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'relation with OID % does not exist', index::oid
      USING ERRCODE = 'undefined_table';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION hygiene.enable_index(index regclass)
RETURNS boolean
LANGUAGE plpgsql STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pg_hygiene: disabled indexes cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Run hygiene.enable_index() on the primary; standbys follow through replication.';
  END IF;
  DELETE FROM hygiene.disabled_index AS d
   USING pg_catalog.pg_class AS c
   JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE c.oid = index AND d.index_schema = n.nspname AND d.index_name = c.relname;
  RETURN FOUND;
END
$$;


-- == Section: rules: who waits, query_id(), rule sample text, dropped roles (issue 12) ==

-- O32: who is waiting or throttled by pg_hygiene right now, from a bounded per-backend
-- array in shared memory.  Monitoring roles see every row; a role a DBA grants the view
-- to sees only the rows of roles whose privileges it has (the C function filters).
CREATE FUNCTION hygiene._waiting(
    OUT pid integer, OUT rolname name, OUT datname name, OUT waits_for text,
    OUT limit_name text, OUT rule_id bigint, OUT queryid bigint,
    OUT since timestamptz, OUT wait_s double precision, OUT wait_until timestamptz,
    OUT wal_budget_scale double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hygiene_waiting'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION hygiene._waiting() IS
  'Backends waiting or throttled by pg_hygiene now; read them through hygiene.waiting';

CREATE VIEW hygiene.waiting AS
  SELECT * FROM hygiene._waiting();
REVOKE ALL ON FUNCTION hygiene._waiting() FROM PUBLIC;
REVOKE ALL ON hygiene.waiting FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hygiene._waiting() TO pg_read_all_stats, pg_monitor;
GRANT SELECT ON hygiene.waiting TO pg_read_all_stats, pg_monitor;
COMMENT ON VIEW hygiene.waiting IS
  'Backends waiting or throttled by pg_hygiene right now: for a role or instance slot, a rate token, the write budget or a query rule (cheap; for monitoring)';
COMMENT ON COLUMN hygiene.waiting.pid IS 'Process id of the waiting backend (as in pg_stat_activity)';
COMMENT ON COLUMN hygiene.waiting.rolname IS 'Its session user (the login role limits and rules apply to)';
COMMENT ON COLUMN hygiene.waiting.datname IS 'Its database';
COMMENT ON COLUMN hygiene.waiting.waits_for IS
  'role_slot, instance_slot (queued for a slot of max_active_statements or max_active_total), rate_token (max_statements_per_second), wal_budget (max_wal_bytes_per_second), rule_token or rule_slot (a query rule''s per_second or max_concurrent)';
COMMENT ON COLUMN hygiene.waiting.limit_name IS
  'The setting it waits for (pg_hygiene.max_active_statements, ...), or the query rule''s limit (per_second, max_concurrent)';
COMMENT ON COLUMN hygiene.waiting.rule_id IS 'The query rule it waits for (NULL for role and instance limits)';
COMMENT ON COLUMN hygiene.waiting.queryid IS 'The queryid of the statement a query rule holds back (NULL for role and instance limits)';
COMMENT ON COLUMN hygiene.waiting.since IS 'When this wait started';
COMMENT ON COLUMN hygiene.waiting.wait_s IS 'How long it has waited so far, in seconds';
COMMENT ON COLUMN hygiene.waiting.wait_until IS
  'When the wait ends at the latest: the end of the sleep for a token or the write budget, or when a queued statement gives up (queue_timeout, query_rule_wait_timeout)';
COMMENT ON COLUMN hygiene.waiting.wal_budget_scale IS
  'For wal_budget waits, the share of the role''s budget in force now (below 1 while pg_hygiene.wal_budget_replay_lag tightens it, as hygiene.limits_summary.wal_budget_scale); NULL for other waits';

-- hygiene.query_rules is readable by pg_read_all_stats, as the README says (pg_monitor,
-- a member of it, was granted in the monitoring section above).
GRANT SELECT ON hygiene.query_rules TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION hygiene._query_rule_stats() TO pg_read_all_stats;

-- O20, O23: a rule keeps the name its role had when the rule was made (a rule applies
-- only while a role with that OID still has that name, so a new role that gets a dropped
-- role's OID, or a dump restored elsewhere, is not matched by the bare OID) and a sample
-- text of the statement (given, or taken from pg_stat_activity).  Rows of roles that no
-- longer exist get an empty name, which no role can have: they stay orphaned.
ALTER TABLE hygiene.query_rule ADD COLUMN role_name name, ADD COLUMN query_text text;
UPDATE hygiene.query_rule AS r
   SET role_name = coalesce((SELECT a.rolname FROM pg_catalog.pg_roles AS a WHERE a.oid = r.role), '')
 WHERE r.role IS NOT NULL;
COMMENT ON COLUMN hygiene.query_rule.role_name IS
  'The name of the rule''s role when the rule was made; the rule applies only while a role with this OID has this name';
COMMENT ON COLUMN hygiene.query_rule.query_text IS
  'A sample text of the statement the rule is for (given to block_query/throttle_query, or taken from pg_stat_activity)';

-- hygiene.query_id(sql): the queryid of one statement as written.  Deliberately without
-- a SET search_path: it resolves the statement's names as the caller's session would
-- (like EXPLAIN); it calls no SQL object itself.
CREATE FUNCTION hygiene.query_id(sql text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hygiene_query_id'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION hygiene.query_id(text) IS
  'The queryid (as in pg_stat_statements) of one statement as written: parsed and analysed with the caller''s privileges and search_path, not run';

CREATE FUNCTION hygiene._query_id_seen(queryid bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'hygiene_query_id_seen'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION hygiene._query_id_seen(bigint) IS
  'Whether this server ran a statement with this queryid recently (a lossy record; for the rule functions'' warning)';
REVOKE ALL ON FUNCTION hygiene._query_id_seen(bigint) FROM PUBLIC;

DROP FUNCTION hygiene._set_query_rule(bigint, text, double precision, integer, text, interval, regrole, boolean);
CREATE FUNCTION hygiene._set_query_rule(
    p_queryid bigint, p_action text, p_per_second double precision, p_max_concurrent integer,
    p_reason text, p_ttl interval, p_role regrole, p_dry_run boolean, p_query text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_id bigint;
  v_max integer;
  v_text text := p_query;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pg_hygiene: query rules cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Change the rule on the primary; standbys apply it through replication.';
  END IF;
  IF p_queryid IS NULL OR p_queryid = 0 THEN
    RAISE EXCEPTION 'pg_hygiene: queryid must be a non-zero query identifier'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Take it from pg_stat_statements.queryid, pg_stat_activity.query_id or hygiene.query_id(''the statement'').';
  END IF;
  IF p_reason IS NULL OR btrim(p_reason) = '' THEN
    RAISE EXCEPTION 'pg_hygiene: a query rule needs a reason'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is shown to the clients the rule stops and in hygiene.query_rules.',
            HINT = 'Pass reason => ''why this digest is limited''.';
  END IF;
  IF p_reason ~ '[[:cntrl:]]' THEN
    RAISE EXCEPTION 'pg_hygiene: the reason of a query rule must not contain control characters'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is shown to clients inside an error''s DETAIL line; a newline there would forge other lines.',
            HINT = 'Write the reason on one line.';
  END IF;
  IF char_length(p_reason) > 200 THEN
    RAISE EXCEPTION 'pg_hygiene: the reason of a query rule is limited to 200 characters, not %', char_length(p_reason)
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Put the details in a ticket and its reference in the reason.';
  END IF;
  IF p_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.oid = p_role) THEN
    RAISE EXCEPTION 'pg_hygiene: role % does not exist', p_role::oid
      USING ERRCODE = 'undefined_object',
            HINT = 'Pass role => NULL (the default) for a rule that applies to every role.';
  END IF;
  IF p_ttl IS NOT NULL AND p_ttl <= interval '0' THEN
    RAISE EXCEPTION 'pg_hygiene: ttl must be positive, not %', p_ttl
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass NULL for a rule that never expires.';
  END IF;
  IF p_dry_run IS NULL THEN
    RAISE EXCEPTION 'pg_hygiene: dry_run must be true or false'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF p_action = 'throttle' THEN
    IF p_per_second IS NULL AND p_max_concurrent IS NULL THEN
      RAISE EXCEPTION 'pg_hygiene: a throttle rule needs per_second or max_concurrent'
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Pass per_second => 10 to allow ten statements a second, max_concurrent => 2 to allow two at a time, or both.';
    END IF;
    IF p_per_second IS NOT NULL AND NOT (p_per_second > 0 AND p_per_second < 'infinity') THEN
      RAISE EXCEPTION 'pg_hygiene: per_second must be a positive finite number, not %', p_per_second
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'To stop the digest entirely use hygiene.block_query().';
    END IF;
    IF p_per_second IS NOT NULL AND p_per_second < 1.0 / 86400 THEN
      RAISE EXCEPTION 'pg_hygiene: per_second must be at least one statement a day (1/86400), not %', p_per_second
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'To stop the digest entirely use hygiene.block_query().';
    END IF;
    IF p_max_concurrent IS NOT NULL AND p_max_concurrent <= 0 THEN
      RAISE EXCEPTION 'pg_hygiene: max_concurrent must be positive, not %', p_max_concurrent
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'To stop the digest entirely use hygiene.block_query().';
    END IF;
  END IF;

  v_max := current_setting('pg_hygiene.max_query_rules')::integer;
  IF NOT EXISTS (SELECT 1 FROM hygiene.query_rule r
                 WHERE r.queryid = p_queryid AND r.role IS NOT DISTINCT FROM p_role)
     AND (SELECT count(*) FROM hygiene.query_rule) >= v_max THEN
    RAISE EXCEPTION 'pg_hygiene: too many query rules'
      USING ERRCODE = 'program_limit_exceeded',
            DETAIL = format('This database already has %s rules; pg_hygiene.max_query_rules is %s.',
                            (SELECT count(*) FROM hygiene.query_rule), v_max),
            HINT = 'Remove expired rules with hygiene.purge_expired_query_rules() or raise pg_hygiene.max_query_rules and restart.';
  END IF;

  IF current_setting('compute_query_id') = 'off' THEN
    RAISE WARNING 'pg_hygiene: compute_query_id is off: statements have no queryid, so query rules match nothing'
      USING HINT = 'Set compute_query_id to auto (the default) or on.';
  ELSIF NOT coalesce(hygiene._query_id_seen(p_queryid), true) THEN
    RAISE WARNING 'pg_hygiene: queryid % has not been seen by this server', p_queryid
      USING DETAIL = 'pg_hygiene keeps a lossy record of the queryids of the statements this server ran since it started (a later id may take an earlier one''s place). '
                     'With compute_query_id = auto, statements get an id only once their database has a rule or pg_stat_statements is loaded.',
            HINT = 'Check the id: take it from pg_stat_statements.queryid, pg_stat_activity.query_id or hygiene.query_id(''the statement as the application sends it''). A statement run only on standbys is not seen here.';
  END IF;

  -- A sample text: the one given, else a running statement's with this id.
  IF v_text IS NULL THEN
    SELECT a.query INTO v_text
      FROM pg_catalog.pg_stat_activity AS a
     WHERE a.query_id = p_queryid AND a.datname = pg_catalog.current_database()
     LIMIT 1;
  END IF;

  INSERT INTO hygiene.query_rule AS r
         (queryid, role, role_name, action, per_second, max_concurrent, dry_run, reason,
          expires_at, query_text)
  VALUES (p_queryid, p_role,
          (SELECT a.rolname FROM pg_catalog.pg_roles AS a WHERE a.oid = p_role),
          p_action, p_per_second, p_max_concurrent, p_dry_run, p_reason,
          now() + p_ttl, v_text)
  ON CONFLICT ON CONSTRAINT query_rule_queryid_role_key DO UPDATE
     SET action = EXCLUDED.action, per_second = EXCLUDED.per_second,
         max_concurrent = EXCLUDED.max_concurrent, dry_run = EXCLUDED.dry_run,
         reason = EXCLUDED.reason, expires_at = EXCLUDED.expires_at,
         created_at = EXCLUDED.created_at, created_by = EXCLUDED.created_by,
         role_name = EXCLUDED.role_name,
         query_text = coalesce(EXCLUDED.query_text, r.query_text)
  RETURNING r.rule_id INTO v_id;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION hygiene._set_query_rule(bigint, text, double precision, integer, text, interval, regrole, boolean, text) FROM PUBLIC;
COMMENT ON FUNCTION hygiene._set_query_rule(bigint, text, double precision, integer, text, interval, regrole, boolean, text) IS
  'Adds or replaces a query rule (behind block_query and throttle_query)';

-- The queryid of a statement text for the rule functions below: names are resolved with
-- their pinned search_path, so an unqualified name fails with a hint.  A quoted number
-- ('-3790017829553498542', which before 0.3 could only mean the bigint form) is taken as
-- the queryid itself.
CREATE FUNCTION hygiene._rule_query_id(p_query text)
RETURNS bigint
LANGUAGE plpgsql STRICT VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF p_query ~ '^\s*[-+]?[0-9]+\s*$' THEN
    RETURN p_query::bigint;
  END IF;
  RETURN hygiene.query_id(p_query);
EXCEPTION WHEN undefined_table OR undefined_function OR undefined_object OR invalid_schema_name THEN
  RAISE EXCEPTION 'pg_hygiene: %', SQLERRM
    USING ERRCODE = SQLSTATE,
          HINT = 'The query text is analysed with search_path = pg_catalog, pg_temp here: schema-qualify its names (public.orders), '
                 'or compute the id in your own session and pass both: queryid => hygiene.query_id(''...'').';
END
$$;
REVOKE ALL ON FUNCTION hygiene._rule_query_id(text) FROM PUBLIC;
COMMENT ON FUNCTION hygiene._rule_query_id(text) IS
  'hygiene.query_id() for the rule functions, with a hint about schema-qualified names';

CREATE FUNCTION hygiene.block_query(
    query text, reason text, ttl interval DEFAULT NULL, role regrole DEFAULT NULL,
    dry_run boolean DEFAULT false, queryid bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT hygiene._set_query_rule(coalesce($6, hygiene._rule_query_id($1)), 'block',
                                     NULL, NULL, $2, $3, $4, $5,
                                     CASE WHEN $1 !~ '^\s*[-+]?[0-9]+\s*$' THEN $1 END) $$;
REVOKE ALL ON FUNCTION hygiene.block_query(text, text, interval, regrole, boolean, bigint) FROM PUBLIC;
COMMENT ON FUNCTION hygiene.block_query(text, text, interval, regrole, boolean, bigint) IS
  'Rejects statements like this one (its queryid; SQLSTATE 53H10) and keeps the text as the rule''s sample; returns the rule id';

CREATE FUNCTION hygiene.throttle_query(
    query text, per_second double precision DEFAULT NULL, max_concurrent integer DEFAULT NULL,
    reason text DEFAULT NULL, ttl interval DEFAULT NULL, role regrole DEFAULT NULL,
    dry_run boolean DEFAULT false, queryid bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT hygiene._set_query_rule(coalesce($8, hygiene._rule_query_id($1)), 'throttle',
                                     $2, $3, $4, $5, $6, $7,
                                     CASE WHEN $1 !~ '^\s*[-+]?[0-9]+\s*$' THEN $1 END) $$;
REVOKE ALL ON FUNCTION hygiene.throttle_query(text, double precision, integer, text, interval, regrole, boolean, bigint) FROM PUBLIC;
COMMENT ON FUNCTION hygiene.throttle_query(text, double precision, integer, text, interval, regrole, boolean, bigint) IS
  'Limits statements like this one (its queryid) to per_second and/or max_concurrent and keeps the text as the rule''s sample; returns the rule id';

-- O20: rules whose role was dropped (or renamed) are flagged, and can be purged.
CREATE FUNCTION hygiene.purge_orphaned_query_rules()
RETURNS integer
LANGUAGE plpgsql CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pg_hygiene: query rules cannot be changed on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Purge orphaned rules on the primary; standbys follow through replication.';
  END IF;
  DELETE FROM hygiene.query_rule AS r
   WHERE r.role IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS a
                      WHERE a.oid = r.role AND (r.role_name IS NULL OR a.rolname = r.role_name));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION hygiene.purge_orphaned_query_rules() FROM PUBLIC;
COMMENT ON FUNCTION hygiene.purge_orphaned_query_rules() IS
  'Deletes the query rules whose role was dropped or renamed (orphaned in hygiene.query_rules); returns how many';

-- The view shows the stored role name, whether the rule is orphaned, and the sample text
-- (appended, so that grants and comments stay).
CREATE OR REPLACE VIEW hygiene.query_rules AS
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
         s.last_hit,
         r.role_name,
         (r.role IS NOT NULL AND
          NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS a
                       WHERE a.oid = r.role AND (r.role_name IS NULL OR a.rolname = r.role_name)))
           AS orphaned,
         r.query_text
  FROM hygiene.query_rule AS r
       LEFT JOIN hygiene._query_rule_stats() AS s ON s.rule_id = r.rule_id;
COMMENT ON COLUMN hygiene.query_rules.role_name IS
  'The name the rule''s role had when the rule was made';
COMMENT ON COLUMN hygiene.query_rules.orphaned IS
  'The rule''s role was dropped or renamed: the rule matches no one (remove it with hygiene.purge_orphaned_query_rules())';
COMMENT ON COLUMN hygiene.query_rules.query_text IS
  'A sample text of the statement the rule is for';

-- == Section: monitor, one unit per kind and a COMMENT on everything (issue 13, O16, O17, O21) ==

-- O21: one unit per kind across the views.  Bytes are bigint columns named *_bytes;
-- durations are double precision seconds named *_s (no interval columns); rates are per
-- second, named *_per_s; points in time are timestamptz; role and database names are
-- type name, named rolname and datname as in pg_stat_activity.  Counting since a start or
-- a reset is stats_reset, as in core.  O17: role_stats.admitted counted only statements
-- that a concurrency or rate limit applied to; it is admitted_limited now.  Every rename
-- is listed in docs/monitoring.md ("Renamed in 0.3").  Views whose columns change are
-- dropped and created again (CREATE OR REPLACE VIEW cannot rename or retype a column);
-- their grants are given again below, and the comments at the end of this section cover
-- them.  The internal functions behind the views keep their result columns (the C code
-- that fills them is unchanged); the views convert.

DROP VIEW hygiene.role_stats;
CREATE VIEW hygiene.role_stats AS
  SELECT s.roleid,
         s.rolname::name AS rolname,
         s.active_now,
         s.admitted AS admitted_limited,
         s.queued,
         s.wait_ms / 1000.0::double precision AS wait_s,
         s.rejected_active,
         s.rejected_total,
         s.rejected_rate,
         s.rejected_plan_cost,
         s.rejected_join_rels,
         s.throttled_ms / 1000.0::double precision AS throttled_s,
         s.wal_bytes_charged AS charged_wal_bytes,
         s.stats_reset,
         s.admitted_over_cap
    FROM hygiene._role_stats() AS s;
GRANT SELECT ON hygiene.role_stats TO pg_read_all_stats, pg_monitor;

DROP VIEW hygiene.ddl_events;
CREATE VIEW hygiene.ddl_events AS
  SELECT e.event_id,
         e.event_time,
         e.action,
         e.rule,
         e.role_name::name AS rolname,
         e.database_name::name AS datname,
         e.pid,
         e.relation,
         e.relation_size AS relation_bytes,
         e.message,
         e.statement
    FROM hygiene._ddl_events() AS e;
GRANT SELECT ON hygiene.ddl_events TO PUBLIC;

DROP VIEW hygiene.query_rules;
CREATE VIEW hygiene.query_rules AS
  SELECT r.rule_id,
         r.queryid,
         r.role,
         r.action,
         r.per_second AS max_per_s,
         r.max_concurrent,
         r.dry_run,
         r.reason,
         r.created_at,
         r.created_by,
         r.expires_at,
         (r.expires_at IS NOT NULL AND r.expires_at <= pg_catalog.now()) AS expired,
         COALESCE(s.matched, 0) AS matched,
         COALESCE(s.blocked, 0) AS blocked,
         COALESCE(s.throttled, 0) AS throttled,
         COALESCE(s.waited, 0) AS waited,
         COALESCE(s.dry_run_hits, 0) AS dry_run_hits,
         COALESCE(s.exempted, 0) AS exempted,
         COALESCE(s.active, 0) AS active,
         s.last_hit,
         r.role_name AS rolname,
         (r.role IS NOT NULL AND
          NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS a
                       WHERE a.oid = r.role AND (r.role_name IS NULL OR a.rolname = r.role_name)))
           AS orphaned,
         r.query_text
    FROM hygiene.query_rule AS r
         LEFT JOIN hygiene._query_rule_stats() AS s ON s.rule_id = r.rule_id;
GRANT SELECT ON hygiene.query_rules TO pg_read_all_stats, pg_monitor;

DROP VIEW hygiene.table_write_stats;
CREATE VIEW hygiene.table_write_stats AS
  SELECT s.relid,
         n.nspname AS schemaname,
         c.relname,
         s.stats_since AS stats_reset,
         s.rows_updated,
         s.noop_rows,
         s.noop_suppressed,
         s.ineligible_returning + s.ineligible_after_trigger + s.ineligible_self_assignment
           + s.ineligible_replica_role + s.ineligible_other AS ineligible_rows,
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
   WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database AS d
                    WHERE d.datname = pg_catalog.current_database());
GRANT SELECT ON hygiene.table_write_stats TO PUBLIC;

DROP VIEW hygiene.advice_history;
CREATE VIEW hygiene.advice_history AS
  SELECT h.tables,
         h.max_tables,
         h.samples_per_table,
         h.sample_interval_s::double precision AS sample_interval_s,
         h.dropped_samples,
         h.last_sample
    FROM hygiene._advice_history_summary() AS h;
GRANT SELECT ON hygiene.advice_history TO PUBLIC;

DROP VIEW hygiene.table_health;
CREATE VIEW hygiene.table_health AS
  SELECT h.relid, h.schemaname, h.relname, h.partition_of,
         h.reltuples, h.n_live_tup, h.table_bytes, h.total_bytes, h.row_bytes::bigint AS row_bytes,
         h.fillfactor,
         h.history_samples,
         EXTRACT(epoch FROM h.history_span)::double precision AS history_span_s,
         h.inserts_per_hour / 3600.0::double precision AS inserts_per_s,
         h.updates_per_hour / 3600.0::double precision AS updates_per_s,
         h.deletes_per_hour / 3600.0::double precision AS deletes_per_s,
         h.growth_bytes_per_hour / 3600.0::double precision AS growth_bytes_per_s,
         h.autovacuums_per_hour / 3600.0::double precision AS autovacuums_per_s,
         h.autovacuum_enabled, h.settings_from_table,
         h.vacuum_threshold, h.vacuum_scale_factor, h.vacuum_trigger_rows,
         h.insert_threshold, h.insert_scale_factor, h.insert_trigger_rows,
         h.analyze_threshold, h.analyze_scale_factor, h.analyze_trigger_rows,
         h.cost_limit,
         h.n_dead_tup, h.dead_vs_trigger, h.above_trigger_samples,
         h.n_ins_since_vacuum, h.n_mod_since_analyze,
         h.last_vacuum, h.last_autovacuum, h.last_analyze, h.vacuum_running,
         h.xid_age, h.mxid_age, h.freeze_max_age, h.xids_to_forced_freeze,
         EXTRACT(epoch FROM h.time_to_forced_freeze)::double precision AS time_to_forced_freeze_s,
         h.xmin_holder, h.xmin_holder_pid, h.xmin_fix_sql, h.vacuum_pinned,
         h.hot_ratio, h.write_split,
         h.hook_rows_updated, h.updates_indexed_changed, h.updates_hot_eligible,
         h.hot_eligible_failed,
         h.noop_rows, h.noop_share, h.noop_suppressed,
         h.insert_share, h.update_share,
         h.max_horizon_s, h.peak_updates_per_s,
         h.expected_bytes, h.bloat_ratio,
         h.indexes, h.unused_index, h.unused_index_def,
         h.reloptions
    FROM hygiene._table_health() AS h;
GRANT SELECT ON hygiene.table_health TO PUBLIC;


-- vacuum_losing_race takes the horizon into account (see its definition in the advice
-- section above); _database_advice() passes the figures like _table_advice().
CREATE OR REPLACE FUNCTION hygiene._database_advice(
    OUT rule text, OUT severity text, OUT setting text, OUT current_value text,
    OUT recommended_value text, OUT reason text, OUT alter_sql text, OUT revert_sql text,
    OUT needs_restart boolean)
RETURNS SETOF record
LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
-- The plan over every table is costed high and JIT compiling it takes seconds;
-- 10,000 tables' history is a few MB of tuplestore.
SET jit = off SET work_mem = '64MB'
SET search_path = pg_catalog, pg_temp
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
                                              h.vacuum_pinned, h.cost_limit, h.vacuum_trigger_rows,
                                              coalesce(h.peak_updates_per_s, h.updates_per_hour / 3600, 0)
                                                + coalesce(h.deletes_per_hour, 0) / 3600,
                                              h.max_horizon_s) AS l
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

-- O16: the exporter reads the advice with a long cache (monitoring/pg_hygiene_queries.yaml,
-- cache_seconds): pg_monitor may read the advice views like every other role.

-- Views
COMMENT ON VIEW hygiene.status IS
  'The loaded library: version, shared memory, statements seen, table statistics capacity (cheap; for monitoring)';
COMMENT ON VIEW hygiene.role_stats IS
  'Per-role limit counters since the server started or hygiene.reset_role_stats() (cheap; for monitoring)';
COMMENT ON VIEW hygiene.limits_summary IS
  'Statements running and waiting under role limits now (cheap; for monitoring)';
COMMENT ON VIEW hygiene.query_rules IS
  'Query digest rules of this database with this server''s counters (cheap; for monitoring)';
COMMENT ON VIEW hygiene.table_write_stats IS
  'Per-table UPDATE counters of the executor hook: no-op rows, indexed and HOT-eligible changes (cheap)';
COMMENT ON VIEW hygiene.ddl_events IS
  'The DDL guard''s ring of recent events (bounded; the oldest are overwritten)';
COMMENT ON VIEW hygiene.advice_history IS
  'The sample history behind the advice views: tables, capacity, interval, last sample (cheap)';
COMMENT ON VIEW hygiene.table_health IS
  'Per-table evidence for the advice (takes a statistics sample if one is due: not for frequent scrapes)';
COMMENT ON VIEW hygiene.table_advice IS
  'Per-table recommendations with reason, ALTER and revert statements (takes a sample if due: not for frequent scrapes)';
COMMENT ON VIEW hygiene.database_advice IS
  'Instance-wide recommendations (autovacuum workers, cost limit, work memory, xmin horizon)';
COMMENT ON VIEW hygiene.xmin_holders IS
  'What holds the xmin horizon: backends, prepared transactions, replication slots, standby feedback';
COMMENT ON VIEW hygiene.disabled_indexes IS
  'Indexes the planner does not consider (hygiene.disable_index()), with what happened since';

-- hygiene.status
COMMENT ON COLUMN hygiene.status.library_version IS 'Version of the loaded pg_hygiene library';
COMMENT ON COLUMN hygiene.status.extension_version IS 'Version of the extension''s SQL objects in this database (ALTER EXTENSION pg_hygiene UPDATE when it differs)';
COMMENT ON COLUMN hygiene.status.shared_memory IS 'Whether the library was preloaded (shared_preload_libraries) and has its shared memory';
COMMENT ON COLUMN hygiene.status.started_at IS 'When the shared memory was set up (server start)';
COMMENT ON COLUMN hygiene.status.statements_seen IS 'Statements the hooks saw since the server started (counter)';
COMMENT ON COLUMN hygiene.status.table_stats_entries IS 'Tables with UPDATE statistics in shared memory now';
COMMENT ON COLUMN hygiene.status.table_stats_max IS 'Tables the UPDATE statistics can hold (pg_hygiene.table_stats_max)';
COMMENT ON COLUMN hygiene.status.table_stats_dropped IS 'UPDATE statistics not recorded because the table of statistics was full (counter)';

-- hygiene.role_stats
COMMENT ON COLUMN hygiene.role_stats.roleid IS 'OID of the role';
COMMENT ON COLUMN hygiene.role_stats.rolname IS 'Name of the role (NULL once it is dropped)';
COMMENT ON COLUMN hygiene.role_stats.active_now IS 'Statements of the role holding a slot now';
COMMENT ON COLUMN hygiene.role_stats.admitted_limited IS 'Statements admitted under a concurrency or rate limit of the role (not every statement the role ran: statements no such limit applied to are not counted)';
COMMENT ON COLUMN hygiene.role_stats.queued IS 'Statements that waited for a slot or a rate token before they were admitted or rejected';
COMMENT ON COLUMN hygiene.role_stats.wait_s IS 'Time statements waited for a slot or a rate token, in seconds';
COMMENT ON COLUMN hygiene.role_stats.rejected_active IS 'Statements rejected because the role had too many active statements';
COMMENT ON COLUMN hygiene.role_stats.rejected_total IS 'Statements rejected because the instance had too many active statements under limits';
COMMENT ON COLUMN hygiene.role_stats.rejected_rate IS 'Statements rejected by the role''s rate limit (a count, not a rate)';
COMMENT ON COLUMN hygiene.role_stats.rejected_plan_cost IS 'Statements rejected because their plan cost exceeded the role''s limit';
COMMENT ON COLUMN hygiene.role_stats.rejected_join_rels IS 'Statements rejected because they joined more relations than the role''s limit';
COMMENT ON COLUMN hygiene.role_stats.throttled_s IS 'Time statements were delayed by the role''s write (WAL) budget, in seconds';
COMMENT ON COLUMN hygiene.role_stats.charged_wal_bytes IS 'WAL bytes charged to the role''s write budget';
COMMENT ON COLUMN hygiene.role_stats.stats_reset IS 'When counting started for the role (first limited statement since the server started) or was last reset';
COMMENT ON COLUMN hygiene.role_stats.admitted_over_cap IS 'Queued statements admitted past a full cap because another backend waited for a lock they held';

-- hygiene.limits_summary
COMMENT ON COLUMN hygiene.limits_summary.active_total IS 'Statements holding a slot under role limits now, all roles';
COMMENT ON COLUMN hygiene.limits_summary.waiting IS 'Statements waiting for a slot now';
COMMENT ON COLUMN hygiene.limits_summary.tracked_roles IS 'Roles with an entry in the shared role table';
COMMENT ON COLUMN hygiene.limits_summary.untracked_statements IS 'Statements of roles not tracked because the shared role table was full (counter)';

-- hygiene.query_rules
COMMENT ON COLUMN hygiene.query_rules.rule_id IS 'Id of the rule';
COMMENT ON COLUMN hygiene.query_rules.queryid IS 'Query id (as pg_stat_statements shows it) the rule matches';
COMMENT ON COLUMN hygiene.query_rules.role IS 'Role the rule applies to; NULL: every role';
COMMENT ON COLUMN hygiene.query_rules.action IS 'block or throttle';
COMMENT ON COLUMN hygiene.query_rules.max_per_s IS 'Throttle: statements allowed per second (NULL: no rate limit)';
COMMENT ON COLUMN hygiene.query_rules.max_concurrent IS 'Throttle: statements allowed to run at once (NULL: no concurrency limit)';
COMMENT ON COLUMN hygiene.query_rules.dry_run IS 'Whether the rule only counts what it would have stopped';
COMMENT ON COLUMN hygiene.query_rules.reason IS 'Why the rule was made (shown in its error)';
COMMENT ON COLUMN hygiene.query_rules.created_at IS 'When the rule was made or last changed';
COMMENT ON COLUMN hygiene.query_rules.created_by IS 'Role that made the rule';
COMMENT ON COLUMN hygiene.query_rules.expires_at IS 'When the rule stops applying (NULL: never)';
COMMENT ON COLUMN hygiene.query_rules.expired IS 'Whether expires_at has passed (the rule stays listed until purged)';
COMMENT ON COLUMN hygiene.query_rules.matched IS 'Statements the rule matched on this server (counter)';
COMMENT ON COLUMN hygiene.query_rules.blocked IS 'Statements the rule rejected (counter)';
COMMENT ON COLUMN hygiene.query_rules.throttled IS 'Statements the rule rejected by its rate or concurrency limit (counter)';
COMMENT ON COLUMN hygiene.query_rules.waited IS 'Statements that waited under the rule before running (counter)';
COMMENT ON COLUMN hygiene.query_rules.dry_run_hits IS 'Statements a dry-run rule would have stopped (counter)';
COMMENT ON COLUMN hygiene.query_rules.exempted IS 'Matching statements the rule let pass because they were exempt (counter)';
COMMENT ON COLUMN hygiene.query_rules.active IS 'Statements running under the rule now';
COMMENT ON COLUMN hygiene.query_rules.last_hit IS 'When the rule last matched a statement on this server';
COMMENT ON COLUMN hygiene.query_rules.rolname IS 'The name the rule''s role had when the rule was made (a rule applies only while its role still has that name)';
COMMENT ON COLUMN hygiene.query_rules.orphaned IS 'The rule''s role was dropped or renamed: the rule matches no one (remove it with hygiene.purge_orphaned_query_rules())';
COMMENT ON COLUMN hygiene.query_rules.query_text IS 'A sample text of the statement the rule is for';

-- hygiene.table_write_stats
COMMENT ON COLUMN hygiene.table_write_stats.relid IS 'OID of the table';
COMMENT ON COLUMN hygiene.table_write_stats.schemaname IS 'Schema of the table';
COMMENT ON COLUMN hygiene.table_write_stats.relname IS 'Name of the table';
COMMENT ON COLUMN hygiene.table_write_stats.stats_reset IS 'When counting started for the table (its first counted UPDATE) or was last reset';
COMMENT ON COLUMN hygiene.table_write_stats.rows_updated IS 'Rows updated, as the executor hook counted them';
COMMENT ON COLUMN hygiene.table_write_stats.noop_rows IS 'Updated rows whose every column was unchanged';
COMMENT ON COLUMN hygiene.table_write_stats.noop_suppressed IS 'No-op rows not written (lock or auto mode)';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_rows IS 'No-op rows written because suppressing them would have been visible (sum of the ineligible_* columns)';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_returning IS 'No-op rows written because the statement has RETURNING';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_after_trigger IS 'No-op rows written because the table has an AFTER UPDATE trigger';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_self_assignment IS 'No-op rows written because the statement assigned a column to itself (SET c = c)';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_replica_role IS 'No-op rows written because session_replication_role is replica';
COMMENT ON COLUMN hygiene.table_write_stats.ineligible_other IS 'No-op rows written for another reason (see docs/noop_updates.md)';
COMMENT ON COLUMN hygiene.table_write_stats.indexed_changed IS 'Written rows that changed an indexed column (can never be HOT)';
COMMENT ON COLUMN hygiene.table_write_stats.nonindexed_only IS 'Written rows that changed only non-indexed columns (HOT-eligible)';

-- hygiene.ddl_events
COMMENT ON COLUMN hygiene.ddl_events.event_id IS 'Number of the event (increasing; gaps mean overwritten events)';
COMMENT ON COLUMN hygiene.ddl_events.event_time IS 'When the event happened';
COMMENT ON COLUMN hygiene.ddl_events.action IS 'What the guard did (warn, block, timeout, allow, ...)';
COMMENT ON COLUMN hygiene.ddl_events.rule IS 'DDL guard rule that fired (NULL when none)';
COMMENT ON COLUMN hygiene.ddl_events.rolname IS 'Role that ran the statement';
COMMENT ON COLUMN hygiene.ddl_events.datname IS 'Database the statement ran in';
COMMENT ON COLUMN hygiene.ddl_events.pid IS 'Process ID of the backend';
COMMENT ON COLUMN hygiene.ddl_events.relation IS 'Table the event is about (NULL when not about one table)';
COMMENT ON COLUMN hygiene.ddl_events.relation_bytes IS 'Size of that table in bytes (NULL when not about one table)';
COMMENT ON COLUMN hygiene.ddl_events.message IS 'The message the guard gave';
COMMENT ON COLUMN hygiene.ddl_events.statement IS 'The statement (truncated)';

-- hygiene.advice_history
COMMENT ON COLUMN hygiene.advice_history.tables IS 'Tables with a sample history (all databases)';
COMMENT ON COLUMN hygiene.advice_history.max_tables IS 'Tables the history can hold (pg_hygiene.advice_history_tables)';
COMMENT ON COLUMN hygiene.advice_history.samples_per_table IS 'Samples kept per table (pg_hygiene.advice_history_samples)';
COMMENT ON COLUMN hygiene.advice_history.sample_interval_s IS 'pg_hygiene.advice_sample_interval, in seconds';
COMMENT ON COLUMN hygiene.advice_history.dropped_samples IS 'Samples not kept because the history was full (counter)';
COMMENT ON COLUMN hygiene.advice_history.last_sample IS 'When this database was last sampled (by the background sampler, a view or take_sample())';

-- hygiene.table_health
COMMENT ON COLUMN hygiene.table_health.relid IS 'OID of the table';
COMMENT ON COLUMN hygiene.table_health.schemaname IS 'Schema of the table';
COMMENT ON COLUMN hygiene.table_health.relname IS 'Name of the table';
COMMENT ON COLUMN hygiene.table_health.partition_of IS 'Partitioned table this one is a partition of (NULL: none)';
COMMENT ON COLUMN hygiene.table_health.reltuples IS 'Rows as autovacuum counts them (pg_class.reltuples)';
COMMENT ON COLUMN hygiene.table_health.n_live_tup IS 'Live rows (pg_stat_user_tables.n_live_tup)';
COMMENT ON COLUMN hygiene.table_health.table_bytes IS 'Size of the table in bytes (relpages x block size, as of the last vacuum or analyze)';
COMMENT ON COLUMN hygiene.table_health.total_bytes IS 'Size with indexes and TOAST in bytes (same source as table_bytes)';
COMMENT ON COLUMN hygiene.table_health.row_bytes IS 'Bytes a row takes on a page: average width, tuple header, alignment and line pointer';
COMMENT ON COLUMN hygiene.table_health.fillfactor IS 'Fillfactor of the table (100 unless set)';
COMMENT ON COLUMN hygiene.table_health.history_samples IS 'Samples of the table in the history';
COMMENT ON COLUMN hygiene.table_health.history_span_s IS 'Time between the oldest and the newest sample (the window), in seconds';
COMMENT ON COLUMN hygiene.table_health.inserts_per_s IS 'Rows inserted per second over the window (NULL with fewer than two samples)';
COMMENT ON COLUMN hygiene.table_health.updates_per_s IS 'Rows updated per second over the window';
COMMENT ON COLUMN hygiene.table_health.deletes_per_s IS 'Rows deleted per second over the window';
COMMENT ON COLUMN hygiene.table_health.growth_bytes_per_s IS 'Growth of table_bytes per second over the window (negative: shrank)';
COMMENT ON COLUMN hygiene.table_health.autovacuums_per_s IS 'Autovacuum runs per second over the window (x 3600: per hour)';
COMMENT ON COLUMN hygiene.table_health.autovacuum_enabled IS 'Whether autovacuum may vacuum the table (server setting and reloption)';
COMMENT ON COLUMN hygiene.table_health.settings_from_table IS 'Autovacuum settings taken from the table''s reloptions rather than the server';
COMMENT ON COLUMN hygiene.table_health.vacuum_threshold IS 'Effective autovacuum_vacuum_threshold (rows)';
COMMENT ON COLUMN hygiene.table_health.vacuum_scale_factor IS 'Effective autovacuum_vacuum_scale_factor';
COMMENT ON COLUMN hygiene.table_health.vacuum_trigger_rows IS 'Dead rows at which autovacuum vacuums the table (threshold + scale factor x reltuples)';
COMMENT ON COLUMN hygiene.table_health.insert_threshold IS 'Effective autovacuum_vacuum_insert_threshold (rows; NULL when off)';
COMMENT ON COLUMN hygiene.table_health.insert_scale_factor IS 'Effective autovacuum_vacuum_insert_scale_factor';
COMMENT ON COLUMN hygiene.table_health.insert_trigger_rows IS 'Inserted rows since the last vacuum at which autovacuum vacuums the table (NULL when off)';
COMMENT ON COLUMN hygiene.table_health.analyze_threshold IS 'Effective autovacuum_analyze_threshold (rows)';
COMMENT ON COLUMN hygiene.table_health.analyze_scale_factor IS 'Effective autovacuum_analyze_scale_factor';
COMMENT ON COLUMN hygiene.table_health.analyze_trigger_rows IS 'Changed rows at which autovacuum analyzes the table';
COMMENT ON COLUMN hygiene.table_health.cost_limit IS 'Effective autovacuum cost limit for the table';
COMMENT ON COLUMN hygiene.table_health.n_dead_tup IS 'Dead rows now (pg_stat_user_tables.n_dead_tup)';
COMMENT ON COLUMN hygiene.table_health.dead_vs_trigger IS 'Dead rows as a share of the vacuum trigger (1: autovacuum is due)';
COMMENT ON COLUMN hygiene.table_health.above_trigger_samples IS 'Newest samples in a row with dead rows above the trigger';
COMMENT ON COLUMN hygiene.table_health.n_ins_since_vacuum IS 'Rows inserted since the last vacuum';
COMMENT ON COLUMN hygiene.table_health.n_mod_since_analyze IS 'Rows changed since the last analyze';
COMMENT ON COLUMN hygiene.table_health.last_vacuum IS 'Last manual vacuum';
COMMENT ON COLUMN hygiene.table_health.last_autovacuum IS 'Last autovacuum';
COMMENT ON COLUMN hygiene.table_health.last_analyze IS 'Last analyze, manual or automatic';
COMMENT ON COLUMN hygiene.table_health.vacuum_running IS 'Whether a vacuum of the table runs now';
COMMENT ON COLUMN hygiene.table_health.xid_age IS 'Age of relfrozenxid, in transactions';
COMMENT ON COLUMN hygiene.table_health.mxid_age IS 'Age of relminmxid, in multixacts';
COMMENT ON COLUMN hygiene.table_health.freeze_max_age IS 'Effective autovacuum_freeze_max_age (transactions)';
COMMENT ON COLUMN hygiene.table_health.xids_to_forced_freeze IS 'Transactions until autovacuum must freeze the table (anti-wraparound vacuum)';
COMMENT ON COLUMN hygiene.table_health.time_to_forced_freeze_s IS 'Seconds until that point at the xid rate of the window (NULL: rate unknown)';
COMMENT ON COLUMN hygiene.table_health.xmin_holder IS 'The oldest holder of the xmin horizon, described (see hygiene.xmin_holders)';
COMMENT ON COLUMN hygiene.table_health.xmin_holder_pid IS 'Process ID of that holder, when it has one';
COMMENT ON COLUMN hygiene.table_health.xmin_fix_sql IS 'Statement that ends that holder';
COMMENT ON COLUMN hygiene.table_health.vacuum_pinned IS 'Whether the last vacuum ran while that holder already held the horizon (dead rows it could not remove)';
COMMENT ON COLUMN hygiene.table_health.hot_ratio IS 'Share of updates that were HOT (pg_stat, over the window when known)';
COMMENT ON COLUMN hygiene.table_health.write_split IS 'Source of the non-HOT split: hook, window; hook, cumulative; unknown; no updates';
COMMENT ON COLUMN hygiene.table_health.hook_rows_updated IS 'Rows updated as the executor hook counted them (window or cumulative, per write_split)';
COMMENT ON COLUMN hygiene.table_health.updates_indexed_changed IS 'Updates that changed an indexed column (never HOT)';
COMMENT ON COLUMN hygiene.table_health.updates_hot_eligible IS 'Updates that changed only non-indexed columns (HOT-eligible)';
COMMENT ON COLUMN hygiene.table_health.hot_eligible_failed IS 'HOT-eligible updates that were not HOT (no room on the page); NULL unless write_split is hook, window';
COMMENT ON COLUMN hygiene.table_health.noop_rows IS 'Updated rows whose every column was unchanged';
COMMENT ON COLUMN hygiene.table_health.noop_share IS 'No-op rows as a share of rows updated';
COMMENT ON COLUMN hygiene.table_health.noop_suppressed IS 'No-op rows not written';
COMMENT ON COLUMN hygiene.table_health.insert_share IS 'Inserts as a share of writes (inserts, updates, deletes)';
COMMENT ON COLUMN hygiene.table_health.update_share IS 'Updates as a share of writes';
COMMENT ON COLUMN hygiene.table_health.max_horizon_s IS 'Age of the oldest snapshot seen in the window''s samples, in seconds';
COMMENT ON COLUMN hygiene.table_health.peak_updates_per_s IS 'Updates per second in the busiest interval between two consecutive samples';
COMMENT ON COLUMN hygiene.table_health.expected_bytes IS 'Bytes the live and dead rows need at the table''s fillfactor (bloat estimate)';
COMMENT ON COLUMN hygiene.table_health.bloat_ratio IS 'table_bytes / expected_bytes (estimate; hygiene.exact_bloat() measures)';
COMMENT ON COLUMN hygiene.table_health.indexes IS 'Indexes: name (columns), kind, scans on this server';
COMMENT ON COLUMN hygiene.table_health.unused_index IS 'First non-unique index never scanned on this server since statistics were reset';
COMMENT ON COLUMN hygiene.table_health.unused_index_def IS 'Definition of that index';
COMMENT ON COLUMN hygiene.table_health.reloptions IS 'Storage parameters of the table';

-- hygiene.table_advice
COMMENT ON COLUMN hygiene.table_advice.relid IS 'OID of the table (join hygiene.table_health USING (relid))';
COMMENT ON COLUMN hygiene.table_advice.schemaname IS 'Schema of the table';
COMMENT ON COLUMN hygiene.table_advice.relname IS 'Name of the table';
COMMENT ON COLUMN hygiene.table_advice.rule IS 'Rule that made the recommendation (docs/advice.md)';
COMMENT ON COLUMN hygiene.table_advice.severity IS 'info, warning or critical';
COMMENT ON COLUMN hygiene.table_advice.reason IS 'Why, with the measured figures that drove it';
COMMENT ON COLUMN hygiene.table_advice.alter_sql IS 'Statement that applies the recommendation (NULL when there is none to run)';
COMMENT ON COLUMN hygiene.table_advice.revert_sql IS 'Statement that undoes alter_sql';
COMMENT ON COLUMN hygiene.table_advice.needs_rewrite IS 'Whether existing pages change only after a rewrite (VACUUM FULL, pg_repack, CLUSTER)';

-- hygiene.database_advice
COMMENT ON COLUMN hygiene.database_advice.rule IS 'Rule that made the recommendation (docs/advice.md)';
COMMENT ON COLUMN hygiene.database_advice.severity IS 'info, warning or critical';
COMMENT ON COLUMN hygiene.database_advice.setting IS 'Server setting concerned (NULL when the advice is not a setting)';
COMMENT ON COLUMN hygiene.database_advice.current_value IS 'Its value now';
COMMENT ON COLUMN hygiene.database_advice.recommended_value IS 'The value recommended';
COMMENT ON COLUMN hygiene.database_advice.reason IS 'Why, with the measured figures that drove it';
COMMENT ON COLUMN hygiene.database_advice.alter_sql IS 'Statement that applies the recommendation';
COMMENT ON COLUMN hygiene.database_advice.revert_sql IS 'Statement that undoes alter_sql';
COMMENT ON COLUMN hygiene.database_advice.needs_restart IS 'Whether the setting takes effect only after a server restart';

-- hygiene.xmin_holders
COMMENT ON COLUMN hygiene.xmin_holders.kind IS 'backend, prepared transaction, replication slot or standby feedback';
COMMENT ON COLUMN hygiene.xmin_holders.pid IS 'Process ID (backend, active slot''s or walsender''s); NULL for prepared transactions';
COMMENT ON COLUMN hygiene.xmin_holders.name IS 'User of the backend, gid of the prepared transaction, slot name, or the standby''s application_name';
COMMENT ON COLUMN hygiene.xmin_holders.holder IS 'The holder, described';
COMMENT ON COLUMN hygiene.xmin_holders.since IS 'Since when it holds the horizon (transaction start, prepare time, walsender start; NULL for slots)';
COMMENT ON COLUMN hygiene.xmin_holders.xid_age IS 'Age of the xmin it holds, in transactions';
COMMENT ON COLUMN hygiene.xmin_holders.fix_sql IS 'Statement that ends it (or what to do on the standby)';

-- hygiene.disabled_indexes
COMMENT ON COLUMN hygiene.disabled_indexes.index_schema IS 'Schema of the disabled index (rows name it by schema and name: they survive dump and restore)';
COMMENT ON COLUMN hygiene.disabled_indexes.index_name IS 'Name of the disabled index';
COMMENT ON COLUMN hygiene.disabled_indexes.index IS 'The index (NULL when no index has that name now)';
COMMENT ON COLUMN hygiene.disabled_indexes.table IS 'Table of the index';
COMMENT ON COLUMN hygiene.disabled_indexes.active IS 'Whether the planner ignores the index now (false when expired or when the index is missing)';
COMMENT ON COLUMN hygiene.disabled_indexes.disabled_at IS 'When it was disabled';
COMMENT ON COLUMN hygiene.disabled_indexes.disabled_by IS 'Role that disabled it';
COMMENT ON COLUMN hygiene.disabled_indexes.reason IS 'Why it was disabled';
COMMENT ON COLUMN hygiene.disabled_indexes.expires_at IS 'When the planner considers it again (NULL: only after hygiene.enable_index())';
COMMENT ON COLUMN hygiene.disabled_indexes.idx_scan_since_disabled IS 'Scans of the index on this server since it was disabled (should stay 0; NULL after a statistics reset)';
COMMENT ON COLUMN hygiene.disabled_indexes.index_writes_since_disabled IS 'Rows that wrote an entry into the index since it was disabled, on this server (the cost it still has)';
COMMENT ON COLUMN hygiene.disabled_indexes.index_bytes IS 'Size of the index in bytes';

-- Functions: user-facing
COMMENT ON FUNCTION hygiene.reset_table_write_stats(regclass) IS
  'Forget the UPDATE statistics of one table of this database, or with NULL of every table; returns how many were forgotten';
COMMENT ON FUNCTION hygiene.allow_ddl(text) IS
  'Let one DDL guard rule (or all) pass until the end of the current transaction; recorded in hygiene.ddl_events';
COMMENT ON FUNCTION hygiene.ddl_events_reset() IS
  'Forget every DDL guard event; returns how many were dropped';
COMMENT ON FUNCTION hygiene.take_sample() IS
  'Sample the statistics of every table of this database into the advice history now (superuser); returns the tables sampled';
COMMENT ON FUNCTION hygiene.fillfactor_for(double precision, double precision, double precision, double precision, integer) IS
  'The fillfactor_lower rule as a pure function: fillfactor for a row width, pages, HOT-eligible updates per second, horizon in seconds and current fillfactor';
COMMENT ON FUNCTION hygiene.vacuum_trigger_for(double precision, double precision, double precision, double precision, double precision) IS
  'The vacuum_trigger_late rule as a pure function: whether the vacuum trigger is too late, and the threshold and scale factor to use';
COMMENT ON FUNCTION hygiene.scale_trigger_for(double precision, double precision, double precision, double precision) IS
  'The insert_trigger and analyze_trigger_late rules as a pure function: whether a trigger is too late, and the scale factor to use';
COMMENT ON FUNCTION hygiene.trigger_too_early(double precision, double precision, double precision, double precision, double precision, double precision, double precision, double precision, double precision, double precision) IS
  'The vacuum_trigger_early rule as a pure function: a threshold bounded by 5 minutes of dead rows, 20% of live rows less those that die within the xmin horizon, one index pass of autovacuum_work_mem and, from big_rows on, twice vacuum_trigger_late''s target';
COMMENT ON FUNCTION hygiene.vacuum_losing_race(integer, boolean, boolean, integer, double precision, double precision, double precision) IS
  'The vacuum_losing_race rule as a pure function: whether autovacuum falls behind although the horizon lets it win, and the cost limit to use';
COMMENT ON FUNCTION hygiene.wraparound_severity(bigint, bigint) IS
  'Severity of an xid age against autovacuum_freeze_max_age: NULL, warning or critical';
COMMENT ON FUNCTION hygiene.exact_bloat(regclass) IS
  'Exact live, dead and free bytes of a table (pgstattuple; reads the whole table)';
COMMENT ON FUNCTION hygiene.set_noop_updates(regclass, text) IS
  'Override pg_hygiene.noop_updates for one table (off, observe, lock, auto); NULL removes the override';
COMMENT ON FUNCTION hygiene.block_query(bigint, text, interval, regrole, boolean) IS
  'Rejects statements with this queryid (SQLSTATE 53H10), for every role or one; returns the rule id';
COMMENT ON FUNCTION hygiene.throttle_query(bigint, double precision, integer, text, interval, regrole, boolean) IS
  'Limits statements with this queryid to per_second (SQLSTATE 53H11) and/or max_concurrent (53H12); returns the rule id';
COMMENT ON FUNCTION hygiene.remove_query_rule(bigint, regrole) IS
  'Removes the rule of this queryid for every role (role NULL) or for one role; returns its id';
COMMENT ON FUNCTION hygiene.purge_expired_query_rules() IS
  'Deletes expired query rules (they stop applying when they expire, but stay listed until purged)';
COMMENT ON FUNCTION hygiene.reload_query_rules() IS
  'Makes every session of this database reread hygiene.query_rule now';
COMMENT ON FUNCTION hygiene.reset_role_stats(regrole) IS
  'Zero hygiene.role_stats counters of one role, or of all roles when NULL';
COMMENT ON FUNCTION hygiene.disable_index(regclass, text, interval) IS
  'Soft index drop: the planner stops considering the index on this server and every standby; writes still maintain it';
COMMENT ON FUNCTION hygiene.enable_index(regclass) IS
  'Undo hygiene.disable_index(): plans use the index again at once; returns whether a row was removed';

-- Functions: internal (read through the views, or called by triggers and the sampler)
COMMENT ON FUNCTION hygiene._status() IS
  'State of the loaded pg_hygiene library; read it through hygiene.status';
COMMENT ON FUNCTION hygiene._table_write_stats() IS
  'Per-table UPDATE counters in shared memory, all databases; read them through hygiene.table_write_stats';
COMMENT ON FUNCTION hygiene._table_stats_summary() IS
  'Fill of the per-table UPDATE statistics; read it through hygiene.status';
COMMENT ON FUNCTION hygiene._ddl_events() IS
  'DDL guard events in shared memory; read them through hygiene.ddl_events';
COMMENT ON FUNCTION hygiene._advice_claim(boolean) IS
  'Internal: claim this database''s next advice sample (false when one was taken within the interval)';
COMMENT ON FUNCTION hygiene._advice_record(oid[], bigint[], boolean[]) IS
  'Internal: store one sample of the given tables in the advice history';
COMMENT ON FUNCTION hygiene._advice_history() IS
  'Internal: the advice history of this database''s tables (samples and their times)';
COMMENT ON FUNCTION hygiene._advice_history_summary() IS
  'Fill of the advice history; read it through hygiene.advice_history';
COMMENT ON FUNCTION hygiene._table_stats_feed(regclass, bigint, bigint, bigint, bigint) IS
  'Superuser only, for tests and imports: add UPDATE counts to hygiene.table_write_stats by hand';
COMMENT ON FUNCTION hygiene._advice_sample(boolean) IS
  'Internal: take a sample of every table of this database if due (or with true, now); used by the sampler worker and the views';
COMMENT ON FUNCTION hygiene._advice_maybe_sample() IS
  'Internal: take a sample if the last one is pg_hygiene.advice_sample_interval old';
COMMENT ON FUNCTION hygiene._xmin_holders() IS
  'Holders of the xmin horizon; read them through hygiene.xmin_holders';
COMMENT ON FUNCTION hygiene._row_widths() IS
  'Internal: average row width per table from pg_stats, as the caller may read it';
COMMENT ON FUNCTION hygiene._table_health() IS
  'Per-table evidence behind the advice, in the units the rules use; read it through hygiene.table_health';
COMMENT ON FUNCTION hygiene._reloptions_revert(text, text[], text[]) IS
  'Internal: the ALTER TABLE that restores the given reloptions to their current values';
COMMENT ON FUNCTION hygiene._table_advice() IS
  'Per-table recommendations; read them through hygiene.table_advice';
COMMENT ON FUNCTION hygiene._database_advice() IS
  'Instance-wide recommendations; read them through hygiene.database_advice';
COMMENT ON FUNCTION hygiene._noop_settings_changed() IS
  'Internal trigger: tell every session of this database that hygiene.noop_update_settings changed';
COMMENT ON FUNCTION hygiene._noop_update_trigger() IS
  'Internal trigger: the no-op UPDATE suppressor''s row trigger path';
COMMENT ON FUNCTION hygiene._noop_settings_drop() IS
  'Internal event trigger: remove the no-op settings of dropped tables';
COMMENT ON FUNCTION hygiene._query_rules_changed() IS
  'Internal trigger: tell every session of this database that hygiene.query_rule changed';
COMMENT ON FUNCTION hygiene._query_rule_stats() IS
  'Per-rule counters in shared memory; read them through hygiene.query_rules';
COMMENT ON FUNCTION hygiene._limits_summary() IS
  'Instance-wide limiter state; read it through hygiene.limits_summary';
COMMENT ON FUNCTION hygiene._role_stats() IS
  'Per-role limiter counters (durations in milliseconds); read them through hygiene.role_stats (seconds)';
COMMENT ON FUNCTION hygiene._disabled_index_check() IS
  'Internal trigger: check each hygiene.disabled_index row as the role writing it';
COMMENT ON FUNCTION hygiene._disabled_index_changed() IS
  'Internal trigger: invalidate the plans of the tables whose indexes were disabled or enabled';


-- == Section: walrelag: write budgets that tighten with standby replay lag (issue 12, O32) ==

-- O32: pg_hygiene.wal_budget_replay_lag scales the write budgets down while the standbys'
-- replay lag exceeds it.  The lag and the share of their budget the roles have now are
-- shown in hygiene.limits_summary (two columns appended; the existing ones keep their
-- comments) and, for write budget waits, in hygiene.waiting.
CREATE FUNCTION hygiene._wal_budget_lag(
    OUT replay_lag_s double precision, OUT wal_budget_scale double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'hygiene_wal_budget_lag'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION hygiene._wal_budget_lag() IS
  'Largest replay lag of the streaming physical standbys and the share of their write budget roles have now; read them through hygiene.limits_summary';
REVOKE ALL ON FUNCTION hygiene._wal_budget_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hygiene._wal_budget_lag() TO pg_read_all_stats, pg_monitor;

CREATE OR REPLACE VIEW hygiene.limits_summary AS
  SELECT s.active_total, s.waiting, s.tracked_roles, s.untracked_statements,
         w.replay_lag_s, w.wal_budget_scale
    FROM hygiene._limits_summary() AS s, hygiene._wal_budget_lag() AS w;
COMMENT ON COLUMN hygiene.limits_summary.replay_lag_s IS
  'Largest replay lag of the physical standbys streaming from this server, in seconds, as pg_stat_replication.replay_lag (measured at most every 100 ms); NULL when none reports one';
COMMENT ON COLUMN hygiene.limits_summary.wal_budget_scale IS
  'Share of their max_wal_bytes_per_second that write budgets have now: 1, or pg_hygiene.wal_budget_replay_lag divided by replay_lag_s while the lag exceeds it, never below 0.1';

-- hygiene.waiting's wal_budget_scale column is defined with the view (rules section).

-- == Section: advbench: the fillfactor advice states its cost (issue 13, O33) ==
-- bench/advice_apply.sh showed the heap of a table given fillfactor_lower 9-25% larger than
-- the untreated copy's (the reserve is paid at once by the rewrite), and measured heap,
-- indexes and total apart (docs/benchmarks.md, "Applying all advice").  The reason now
-- names that cost: the heap needs up to about current_ff / fillfactor times the pages it
-- needs now (100/ff from fillfactor 100), in exchange for updates that stay HOT (no new
-- index entries).  Measured (300 s, fillfactor 80 and 75): heap +11% and +14%, indexes
-- -50%, total +3% and +5% against the untreated copy, which also grows (its failed HOT
-- updates move rows to new pages and add index entries).  Only driven_by changes (the reason of
-- fillfactor_lower is "... fillfactor N from <driven_by>").
-- The sizing keeps the Poisson bound lambda + 2 sqrt(lambda) + 1.  bench/fillfactor_sweep.sh
-- (2,200 updates/s on ~470 pages, horizon 1-2 s, lambda 7.9-9.0) measured 98% HOT with a
-- reserve of 8.4 versions where the bound asks for 16; a reserve of lambda + 1 was tried and
-- taken back: bench/advice.sh's scenario 1 then got fillfactor 90 and 88.5% HOT instead of
-- 100%, because its samples saw a horizon of 1.0 s where the snapshots were held 1-2 s (the
-- horizon is read at sample times only).  fillfactor_cap() bounds what the bound costs.
CREATE OR REPLACE FUNCTION hygiene.fillfactor_for(
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
SET search_path = pg_catalog, pg_temp
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
      FROM r),
  n AS (
    SELECT f.*, CASE WHEN ff < current_ff THEN ff ELSE greatest(50, current_ff - 10) END AS new_ff
      FROM f)
  SELECT new_ff,
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
         || format('; cost: the heap needs up to about %s times the pages it needs at fillfactor %s '
                   '(%s/%s, +%s%%), from the rewrite on; in return updates that stay HOT add no '
                   'index entries', round(current_ff::numeric / new_ff, 2), current_ff,
                   current_ff, new_ff, round(100.0 * current_ff / new_ff - 100))
    FROM n
$$;
