-- DDL guard coverage added by issue 12: SET TABLESPACE, ATTACH PARTITION index
-- builds, ALTER DOMAIN scans, the new_table escapes (CREATE SCHEMA ... CREATE TABLE,
-- EXPLAIN ANALYZE, DETACH PARTITION), ADD COLUMN serial, mixed-case names in
-- messages and complete hints for constraints written on ADD COLUMN.
SET pg_hygiene.ddl_guard = off;
CREATE TABLE "Orders" (id int, "Note" text, v int);
INSERT INTO "Orders" SELECT g, 'n', g FROM generate_series(1, 3000) g;
CREATE TABLE ddlc_ref (id int PRIMARY KEY);
INSERT INTO ddlc_ref SELECT generate_series(1, 3000);
CREATE TABLE ddlc_empty (id int);
CREATE DOMAIN ddlc_dom AS int;
CREATE TABLE ddlc_domt (d ddlc_dom);
INSERT INTO ddlc_domt SELECT generate_series(1, 3000);
CREATE DOMAIN ddlc_dom_unused AS int;
CREATE TABLE ddlc_parted (id int, v int) PARTITION BY RANGE (id);
CREATE INDEX ddlc_parted_v ON ddlc_parted (v);
CREATE TABLE ddlc_parted_1 PARTITION OF ddlc_parted FOR VALUES FROM (0) TO (100000);
INSERT INTO ddlc_parted SELECT g, g FROM generate_series(1, 3000) g;
CREATE TABLE ddlc_standalone (id int, v int);
INSERT INTO ddlc_standalone SELECT g, g FROM generate_series(100001, 103000) g;
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE ddlc_space LOCATION '';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset
SET pg_hygiene.ddl_guard = enforce;
SET pg_hygiene.ddl_rules = 'all';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_new_table_schemas = '';

-- mixed-case names: "public.Orders" in messages, public."Orders" in SQL
ALTER TABLE "Orders" ALTER COLUMN id TYPE bigint;
ALTER TABLE "Orders" ADD PRIMARY KEY (id);
VACUUM FULL "Orders";
CREATE INDEX "Orders_v" ON "Orders" (v);

-- constraints written on ADD COLUMN: every statement of the hint written out
ALTER TABLE "Orders" ADD COLUMN note2 text CHECK (note2 <> '(x)');
ALTER TABLE "Orders" ADD COLUMN "Ref" int CONSTRAINT orders_ref_pos CHECK ("Ref" > 0) DEFAULT 1;
ALTER TABLE "Orders" ADD COLUMN ref_id int REFERENCES ddlc_ref (id) ON DELETE CASCADE;

-- ADD COLUMN serial: judged (a rewrite), not "type serial does not exist"
ALTER TABLE "Orders" ADD COLUMN s serial;
ALTER TABLE "Orders" ADD COLUMN s bigserial;
SET pg_hygiene.ddl_guard = warn;
BEGIN;
ALTER TABLE "Orders" ADD COLUMN s serial;
SELECT count(DISTINCT s) FROM "Orders";
ROLLBACK;
SET pg_hygiene.ddl_guard = enforce;

-- SET TABLESPACE copies the files under an AccessExclusiveLock
ALTER TABLE "Orders" SET TABLESPACE ddlc_space;
ALTER INDEX ddlc_ref_pkey SET TABLESPACE ddlc_space;
ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE ddlc_space;
-- pass: already there, empty tables, a partitioned table (only its default changes)
ALTER TABLE "Orders" SET TABLESPACE pg_default;
ALTER TABLE ddlc_empty SET TABLESPACE ddlc_space;
ALTER TABLE ddlc_empty SET TABLESPACE pg_default;
ALTER TABLE ddlc_parted SET TABLESPACE ddlc_space;
ALTER TABLE ddlc_parted SET TABLESPACE pg_default;
SELECT relname, reltablespace <> 0 AS moved FROM pg_class
WHERE relname IN ('Orders', 'ddlc_ref_pkey', 'ddlc_empty') ORDER BY relname::text COLLATE "C";

-- ATTACH PARTITION that would build an index on a big table
ALTER TABLE ddlc_parted ATTACH PARTITION ddlc_standalone FOR VALUES FROM (100000) TO (200000);
-- pass: the matching index built first
CREATE INDEX CONCURRENTLY ddlc_standalone_v ON ddlc_standalone (v);
ALTER TABLE ddlc_parted ATTACH PARTITION ddlc_standalone FOR VALUES FROM (100000) TO (200000);

-- ALTER DOMAIN that scans every table using the domain
ALTER DOMAIN ddlc_dom ADD CONSTRAINT ddlc_dom_pos CHECK (VALUE > 0);
ALTER DOMAIN ddlc_dom ADD CHECK (VALUE > 0);
ALTER DOMAIN ddlc_dom SET NOT NULL;
-- pass: NOT VALID, and a domain no table uses
ALTER DOMAIN ddlc_dom ADD CONSTRAINT ddlc_dom_pos CHECK (VALUE > 0) NOT VALID;
ALTER DOMAIN ddlc_dom_unused SET NOT NULL;
ALTER DOMAIN ddlc_dom_unused ADD CHECK (VALUE > 0);

-- REINDEX SYSTEM: every catalog index, no CONCURRENTLY form
REINDEX SYSTEM :"DBNAME";

-- new_table escapes
CREATE SCHEMA ddlc_evade CREATE TABLE nt6 (id int);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT 1 AS x INTO ddlc_nt8;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) CREATE TABLE ddlc_nt7 AS SELECT 1 AS x;
ALTER TABLE ddlc_parted DETACH PARTITION ddlc_parted_1;
-- pass: plain EXPLAIN creates nothing; temporary tables in a new schema
EXPLAIN (COSTS OFF) CREATE TABLE ddlc_nt7 AS SELECT 1 AS x;
SELECT count(*) FROM pg_class WHERE relname IN ('nt6', 'ddlc_nt7', 'ddlc_nt8');
SELECT count(*) FROM pg_namespace WHERE nspname = 'ddlc_evade';

SELECT action, rule, relation, message FROM hygiene.ddl_events
WHERE event_id > :ev0 ORDER BY event_id;

-- cleanup
SET pg_hygiene.ddl_guard = off;
DROP TABLE "Orders", ddlc_ref, ddlc_empty, ddlc_domt, ddlc_parted, ddlc_standalone;
DROP DOMAIN ddlc_dom, ddlc_dom_unused;
DROP TABLESPACE ddlc_space;
