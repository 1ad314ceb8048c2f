/* pg_hygiene--0.2--0.3.sql: update from 0.2 with ALTER EXTENSION pg_hygiene UPDATE */

\echo Use "ALTER EXTENSION pg_hygiene UPDATE TO '0.3'" to load this file. \quit

-- Version 0.3 collects the schema changes of the 0.3 work, one section per concern.
-- A fresh install reaches 0.3 through this script as well (0.1 base, then the updates),
-- so every change here is also what a new database gets.  Keep each section's statements
-- together; add new sections at the end.

-- == Section: trust, no-op suppression (issue 10, N) ==

-- == Section: trust, security and privileges (issue 10, S) ==

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
