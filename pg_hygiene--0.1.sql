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
