-- DDL guard: dangerous schema changes are reported (warn) or refused (enforce), with the
-- safe alternative written out; every event lands in hygiene.ddl_events.
CREATE TABLE demo_orders (id int, customer int, note varchar(20));
INSERT INTO demo_orders SELECT g, g % 100, 'order ' || g FROM generate_series(1, 40000) g;

-- warn (the default): the index is built, the client gets a WARNING with the safe form
SET pg_hygiene.ddl_guard = warn;
CREATE INDEX demo_orders_customer ON demo_orders (customer);

-- enforce: refused with SQLSTATE PHD01 before any work is done
SET pg_hygiene.ddl_guard = enforce;
DO $$
DECLARE msg text; hint text; state text;
BEGIN
  ALTER TABLE demo_orders ALTER COLUMN id TYPE bigint;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT, state = RETURNED_SQLSTATE;
  RAISE NOTICE E'% %\nHINT: %', state, msg, hint;
END $$;
DO $$
DECLARE msg text; hint text;
BEGIN
  ALTER TABLE demo_orders ADD CONSTRAINT demo_orders_customer_pos CHECK (customer >= 0);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%\nHINT: %', msg, hint;
END $$;

-- metadata-only changes and the NOT VALID recipe pass
ALTER TABLE demo_orders ALTER COLUMN note TYPE varchar(40);
ALTER TABLE demo_orders ADD CONSTRAINT demo_orders_customer_pos CHECK (customer >= 0) NOT VALID;
ALTER TABLE demo_orders VALIDATE CONSTRAINT demo_orders_customer_pos;

-- a deliberate override, for this transaction only
BEGIN;
SELECT hygiene.allow_ddl('index_not_concurrent');
DROP INDEX demo_orders_customer;
COMMIT;

SELECT action, rule, relation, pg_size_pretty(relation_bytes) AS size, statement
FROM hygiene.ddl_events WHERE datname = current_database() ORDER BY event_id;

SET pg_hygiene.ddl_guard = off;
DROP TABLE demo_orders;
