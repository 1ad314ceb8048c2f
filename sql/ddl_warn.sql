-- DDL guard in warn mode: the same statements run, with a WARNING each (message,
-- detail, hint) and a "warn" row in hygiene.ddl_events.
SET pg_hygiene.ddl_guard = warn;
SET pg_hygiene.ddl_rules = 'all';
SET pg_hygiene.ddl_allow = '';
SET pg_hygiene.ddl_small_table_size = '16kB';
SET pg_hygiene.ddl_new_table_schemas = '';
SET pg_hygiene.ddl_lock_timeout = '5s';
SET pg_hygiene.ddl_statement_timeout = '5s';
SELECT coalesce(max(event_id), 0) AS ev0 FROM hygiene.ddl_events \gset

CREATE TABLE ddlw (id int, n int);
INSERT INTO ddlw SELECT g, g FROM generate_series(1, 3000) g;
CREATE INDEX ddlw_n ON ddlw (n);
ALTER TABLE ddlw ALTER COLUMN id TYPE bigint;
-- (16 and later extend a rewritten table by many empty pages: drop them, the sizes shown
-- are those of the rows)
VACUUM ddlw;
ALTER TABLE ddlw ADD CONSTRAINT ddlw_n_pos CHECK (n > 0);
DROP INDEX ddlw_n;
-- passes: the validated CHECK (n > 0) proves n IS NOT NULL, so no scan is needed
ALTER TABLE ddlw ALTER COLUMN n SET NOT NULL;
-- near neighbours: no warning
CREATE INDEX CONCURRENTLY ddlw_n ON ddlw (n);
ALTER TABLE ddlw ADD COLUMN c int DEFAULT 0;
ALTER TABLE ddlw ADD CONSTRAINT ddlw_c_pos CHECK (c >= 0) NOT VALID;
CREATE TEMP TABLE ddlw_tmp (id int);

-- the statements ran
SELECT format_type(atttypid, atttypmod) AS id_type FROM pg_attribute
WHERE attrelid = 'ddlw'::regclass AND attname = 'id';
-- (18 lists NOT NULL constraints in pg_constraint too, as contype 'n')
SELECT conname FROM pg_constraint WHERE conrelid = 'ddlw'::regclass AND contype <> 'n' ORDER BY 1;
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'ddlw'::regclass AND attname = 'n';

SELECT action, rule, relation, message, statement
FROM hygiene.ddl_events WHERE event_id > :ev0 ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP TABLE ddlw;
