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

-- One row: the library and extension versions and whether shared memory is attached.
CREATE VIEW hygiene.status AS
  SELECT s.library_version,
         e.extversion AS extension_version,
         s.shared_memory,
         s.started_at,
         s.statements_seen
  FROM hygiene._status() AS s,
       pg_catalog.pg_extension AS e
  WHERE e.extname = 'pg_hygiene';

GRANT USAGE ON SCHEMA hygiene TO PUBLIC;
GRANT SELECT ON hygiene.status TO PUBLIC;

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
    OUT stats_reset timestamptz)
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
