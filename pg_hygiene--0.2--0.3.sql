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
-- unbounded 4-argument form is dropped.
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
           0.2 * greatest(reltuples, 0) AS by_rows,
           0.9 * least(work_mem_bytes, 1073741824) / 6 AS by_mem),
  t AS (
    SELECT c.*, least(by_rate, by_rows, by_mem) AS target,
           greatest(coalesce(scale_factor, 0) * greatest(reltuples, 0), 0) AS by_scale
      FROM c)
  SELECT autovacuums_per_hour > 12 AND table_bytes >= min_table_bytes
           AND t.target - t.by_scale >= 50 AND t.target >= 2 * current_trigger,
         round(t.target - t.by_scale)::bigint,
         (round(t.target - t.by_scale) + t.by_scale)::bigint,
         CASE WHEN t.target = t.by_rate
              THEN format('the dead rows of 5 minutes (%s an hour)', round(dead_rows_per_hour))
              WHEN t.target = t.by_rows
              THEN format('20%% of the %s live rows', round(reltuples))
              ELSE format('one index pass of autovacuum_work_mem (%s)',
                          pg_size_pretty(least(work_mem_bytes, 1073741824)::bigint)) END
    FROM t
$$;

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
                                             h.vacuum_scale_factor, h.vacuum_trigger_rows, p.mem) AS e
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
    OUT since timestamptz, OUT wait_s double precision, OUT wait_until timestamptz)
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

DROP VIEW hygiene.waiting;
DROP FUNCTION hygiene._waiting();
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
