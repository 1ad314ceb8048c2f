-- Trust: the extension's functions and schema (findings S2, S3, S6).
-- Every function of the extension, as pg_depend lists its members.
CREATE TEMP VIEW ext_functions AS
  SELECT p.oid::regprocedure AS fn, l.lanname, p.prosecdef, p.proconfig
    FROM pg_depend AS d
         JOIN pg_proc AS p ON p.oid = d.objid
         JOIN pg_language AS l ON l.oid = p.prolang
   WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
     AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_hygiene')
     AND d.deptype = 'e';
-- S2: every function written in SQL or PL/pgSQL pins search_path (expect none listed).
SELECT fn AS function_without_pinned_search_path
  FROM ext_functions
 WHERE lanname <> 'c'
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)
 ORDER BY fn::text COLLATE "C";
-- Every SECURITY DEFINER function too, whatever its language (expect none listed).
SELECT fn AS definer_without_pinned_search_path
  FROM ext_functions
 WHERE prosecdef
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)
 ORDER BY fn::text COLLATE "C";
-- C functions resolve no names; they are the only ones without the pin.
SELECT count(*) > 0 AS has_c_functions, bool_and(lanname = 'c') AS only_c_unpinned
  FROM ext_functions
 WHERE NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false);
-- S3: the schema belongs to a superuser, and only superusers may create in it.
SELECT r.rolsuper AS owner_is_superuser
  FROM pg_namespace AS n JOIN pg_roles AS r ON r.oid = n.nspowner
 WHERE n.nspname = 'hygiene';
SELECT a.grantee, a.privilege_type
  FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
 WHERE n.nspname = 'hygiene' AND a.privilege_type = 'CREATE'
   AND NOT coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.grantee), false);
-- S6: _row_widths runs as the caller (it reads pg_stats, not pg_statistic).
SELECT prosecdef FROM pg_proc WHERE oid = 'hygiene._row_widths()'::regprocedure;
DROP VIEW ext_functions;
