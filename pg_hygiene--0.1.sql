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
