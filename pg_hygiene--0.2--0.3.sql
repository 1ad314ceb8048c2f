/* pg_hygiene--0.2--0.3.sql: update from 0.2 with ALTER EXTENSION pg_hygiene UPDATE */

\echo Use "ALTER EXTENSION pg_hygiene UPDATE TO '0.3'" to load this file. \quit

-- Version 0.3 collects the schema changes of the 0.3 work, one section per concern.
-- A fresh install reaches 0.3 through this script as well (0.1 base, then the updates),
-- so every change here is also what a new database gets.  Keep each section's statements
-- together; add new sections at the end.

-- == Section: trust, no-op suppression (issue 10, N) ==

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
