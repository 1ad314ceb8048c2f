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
