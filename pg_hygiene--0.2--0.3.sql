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

-- == Section: trust, security and privileges (issue 10, S) ==

-- == Section: trust, limits and query rules (issue 10, L) ==

-- == Section: trust, shared memory and DDL guard (issue 10, M, G1) ==

-- == Section: packaging (issue 11) ==
