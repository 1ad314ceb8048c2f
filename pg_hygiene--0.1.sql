/* pg_hygiene--0.1.sql */

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
