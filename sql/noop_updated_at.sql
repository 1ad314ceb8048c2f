-- ORM saves that set updated_at (O12): a real change, never suppressed, since stock
-- stores the new timestamp.  The application-owned trigger of docs/noop_updates.md
-- ("ORM saves and updated_at") keeps the stored updated_at when nothing else changed;
-- the save is then a no-op and suppressed, and a real change still moves updated_at.
SET pg_hygiene.noop_updates = lock;
SET pg_hygiene.debug = off;
SET TimeZone = 'UTC';
CREATE TABLE nua_item (id int PRIMARY KEY, name text, qty int,
                       updated_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00+00');
INSERT INTO nua_item (id, name, qty) SELECT g, 'item ' || g, g FROM generate_series(1, 10) g;
SELECT hygiene.reset_table_write_stats('nua_item');

-- Django's save(): every column, updated_at = now()
UPDATE nua_item SET name = name, qty = qty, updated_at = '2026-06-01 00:00+00' WHERE id <= 3;
SELECT rows_updated, noop_rows, noop_suppressed FROM hygiene.table_write_stats
WHERE relname = 'nua_item';
SELECT count(*) AS moved FROM nua_item WHERE updated_at = '2026-06-01 00:00+00';

-- the recipe
CREATE FUNCTION nua_keep_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  saved timestamptz := NEW.updated_at;
BEGIN
  NEW.updated_at := OLD.updated_at;
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.updated_at := saved;      -- something else changed: keep the new timestamp
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER nua_keep_updated_at BEFORE UPDATE ON nua_item
  FOR EACH ROW EXECUTE FUNCTION nua_keep_updated_at();
SELECT hygiene.reset_table_write_stats('nua_item');

-- the same save of rows 4-6: nothing else changed, so a no-op, suppressed
UPDATE nua_item SET name = name, qty = qty, updated_at = '2026-07-01 00:00+00' WHERE id BETWEEN 4 AND 6;
\echo rows :ROW_COUNT
SELECT rows_updated, noop_rows, noop_suppressed FROM hygiene.table_write_stats
WHERE relname = 'nua_item';
SELECT id, updated_at FROM nua_item WHERE id BETWEEN 4 AND 6 ORDER BY id;

-- a save that changes qty: written, with the new timestamp
UPDATE nua_item SET name = name, qty = qty + 1, updated_at = '2026-08-01 00:00+00' WHERE id = 7;
SELECT id, qty, updated_at FROM nua_item WHERE id = 7;
SELECT rows_updated, noop_rows, noop_suppressed FROM hygiene.table_write_stats
WHERE relname = 'nua_item';

DROP TABLE nua_item;
DROP FUNCTION nua_keep_updated_at();
