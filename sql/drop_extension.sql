-- DROP EXTENSION pg_hygiene leaves the schema "hygiene" behind, empty (O30, documented in
-- the README): CREATE EXTENSION created it for the control file's schema = hygiene, and
-- PostgreSQL does not make such a schema a member.  A later CREATE EXTENSION accepts it.
SELECT current_database() AS orig_db \gset
CREATE DATABASE hyg_drop_ext;
\c hyg_drop_ext
CREATE EXTENSION pg_hygiene;
DROP EXTENSION pg_hygiene;
SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) = current_user AS owned_by_me,
       (SELECT count(*) FROM pg_catalog.pg_class AS c WHERE c.relnamespace = n.oid) AS relations,
       (SELECT count(*) FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = n.oid) AS functions
FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'hygiene';
CREATE EXTENSION pg_hygiene;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_hygiene';
DROP EXTENSION pg_hygiene;
DROP SCHEMA hygiene;
SELECT count(*) AS schemas_left FROM pg_catalog.pg_namespace WHERE nspname = 'hygiene';
\c :orig_db
DROP DATABASE hyg_drop_ext;
