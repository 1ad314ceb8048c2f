-- Every view, every view column and every function of the extension has a COMMENT
-- (\dv+ and \d+ show what a column means and its unit), and the views follow one unit
-- per kind (docs/monitoring.md, "Units and names").  Objects are found as extension
-- members (pg_depend), so whatever is added to the extension later is checked too.

-- Views and tables without a comment: none expected.
SELECT c.oid::regclass AS relation_without_comment
  FROM pg_depend AS d
       JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_hygiene'
       JOIN pg_class AS c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND c.relkind IN ('v', 'm', 'r')
   AND obj_description(c.oid, 'pg_class') IS NULL
 ORDER BY 1::text;

-- View columns without a comment: none expected.
SELECT c.oid::regclass AS view, a.attname AS column_without_comment
  FROM pg_depend AS d
       JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_hygiene'
       JOIN pg_class AS c ON c.oid = d.objid
       JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND c.relkind IN ('v', 'm')
   AND col_description(c.oid, a.attnum) IS NULL
 ORDER BY 1::text, a.attnum;

-- Functions (and procedures) without a comment: none expected.
SELECT p.oid::regprocedure AS function_without_comment
  FROM pg_depend AS d
       JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_hygiene'
       JOIN pg_proc AS p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e'
   AND obj_description(p.oid, 'pg_proc') IS NULL
 ORDER BY 1::text;

-- One unit per kind in the views: no interval columns (durations are *_s seconds), no
-- milliseconds or per-hour columns, byte counts named *_bytes are bigint, *_s and
-- *_per_s are double precision, role and database names are type name (rolname,
-- datname).  Expected: no row.
SELECT c.oid::regclass AS view, a.attname AS column_breaking_units,
       format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_depend AS d
       JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_hygiene'
       JOIN pg_class AS c ON c.oid = d.objid
       JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.deptype = 'e' AND c.relkind IN ('v', 'm')
   AND (a.atttypid = 'interval'::regtype
        OR a.attname ~ '(_ms|_us|_per_hour|_per_minute|_per_second|_size|_mb|_kb)$'
        OR (a.attname ~ '_bytes$' AND a.atttypid <> 'bigint'::regtype)
        OR (a.attname ~ '(_s|_per_s)$' AND a.atttypid <> 'double precision'::regtype)
        OR (a.attname IN ('rolname', 'usename', 'datname') AND a.atttypid <> 'name'::regtype)
        OR a.attname IN ('role_name', 'user_name', 'database_name', 'stats_since'))
 ORDER BY 1::text, a.attnum;
