/* pg_hygiene--0.1--0.2.sql: update from 0.1 with ALTER EXTENSION pg_hygiene UPDATE */

\echo Use "ALTER EXTENSION pg_hygiene UPDATE TO '0.2'" to load this file. \quit

-- hygiene.role_stats gains admitted_over_cap: queued statements admitted past a full
-- cap because another backend waited for a lock they held.
DROP VIEW hygiene.role_stats;
DROP FUNCTION hygiene._role_stats();

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

-- Other roles' activity: monitoring roles only.
REVOKE ALL ON FUNCTION hygiene._role_stats() FROM PUBLIC;
REVOKE ALL ON hygiene.role_stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION hygiene._role_stats() TO pg_read_all_stats;
GRANT SELECT ON hygiene.role_stats TO pg_read_all_stats;
