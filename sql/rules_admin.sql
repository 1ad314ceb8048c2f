-- Query digest rules: bad input changes nothing, upsert, privileges, settings.
SET pg_hygiene.query_rules_exempt_superuser = on;
SET pg_hygiene.query_rule_wait_timeout = '1s';
\set VERBOSITY terse

CREATE ROLE rules_a_user;
CREATE ROLE rules_a_target;

SELECT count(*) AS rules_before FROM hygiene.query_rule \gset

-- Bad input: a clear error, nothing stored.
SELECT hygiene.block_query(NULL, 'no id');
SELECT hygiene.block_query(0, 'zero id');
SELECT hygiene.block_query(42, NULL);
SELECT hygiene.block_query(42, '   ');
SELECT hygiene.block_query(42, repeat('x', 201));
SELECT hygiene.block_query(42, 'negative ttl', ttl => '-1 minute');
SELECT hygiene.block_query(42, 'zero ttl', ttl => '0');
SELECT hygiene.block_query(42, 'bad role', role => 'rules_a_no_such_role');
SELECT hygiene.block_query(42, 'null dry run', dry_run => NULL);
SELECT hygiene.throttle_query(42, reason => 'no limit given');
SELECT hygiene.throttle_query(42, per_second => 0, reason => 'zero rate');
SELECT hygiene.throttle_query(42, per_second => -5, reason => 'negative rate');
SELECT hygiene.throttle_query(42, per_second => 'NaN', reason => 'nan rate');
SELECT hygiene.throttle_query(42, per_second => 'infinity', reason => 'infinite rate');
SELECT hygiene.throttle_query(42, max_concurrent => 0, reason => 'zero slots');
SELECT hygiene.throttle_query(42, max_concurrent => 2);
SELECT hygiene.remove_query_rule(42);
SELECT hygiene.remove_query_rule(42, 'rules_a_target');
-- The table's own checks hold for direct writes too.
INSERT INTO hygiene.query_rule (queryid, action, reason) VALUES (42, 'throttle', 'no limits');
INSERT INTO hygiene.query_rule (queryid, action, reason, per_second) VALUES (42, 'block', 'block with rate', 1);
INSERT INTO hygiene.query_rule (queryid, action, reason) VALUES (42, 'delay', 'unknown action');
SELECT count(*) = :rules_before AS nothing_stored FROM hygiene.query_rule;

-- One rule per (queryid, role): a second call replaces the first and keeps its id.
SELECT hygiene.block_query(42, 'first') AS id1 \gset
SELECT hygiene.throttle_query(42, per_second => 5, max_concurrent => 2,
                              reason => 'second', ttl => '1 hour') AS id2 \gset
SELECT :id1 = :id2 AS same_rule;
SELECT action, max_per_s, max_concurrent, reason, expires_at > now() AS expires,
       created_by = current_user AS by_me
FROM hygiene.query_rules WHERE queryid = 42;
-- A rule for a role is a separate rule.
SELECT hygiene.block_query(42, 'for one role', role => 'rules_a_target') <> :id1 AS separate_rule;
SELECT role, action FROM hygiene.query_rules WHERE queryid = 42 ORDER BY role NULLS FIRST;
-- Removing one leaves the other.
SELECT hygiene.remove_query_rule(42, 'rules_a_target') <> :id1 AS removed_role_rule;
SELECT role, action FROM hygiene.query_rules WHERE queryid = 42;

-- Rules survive pg_dump: the table and its sequence are extension configuration.
SELECT c.relname, x.ord IS NOT NULL AS dumped
FROM pg_extension e,
     unnest(e.extconfig) WITH ORDINALITY AS x(oid, ord)
     JOIN pg_class c ON c.oid = x.oid
WHERE e.extname = 'pg_hygiene' AND c.relname LIKE 'query_rule%'
ORDER BY c.relname COLLATE "C";

-- An ordinary role can neither change rules nor read them.
SET SESSION AUTHORIZATION rules_a_user;
SELECT hygiene.block_query(43, 'not allowed');
SELECT hygiene.throttle_query(43, per_second => 1, reason => 'not allowed');
SELECT hygiene.remove_query_rule(42);
SELECT hygiene.purge_expired_query_rules();
SELECT hygiene.reload_query_rules();
SELECT * FROM hygiene.query_rules;
SELECT * FROM hygiene.query_rule;
SELECT * FROM hygiene._query_rule_stats();
INSERT INTO hygiene.query_rule (queryid, action, reason) VALUES (43, 'block', 'sneaky');
DELETE FROM hygiene.query_rule;
-- ... nor switch the exemption or the wait off or on for itself.
SET pg_hygiene.query_rules_exempt_superuser = off;
SET pg_hygiene.query_rule_wait_timeout = '1h';
RESET SESSION AUTHORIZATION;
SELECT count(*) AS rules_for_42 FROM hygiene.query_rule WHERE queryid IN (42, 43);

-- A DBA role given EXECUTE can manage rules without table privileges
-- (the functions are SECURITY DEFINER).
GRANT EXECUTE ON FUNCTION hygiene.remove_query_rule(bigint, regrole) TO rules_a_user;
SET SESSION AUTHORIZATION rules_a_user;
SELECT hygiene.remove_query_rule(42) = :id1 AS removed_by_dba_role;
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION hygiene.remove_query_rule(bigint, regrole) FROM rules_a_user;

-- Settings: ranges, units and contexts.
-- (the text of a range error differs between versions: 16 added units; show the code
-- and the range from pg_settings)
\set VERBOSITY sqlstate
SET pg_hygiene.query_rule_wait_timeout = -1;
SET pg_hygiene.query_rule_wait_timeout = '2h';
\set VERBOSITY terse
SELECT min_val, max_val, unit FROM pg_settings WHERE name = 'pg_hygiene.query_rule_wait_timeout';
SET pg_hygiene.query_rule_wait_timeout = '250ms';
SHOW pg_hygiene.query_rule_wait_timeout;
SET pg_hygiene.max_query_rules = 10;
SELECT name, setting, unit, context FROM pg_settings
WHERE name IN ('pg_hygiene.query_rule_wait_timeout', 'pg_hygiene.query_rules_exempt_superuser',
               'pg_hygiene.max_query_rules')
ORDER BY name COLLATE "C";

-- Rules need queryids: with compute_query_id = off they match nothing, and
-- adding one warns.
SET compute_query_id = off;
SELECT hygiene.block_query(44, 'no queryids') > 0 AS added;
SELECT hygiene.remove_query_rule(44) > 0 AS removed;
RESET compute_query_id;

-- Reloading is harmless.
SELECT hygiene.reload_query_rules();
SELECT count(*) = :rules_before AS back_to_start FROM hygiene.query_rule;

DROP ROLE rules_a_user;
DROP ROLE rules_a_target;
