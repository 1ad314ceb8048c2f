-- PostgreSQL 17's MAINTAIN privilege lets a role that does not own a table run VACUUM,
-- CLUSTER, REFRESH MATERIALIZED VIEW and REINDEX on it: the DDL guard decides for that
-- role as for the owner.  (15 has no MAINTAIN privilege: the GRANT fails and stock
-- refuses the commands, expected/ddl_maintain17_1.out.)
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'all';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_new_table_schemas = '';
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE TABLE dm17_big (id int, n int);
INSERT INTO dm17_big SELECT g, g FROM generate_series(1, 3000) g;
CREATE INDEX dm17_big_n ON dm17_big (n);
CREATE MATERIALIZED VIEW dm17_mv AS SELECT * FROM dm17_big;
COMMIT;
VACUUM dm17_big, dm17_mv;
CREATE ROLE dm17_maint;
GRANT MAINTAIN ON dm17_big, dm17_mv TO dm17_maint;
SET ROLE dm17_maint;
\set VERBOSITY terse
VACUUM FULL dm17_big;
CLUSTER dm17_big USING dm17_big_n;
REINDEX TABLE dm17_big;
REINDEX INDEX dm17_big_n;
REFRESH MATERIALIZED VIEW dm17_mv;
\set VERBOSITY default
RESET ROLE;
SET pg_hygiene.ddl_guard = off;
DROP MATERIALIZED VIEW dm17_mv;
DROP TABLE dm17_big;
DROP ROLE dm17_maint;
