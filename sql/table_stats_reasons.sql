-- hygiene.table_write_ineligible: ineligible_other of hygiene.table_write_stats by
-- named reason (O25); the extension's own tables appear in neither view.
SET pg_hygiene.noop_updates = lock;
SET pg_hygiene.debug = off;

CREATE TABLE tsr_ser (id int PRIMARY KEY, v int);
CREATE TABLE tsr_notvalid (id int PRIMARY KEY, v int);
CREATE TABLE tsr_mutable (id int PRIMARY KEY, v int);
CREATE TABLE tsr_wco (id int PRIMARY KEY, v int);
CREATE TABLE tsr_writer (id int PRIMARY KEY, v int);
CREATE TABLE tsr_join (id int PRIMARY KEY, v int);
CREATE ACCESS METHOD tsr_heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE tsr_am (id int PRIMARY KEY, v int) USING tsr_heap2;
INSERT INTO tsr_ser SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO tsr_notvalid SELECT g, g FROM generate_series(1, 10) g;
ALTER TABLE tsr_notvalid ADD CONSTRAINT tsr_small CHECK (v < 5) NOT VALID;
INSERT INTO tsr_mutable SELECT g, g FROM generate_series(1, 10) g;
CREATE FUNCTION tsr_positive(int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT $1 > 0';
ALTER TABLE tsr_mutable ADD CONSTRAINT tsr_pos CHECK (tsr_positive(v));
INSERT INTO tsr_wco SELECT g, g FROM generate_series(1, 10) g;
CREATE VIEW tsr_wco_v AS SELECT * FROM tsr_wco WHERE v > 0 WITH CHECK OPTION;
INSERT INTO tsr_writer SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO tsr_join SELECT g, g FROM generate_series(1, 10) g;
CREATE FUNCTION tsr_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tsr_keep BEFORE UPDATE ON tsr_join FOR EACH ROW EXECUTE FUNCTION tsr_keep();
INSERT INTO tsr_am SELECT g, g FROM generate_series(1, 10) g;

-- one no-op UPDATE of 3 rows per reason
BEGIN ISOLATION LEVEL SERIALIZABLE;
UPDATE tsr_ser SET v = v + 0 WHERE id <= 3;
COMMIT;
UPDATE tsr_notvalid SET v = v + 0 WHERE id <= 3;
UPDATE tsr_mutable SET v = v + 0 WHERE id <= 3;
UPDATE tsr_wco_v SET v = v + 0 WHERE id <= 3;
WITH d AS (DELETE FROM tsr_writer WHERE id = 10)
UPDATE tsr_writer SET v = v + 0 WHERE id <= 3;
UPDATE tsr_join AS t SET v = t.v + 0 FROM generate_series(1, 3) AS g WHERE t.id = g;
UPDATE tsr_am SET v = v + 0 WHERE id <= 3;

SELECT relname, reason, ineligible_rows
FROM hygiene.table_write_ineligible
WHERE relname LIKE 'tsr\_%'
ORDER BY relname COLLATE "C", reason COLLATE "C";

-- the breakdown adds up to ineligible_other
SELECT s.relname, s.ineligible_other,
       (SELECT sum(i.ineligible_rows) FROM hygiene.table_write_ineligible AS i
         WHERE i.relid = s.relid) AS by_reason
FROM hygiene.table_write_stats AS s
WHERE s.relname LIKE 'tsr\_%'
ORDER BY s.relname COLLATE "C";

-- The extension's own tables: set_noop_updates() updates noop_update_settings
-- (ON CONFLICT DO UPDATE), but neither view lists it.
SELECT hygiene.set_noop_updates('tsr_ser', 'lock');
SELECT hygiene.set_noop_updates('tsr_ser', 'observe');
SELECT hygiene.set_noop_updates('tsr_ser', NULL);
SELECT count(*) AS own_tables_listed
FROM hygiene.table_write_stats AS s
     JOIN pg_catalog.pg_depend AS d
       ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.relid
      AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e';
SELECT count(*) AS own_tables_listed
FROM hygiene.table_write_ineligible AS s
     JOIN pg_catalog.pg_depend AS d
       ON d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.relid
      AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e';

-- readable by everyone, like table_write_stats
CREATE ROLE tsr_user;
SET ROLE tsr_user;
SELECT count(*) >= 0 AS can_read FROM hygiene.table_write_ineligible;
RESET ROLE;
DROP ROLE tsr_user;

DROP VIEW tsr_wco_v;
DROP TABLE tsr_ser, tsr_notvalid, tsr_mutable, tsr_wco, tsr_writer, tsr_join, tsr_am;
DROP ACCESS METHOD tsr_heap2;
DROP FUNCTION tsr_positive(int);
DROP FUNCTION tsr_keep();
