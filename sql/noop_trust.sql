-- No-op suppression returns and leaves exactly what stock returns and leaves (issue 10,
-- N1-N10).  run_case() runs a statement after its setup with pg_hygiene.noop_updates =
-- off (stock), lock and auto, and reports the outcome (row count or error) and the
-- table state afterwards: the three must agree.  Cases that need a top-level statement
-- (auto) or two sessions are at the end and in test/specs/noop_trust.spec.
SET pg_hygiene.debug = off;
\set VERBOSITY terse

CREATE FUNCTION run_case(mode text, setup text, stmt text, chk text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  res text;
  c text;
BEGIN
  PERFORM set_config('pg_hygiene.noop_updates', mode, true);
  EXECUTE setup;
  BEGIN
    EXECUTE stmt;
    GET DIAGNOSTICS n = ROW_COUNT;
    res := 'ok ' || n;
  EXCEPTION WHEN OTHERS THEN
    res := SQLSTATE || ' ' || SQLERRM;
  END;
  EXECUTE chk INTO c;
  RETURN res || ' | ' || coalesce(c, '');
END $$;
CREATE TABLE cases (name text PRIMARY KEY, setup text, stmt text, chk text);
CREATE VIEW results AS
  SELECT c.name, m.mode, run_case(m.mode, c.setup, c.stmt, c.chk) AS outcome
    FROM cases AS c, unnest('{off,lock,auto}'::text[]) WITH ORDINALITY AS m(mode, o)
   ORDER BY c.name COLLATE "C", m.o;

CREATE TABLE tw (id int PRIMARY KEY, v int);
CREATE TABLE tp (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE tp1 PARTITION OF tp FOR VALUES FROM (0) TO (10);
CREATE TABLE tp2 PARTITION OF tp FOR VALUES FROM (10) TO (20);
CREATE UNIQUE INDEX ON tp (id);
CREATE TABLE tlog (msg text);
-- BEFORE ROW triggers count their calls in a sequence, which an error does not roll back
CREATE SEQUENCE tcalls;
\set tw_reset 'TRUNCATE tw; INSERT INTO tw VALUES (1, 1), (2, 1); TRUNCATE tlog'
\set tw_state 'SELECT string_agg(id || ''='' || v, '','' ORDER BY id) FROM tw'
\set tp_reset 'TRUNCATE tp, tlog; INSERT INTO tp VALUES (1, 1), (11, 1)'
\set tp_state 'SELECT string_agg(id || ''='' || v, '','' ORDER BY id) FROM tp'

-- N1: another ModifyTable node of the same query touches a suppressed row
INSERT INTO cases VALUES
  ('n1_cte_update', :'tw_reset',
   'WITH c AS (UPDATE tw SET v = 2 WHERE id = 1) UPDATE tw SET v = 1 WHERE id = 1', :'tw_state'),
  ('n1_cte_delete', :'tw_reset',
   'WITH c AS (DELETE FROM tw WHERE id = 1) UPDATE tw SET v = 1 WHERE id = 1', :'tw_state'),
  ('n1_cte_delete_merge', :'tw_reset',
   'WITH c AS (DELETE FROM tw WHERE id = 1) MERGE INTO tw USING (VALUES (1)) s(id) ON tw.id = s.id WHEN MATCHED THEN UPDATE SET v = 1', :'tw_state'),
  ('n1_cte_delete_partition', :'tp_reset',
   'WITH c AS (DELETE FROM tp1 WHERE id = 1) UPDATE tp SET v = 1', :'tp_state'),
  ('n1_cte_after_upsert', :'tw_reset',
   'WITH c AS (UPDATE tw SET v = 3 WHERE id = 1) INSERT INTO tw VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET v = excluded.v', :'tw_state'),
  ('n1_cte_upsert_partition', :'tp_reset',
   'WITH c AS (UPDATE tp SET v = 1 WHERE id = 11) INSERT INTO tp VALUES (11, 5) ON CONFLICT (id) DO UPDATE SET v = excluded.v', :'tp_state');

-- N2: MERGE on the trigger path, a target row matched by UPDATE, then by DELETE
CREATE TABLE tm (k int PRIMARY KEY, v int);
CREATE FUNCTION tm_bru() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM nextval('tcalls'); RETURN NEW; END $$;
CREATE TRIGGER tm_bru BEFORE UPDATE ON tm FOR EACH ROW EXECUTE FUNCTION tm_bru();
\set tm_reset 'TRUNCATE tm; INSERT INTO tm VALUES (1, 1); SELECT setval(''tcalls'', 1, false); SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off'
\set calls '(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM tcalls)'
\set tm_state 'SELECT (SELECT string_agg(k || ''='' || v, '','') FROM tm) || '' trigger calls '' || ' :calls
INSERT INTO cases VALUES
  ('n2_merge_update_delete', :'tm_reset',
   'MERGE INTO tm USING (VALUES (1, ''u''), (1, ''d'')) s(k, a) ON tm.k = s.k WHEN MATCHED AND s.a = ''u'' THEN UPDATE SET v = 1 WHEN MATCHED AND s.a = ''d'' THEN DELETE', :'tm_state'),
  ('n2_merge_update_update', :'tm_reset',
   'MERGE INTO tm USING (VALUES (1, 1), (1, 2)) s(k, a) ON tm.k = s.k WHEN MATCHED THEN UPDATE SET v = 1', :'tm_state'),
  ('n2_merge_update_nothing', :'tm_reset',
   'MERGE INTO tm USING (VALUES (1, ''u''), (1, ''n'')) s(k, a) ON tm.k = s.k WHEN MATCHED AND s.a = ''u'' THEN UPDATE SET v = 1 WHEN MATCHED THEN DO NOTHING', :'tm_state');

-- N3: transition tables on a partitioned or inheritance root
CREATE FUNCTION tt_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tlog SELECT format('old %s new %s', (SELECT count(*) FROM old_t), (SELECT count(*) FROM new_t));
  RETURN NULL;
END $$;
CREATE TRIGGER tp_tt AFTER UPDATE ON tp REFERENCING OLD TABLE AS old_t NEW TABLE AS new_t
  FOR EACH STATEMENT EXECUTE FUNCTION tt_fn();
CREATE TABLE ti (id int, v int);
CREATE TABLE ti_child () INHERITS (ti);
CREATE TRIGGER ti_tt AFTER UPDATE ON ti REFERENCING OLD TABLE AS old_t NEW TABLE AS new_t
  FOR EACH STATEMENT EXECUTE FUNCTION tt_fn();
\set tt_state 'SELECT string_agg(msg, '','') FROM tlog'
INSERT INTO cases VALUES
  ('n3_transition_partitioned', :'tp_reset', 'UPDATE tp SET v = 1', :'tt_state'),
  ('n3_transition_inheritance',
   'TRUNCATE ti, ti_child, tlog; INSERT INTO ti VALUES (1, 1); INSERT INTO ti_child VALUES (2, 1)',
   'UPDATE ti SET v = 1', :'tt_state'),
  ('n3_transition_merge', :'tp_reset',
   'MERGE INTO tp USING (VALUES (1), (11)) s(id) ON tp.id = s.id WHEN MATCHED THEN UPDATE SET v = 1', :'tt_state');

-- N5: ON CONFLICT, a row proposed twice whose second proposal fails DO UPDATE ... WHERE
CREATE TABLE toc (k int PRIMARY KEY, v int);
CREATE TABLE toc_trg (k int PRIMARY KEY, v int);
CREATE FUNCTION toc_bru() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM nextval('tcalls'); RETURN NEW; END $$;
CREATE TRIGGER toc_bru BEFORE UPDATE ON toc_trg FOR EACH ROW EXECUTE FUNCTION toc_bru();
\set toc_state 'SELECT string_agg(k || ''='' || v, '','') FROM toc'
\set toc_trg_state 'SELECT (SELECT string_agg(k || ''='' || v, '','') FROM toc_trg) || '' trigger calls '' || ' :calls
INSERT INTO cases VALUES
  ('n5_upsert_where_twice', 'TRUNCATE toc; INSERT INTO toc VALUES (1, 1)',
   'INSERT INTO toc VALUES (1, 1), (1, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE excluded.v = 1', :'toc_state'),
  ('n5_upsert_where_once', 'TRUNCATE toc; INSERT INTO toc VALUES (1, 1)',
   'INSERT INTO toc VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE excluded.v = 1', :'toc_state'),
  ('n5_upsert_twice', 'TRUNCATE toc; INSERT INTO toc VALUES (1, 1)',
   'INSERT INTO toc VALUES (1, 1), (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v', :'toc_state'),
  ('n5_upsert_trigger_twice', 'TRUNCATE toc_trg; INSERT INTO toc_trg VALUES (1, 1); SELECT setval(''tcalls'', 1, false)',
   'INSERT INTO toc_trg VALUES (1, 1), (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v', :'toc_trg_state');

-- N9: a CHECK constraint calling a non-immutable function is evaluated again by stock
CREATE TABLE tlimit (lim int);
CREATE FUNCTION cur_limit() RETURNS int LANGUAGE sql STABLE AS 'SELECT lim FROM tlimit';
CREATE TABLE tchk (id int PRIMARY KEY, v int CHECK (v <= cur_limit()));
INSERT INTO cases VALUES
  ('n9_mutable_check',
   'TRUNCATE tlimit, tchk; INSERT INTO tlimit VALUES (10); INSERT INTO tchk VALUES (1, 5); UPDATE tlimit SET lim = 1',
   'UPDATE tchk SET v = 5', 'SELECT string_agg(id || ''='' || v, '','') FROM tchk');

-- N10: a row changed by a function or trigger called from the same statement
CREATE FUNCTION tw_set(i int, val int) RETURNS int LANGUAGE plpgsql AS
$$ BEGIN UPDATE tw SET v = val WHERE id = i; RETURN val; END $$;
CREATE TABLE tw_trg (id int PRIMARY KEY, v int);
CREATE FUNCTION tw_trg_bru() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tw_trg_bru BEFORE UPDATE ON tw_trg FOR EACH ROW EXECUTE FUNCTION tw_trg_bru();
CREATE FUNCTION tw_trg_set(i int, val int) RETURNS int LANGUAGE plpgsql AS
$$ BEGIN UPDATE tw_trg SET v = val WHERE id = i; RETURN val; END $$;
-- a BEFORE trigger that rewrites its own row, then makes the outer update a no-op
CREATE TABLE tw_self (id int PRIMARY KEY, v int);
CREATE FUNCTION tw_self_bru() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.v = 77 THEN
    UPDATE tw_self SET v = v WHERE id = NEW.id;
    NEW := OLD;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tw_self_bru BEFORE UPDATE ON tw_self FOR EACH ROW EXECUTE FUNCTION tw_self_bru();
-- a cursor FOR UPDATE open while a later statement updates a row it has not reached
CREATE FUNCTION tw_loop() RETURNS int LANGUAGE plpgsql AS $$
DECLARE c refcursor; r record; n int := 0;
BEGIN
  OPEN c FOR SELECT id FROM tw ORDER BY id FOR UPDATE;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    n := n + 1;
    UPDATE tw SET v = 1 WHERE id = r.id + 1;
  END LOOP;
  CLOSE c;
  INSERT INTO tlog VALUES ('rows ' || n);
  RETURN n;
END $$;
-- WHERE CURRENT OF a cursor FOR UPDATE whose join returns a target row twice: stock
-- skips the second (updated by a later command), a suppressed row would come back
CREATE FUNCTION tw_cur(join_twice bool) RETURNS int LANGUAGE plpgsql AS $$
DECLARE c refcursor; r record; n int := 0;
BEGIN
  IF join_twice THEN
    OPEN c FOR SELECT tw.id FROM tw JOIN (VALUES (1), (1)) s(x) ON tw.id = s.x FOR UPDATE OF tw;
  ELSE
    OPEN c FOR SELECT tw.id FROM tw ORDER BY id FOR UPDATE;
  END IF;
  LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    n := n + 1;
    UPDATE tw SET v = 1 WHERE CURRENT OF c;
  END LOOP;
  CLOSE c;
  INSERT INTO tlog VALUES ('rows ' || n);
  RETURN n;
END $$;
INSERT INTO cases VALUES
  ('n10_current_of_join',
   'TRUNCATE tw, tlog; INSERT INTO tw VALUES (1, 1), (2, 1); SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off',
   'SELECT tw_cur(true)', 'SELECT string_agg(msg, '','') FROM tlog'),
  ('n10_current_of', :'tw_reset', 'SELECT tw_cur(false)', 'SELECT string_agg(msg, '','') FROM tlog'),
  ('n10_function_update', :'tw_reset',
   'UPDATE tw SET v = tw_set(id, v) WHERE id = 1', :'tw_state'),
  ('n10_function_update_trigger_path',
   'TRUNCATE tw_trg; INSERT INTO tw_trg VALUES (1, 1)',
   'UPDATE tw_trg SET v = tw_trg_set(id, v) WHERE id = 1',
   'SELECT string_agg(id || ''='' || v, '','') FROM tw_trg'),
  ('n10_function_delete', :'tw_reset',
   'DELETE FROM tw WHERE id = 1 AND tw_set(id, v) = 1', :'tw_state'),
  ('n10_trigger_rewrites_own_row', 'TRUNCATE tw_self; INSERT INTO tw_self VALUES (1, 1)',
   'UPDATE tw_self SET v = 77', 'SELECT string_agg(id || ''='' || v, '','') FROM tw_self'),
  ('n10_cursor_for_update', :'tw_reset',
   'SELECT tw_loop()', 'SELECT string_agg(msg, '','') FROM tlog');

SELECT * FROM results;

-- ---- what stays eligible: other tables, one proposed row ----
SET pg_hygiene.noop_updates = lock;
TRUNCATE tw, toc, tlog;
INSERT INTO tw VALUES (1, 1), (2, 1);
INSERT INTO toc VALUES (1, 1);
SELECT hygiene.reset_table_write_stats('tw') + hygiene.reset_table_write_stats('toc') >= 0 AS reset;
WITH c AS (INSERT INTO tlog VALUES ('x')) UPDATE tw SET v = 1 WHERE id = 1;
WITH c AS (DELETE FROM tw WHERE id = 2) UPDATE tw SET v = 1 WHERE id = 1;
INSERT INTO toc VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE excluded.v = 1;
INSERT INTO toc VALUES (1, 1), (2, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE excluded.v = 1;
SELECT relname, rows_updated, noop_rows, noop_suppressed, ineligible_other
  FROM hygiene.table_write_stats WHERE relname IN ('tw', 'toc') ORDER BY relname COLLATE "C";

-- ---- top level: auto ----
-- auto skips the lock of a no-op row only for a lone statement that runs no user code
-- (N8) and only for a row nobody holds (N7); a skipped row keeps xmax 0.
SET pg_hygiene.noop_updates = auto;
CREATE TABLE ta (id int PRIMARY KEY, v int);
INSERT INTO ta VALUES (1, 1);
CREATE FUNCTION ta_vol() RETURNS int LANGUAGE plpgsql VOLATILE AS 'BEGIN RETURN 1; END';
VACUUM (FREEZE) ta;
SELECT xmax = '0' AS clean FROM ta;
UPDATE ta SET v = 1;
SELECT xmax = '0' AS lockless FROM ta;
UPDATE ta SET v = 1 WHERE id = ta_vol();
SELECT xmax = '0' AS lockless FROM ta;
VACUUM (FREEZE) ta;
SELECT xmax = '0' AS clean FROM ta;
CREATE TABLE ta_audit (n int);
CREATE RULE ta_also AS ON UPDATE TO ta DO ALSO INSERT INTO ta_audit VALUES (1);
UPDATE ta SET v = 1;
SELECT xmax = '0' AS lockless FROM ta;
DROP RULE ta_also ON ta;
VACUUM (FREEZE) ta;
SELECT xmax = '0' AS clean FROM ta;
CREATE FUNCTION ta_stmt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER ta_stmt AFTER UPDATE ON ta FOR EACH STATEMENT EXECUTE FUNCTION ta_stmt();
UPDATE ta SET v = 1;
SELECT xmax = '0' AS lockless FROM ta;
DROP TRIGGER ta_stmt ON ta;
VACUUM (FREEZE) ta;
SELECT xmax = '0' AS clean FROM ta;
UPDATE ta SET v = 1;
SELECT xmax = '0' AS lockless FROM ta;

-- ---- N6: set_noop_updates() checks its table ----
SELECT hygiene.set_noop_updates(999999::regclass, 'off');
SELECT hygiene.set_noop_updates(0::regclass, 'off');
SELECT hygiene.set_noop_updates('pg_class', 'off');
SELECT hygiene.set_noop_updates('hygiene.noop_update_settings', 'auto');
SELECT hygiene.set_noop_updates('results', 'lock');
CREATE ROLE noop_trust_user;
GRANT ALL ON SCHEMA hygiene TO noop_trust_user;
GRANT EXECUTE ON FUNCTION hygiene.set_noop_updates(regclass, text) TO noop_trust_user;
GRANT ALL ON hygiene.noop_update_settings TO noop_trust_user;
SET ROLE noop_trust_user;
SELECT hygiene.set_noop_updates('tw', 'off');
RESET ROLE;
ALTER TABLE tw OWNER TO noop_trust_user;
SET ROLE noop_trust_user;
SELECT hygiene.set_noop_updates('tw', 'off');
SELECT relid::regclass, mode FROM hygiene.noop_update_settings;
SELECT hygiene.set_noop_updates('tw', NULL);
RESET ROLE;
SELECT count(*) FROM hygiene.noop_update_settings;

DROP SEQUENCE tcalls;
DROP TABLE tw_self;
DROP FUNCTION tw_self_bru, tw_cur;
DROP TABLE tw, tp, tlog, tm, ti, ti_child, toc, toc_trg, tlimit, tchk, tw_trg, ta, ta_audit CASCADE;
DROP VIEW results;
DROP TABLE cases;
DROP FUNCTION run_case, tm_bru, tt_fn, toc_bru, cur_limit, tw_set, tw_trg_bru, tw_trg_set,
  tw_loop, ta_vol, ta_stmt;
REVOKE ALL ON SCHEMA hygiene FROM noop_trust_user;
REVOKE ALL ON FUNCTION hygiene.set_noop_updates(regclass, text) FROM noop_trust_user;
REVOKE ALL ON hygiene.noop_update_settings FROM noop_trust_user;
DROP ROLE noop_trust_user;
