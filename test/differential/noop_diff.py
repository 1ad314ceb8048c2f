#!/usr/bin/python3
"""Differential test of pg_hygiene's no-op UPDATE suppression.

A seeded generator writes single-session statement sequences (UPDATE with no-op and
self-assignments, UPDATE ... FROM with duplicate join rows, RETURNING, DELETE, MERGE
with every action kind and duplicate source rows, INSERT ... ON CONFLICT, writable CTEs,
functions and triggers that change the rows being updated, savepoints, cursors with
WHERE CURRENT OF, PL/pgSQL reading ROW_COUNT and FOUND, procedures, prepared and
multi-statement strings) over a schema with partitions, inheritance, row and statement
triggers, transition tables, a rule, generated columns, TOAST and foreign keys.

Each sequence runs three times on a freshly built schema, with pg_hygiene.noop_updates
= off, lock and auto, and every observable is compared with the `off` run: command
tags, returned rows, SQLSTATEs and messages, notices, the rows written by triggers
(including transition-table contents) and the final contents of every table (ordered
by value, never by ctid).  Results that stock PostgreSQL does not order (RETURNING,
trigger logs) are compared as multisets; everything else the generator reads with
ORDER BY.  Join orders are pinned (nested loops only) so that duplicate join rows
meet a target row in the source's order in every mode.

On a difference it prints the seed, a minimized sequence (schema flags and statements,
as a psql script) and what differs, and exits 1.

    noop_diff.py --dsn "host=/tmp port=5432 dbname=x user=postgres" --seed 1 --count 50

The role must be a superuser (the mode is a superuser setting); the database needs
CREATE EXTENSION pg_hygiene (created when missing).  The schema `noop_diff` is dropped
and rebuilt for every run.
"""

import argparse
import collections
import random
import sys
import time

import psycopg2
import psycopg2.extensions

MODES = ('off', 'lock', 'auto')
SCHEMA = 'noop_diff'

# --------------------------------------------------------------------------------------
# Schema

FLAGS = (
    't_before',      # BEFORE ROW UPDATE/INSERT/DELETE trigger on t (the trigger path)
    't_after',       # AFTER ROW trigger on t (ineligible)
    't_trans',       # transition-table statement triggers on t
    't_stmt',        # AFTER STATEMENT trigger on t without transition tables
    'p_before',      # BEFORE ROW trigger on the partitioned table p (cloned to partitions)
    'p_after',       # AFTER ROW trigger on p
    'p_trans',       # transition-table triggers on the root p
    'ip_before',     # BEFORE ROW trigger on the inheritance parent ip
    'ip_trans',      # transition-table triggers on ip
    'ic_before',     # BEFORE ROW trigger on the inheritance child ic
    'u_before',      # BEFORE ROW trigger on the upsert table u
    'u_trans',       # transition-table triggers on u
    'par_rule',      # DO ALSO rule on par
    'chi_before',    # BEFORE ROW trigger on the FK child
)


def schema_sql(flags):
    """The DDL and data of one run; flags: set of FLAGS names that are on."""
    s = []
    a = s.append
    a(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    a(f"CREATE SCHEMA {SCHEMA}")
    a(f"SET LOCAL search_path = {SCHEMA}")
    a("CREATE TABLE log (tbl text, trg text, op text, lvl text, old text, new text)")
    a("CREATE TABLE tlog (tbl text, trg text, op text, old text, new text)")
    # Row images without TOASTed values (their md5 instead) and without system columns.
    a("""CREATE FUNCTION img(j jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT (j - 'big')::text || coalesce(' big:' || md5(j->>'big'), '') $$""")
    a("""CREATE FUNCTION log_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO log VALUES (TG_TABLE_NAME, TG_NAME, TG_OP, TG_WHEN || ' ' || TG_LEVEL,
            CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN img(to_jsonb(OLD)) END,
            CASE WHEN TG_OP IN ('UPDATE', 'INSERT') THEN img(to_jsonb(NEW)) END);
          IF TG_WHEN = 'BEFORE' AND TG_OP = 'UPDATE' THEN
            IF (to_jsonb(NEW)->>'v')::int = 13 THEN RETURN NULL; END IF;       -- skip row
            IF (to_jsonb(NEW)->>'v')::int = 42 AND to_jsonb(NEW) ? 'w' THEN   -- change row
              NEW := jsonb_populate_record(NEW, jsonb_build_object('w', (to_jsonb(NEW)->>'w') || '!'));
            END IF;
            IF (to_jsonb(NEW)->>'v')::int = 77 AND (to_jsonb(OLD)->>'v')::int <> 77 THEN
              -- change the row being updated, then make the outer update a no-op:
              -- stock raises 27000
              EXECUTE format('UPDATE %I.%I SET v = v WHERE %I = $1', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0])
                USING (to_jsonb(NEW)->>TG_ARGV[0])::int;
              NEW := OLD;
            END IF;
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""")
    a("""CREATE FUNCTION log_stmt() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO log VALUES (TG_TABLE_NAME, TG_NAME, TG_OP, TG_WHEN || ' ' || TG_LEVEL, NULL, NULL);
          RETURN NULL;
        END $$""")
    a("""CREATE FUNCTION log_trans() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE o text; n text;
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            SELECT string_agg(img(to_jsonb(x)), ' | ' ORDER BY img(to_jsonb(x))) INTO o FROM old_t x;
          END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN
            SELECT string_agg(img(to_jsonb(x)), ' | ' ORDER BY img(to_jsonb(x))) INTO n FROM new_t x;
          END IF;
          INSERT INTO tlog VALUES (TG_TABLE_NAME, TG_NAME, TG_OP, o, n);
          RETURN NULL;
        END $$""")
    # Functions that change the rows being updated (stock: 27000 in the outer UPDATE).
    a("""CREATE FUNCTION f_setv(tbl text, i int, cur int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          EXECUTE format('UPDATE %I SET v = $1 WHERE %I = $2', tbl, CASE tbl WHEN 'u' THEN 'k' ELSE 'id' END)
            USING cur, i;
          RETURN cur;
        END $$""")
    # A function with a side effect elsewhere, called per row.
    a("""CREATE FUNCTION f_note(tbl text, i int, val int) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO log VALUES (tbl, 'f_note', 'CALL', NULL, NULL, i || ':' || val);
          RETURN val;
        END $$""")
    a("CREATE TABLE t (id int PRIMARY KEY, k int UNIQUE, v int, w text, big text,"
      " g int GENERATED ALWAYS AS (v * 2) STORED, c int NOT NULL DEFAULT 0 CHECK (c >= 0))")
    a("ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL")
    a("INSERT INTO t (id, k, v, w, big) SELECT i, i * 10, i % 3, 'w' || i,"
      " CASE WHEN i % 2 = 0 THEN repeat(chr(96 + i), 3000) END FROM generate_series(1, 8) i")
    a("CREATE VIEW tv AS SELECT id, k, v, w FROM t WHERE v < 3 WITH CHECK OPTION")
    a("CREATE TABLE p (id int, v int, w text, PRIMARY KEY (id)) PARTITION BY RANGE (id)")
    a("CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10)")
    # p2 with another column order and a dropped column: attribute maps differ
    a("CREATE TABLE p2 (x int, w text, v int, id int NOT NULL)")
    a("ALTER TABLE p2 DROP COLUMN x")
    a("ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20)")
    a("CREATE TABLE pd PARTITION OF p DEFAULT")
    a("INSERT INTO p SELECT i, i % 3, 'w' || i FROM generate_series(1, 5) i")
    a("INSERT INTO p SELECT i, i % 3, 'w' || i FROM generate_series(11, 15) i")
    a("INSERT INTO p VALUES (25, 1, 'w25')")
    a("CREATE TABLE ip (id int PRIMARY KEY, v int, w text)")
    a("CREATE TABLE ic (extra int DEFAULT 7) INHERITS (ip)")
    a("INSERT INTO ip SELECT i, i % 3, 'w' || i FROM generate_series(1, 4) i")
    a("INSERT INTO ic SELECT i, i % 3, 'w' || i FROM generate_series(5, 8) i")
    a("CREATE TABLE u (k int PRIMARY KEY, v int, w text)")
    a("INSERT INTO u SELECT i, i % 3, 'w' || i FROM generate_series(1, 5) i")
    a("CREATE TABLE par (id int PRIMARY KEY, v int)")
    a("CREATE TABLE chi (id int PRIMARY KEY, pid int REFERENCES par ON UPDATE CASCADE"
      " ON DELETE CASCADE, v int)")
    a("INSERT INTO par SELECT i, i % 2 FROM generate_series(1, 4) i")
    a("INSERT INTO chi SELECT i, (i + 1) / 2, i % 2 FROM generate_series(1, 6) i")
    a("CREATE TABLE src (id int, v int, a text, ord int)")
    a("INSERT INTO src VALUES (1, 1, 'u', 1), (1, 2, 'u', 2), (2, 2, 'd', 3), (3, 0, 'n', 4),"
      " (3, 0, 'u', 5), (12, 2, 'u', 6), (12, 1, 'd', 7), (21, 1, 'i', 8)")

    def row_trig(tbl, name, when, events):
        key = 'k' if tbl == 'u' else 'id'
        a(f"CREATE TRIGGER {name} {when} {events} ON {tbl} FOR EACH ROW EXECUTE FUNCTION log_row('{key}')")

    def trans_trig(tbl):
        a(f"CREATE TRIGGER {tbl}_tu AFTER UPDATE ON {tbl} REFERENCING OLD TABLE AS old_t"
          f" NEW TABLE AS new_t FOR EACH STATEMENT EXECUTE FUNCTION log_trans()")
        a(f"CREATE TRIGGER {tbl}_ti AFTER INSERT ON {tbl} REFERENCING NEW TABLE AS new_t"
          f" FOR EACH STATEMENT EXECUTE FUNCTION log_trans()")
        a(f"CREATE TRIGGER {tbl}_td AFTER DELETE ON {tbl} REFERENCING OLD TABLE AS old_t"
          f" FOR EACH STATEMENT EXECUTE FUNCTION log_trans()")

    if 't_before' in flags:
        row_trig('t', 't_b', 'BEFORE', 'INSERT OR UPDATE OR DELETE')
    if 't_after' in flags:
        row_trig('t', 't_a', 'AFTER', 'INSERT OR UPDATE OR DELETE')
    if 't_trans' in flags:
        trans_trig('t')
    if 't_stmt' in flags:
        a("CREATE TRIGGER t_s AFTER UPDATE ON t FOR EACH STATEMENT EXECUTE FUNCTION log_stmt()")
    if 'p_before' in flags:
        row_trig('p', 'p_b', 'BEFORE', 'UPDATE OR DELETE')
    if 'p_after' in flags:
        row_trig('p', 'p_a', 'AFTER', 'INSERT OR UPDATE OR DELETE')
    if 'p_trans' in flags:
        trans_trig('p')
    if 'ip_before' in flags:
        row_trig('ip', 'ip_b', 'BEFORE', 'UPDATE')
    if 'ip_trans' in flags:
        trans_trig('ip')
    if 'ic_before' in flags:
        row_trig('ic', 'ic_b', 'BEFORE', 'UPDATE')
    if 'u_before' in flags:
        row_trig('u', 'u_b', 'BEFORE', 'INSERT OR UPDATE')
    if 'u_trans' in flags:
        trans_trig('u')
    if 'par_rule' in flags:
        a("CREATE RULE par_r AS ON UPDATE TO par DO ALSO"
          " INSERT INTO log VALUES ('par', 'par_r', 'UPDATE', 'rule', img(to_jsonb(OLD)), img(to_jsonb(NEW)))")
    if 'chi_before' in flags:
        row_trig('chi', 'chi_b', 'BEFORE', 'UPDATE')
    # PL/pgSQL reading ROW_COUNT and FOUND after its own (no-op) updates
    for tbl in ('t', 'p', 'ip', 'u'):
        key = 'k' if tbl == 'u' else 'id'
        a(f"""CREATE FUNCTION rc_{tbl}(i int, val int) RETURNS text LANGUAGE plpgsql AS $$
            DECLARE n bigint; r text;
            BEGIN
              UPDATE {tbl} SET v = val WHERE {key} = i;
              GET DIAGNOSTICS n = ROW_COUNT; r := n || ':' || FOUND;
              UPDATE {tbl} SET v = v + 0 WHERE v = val;
              GET DIAGNOSTICS n = ROW_COUNT; r := r || ',' || n || ':' || FOUND;
              UPDATE {tbl} SET w = w WHERE {key} <= i;
              GET DIAGNOSTICS n = ROW_COUNT; r := r || ',' || n || ':' || FOUND;
              RETURN r;
            END $$""")
    a("""CREATE PROCEDURE pr_t(i int, val int) LANGUAGE plpgsql AS $$
        DECLARE n bigint;
        BEGIN
          UPDATE t SET v = val WHERE id = i;
          GET DIAGNOSTICS n = ROW_COUNT;
          INSERT INTO log VALUES ('t', 'pr_t', 'UPDATE', 'proc', n::text, FOUND::text);
          COMMIT;
          UPDATE t SET v = val, w = w WHERE id = i + 1;
          GET DIAGNOSTICS n = ROW_COUNT;
          INSERT INTO log VALUES ('t', 'pr_t', 'UPDATE', 'proc', n::text, FOUND::text);
        END $$""")
    return s


# Final contents, each ordered by its whole image.
FINAL_QUERIES = {
    't': "SELECT img(to_jsonb(x)) FROM t x ORDER BY 1",
    'p': "SELECT tableoid::regclass::text, img(to_jsonb(x)) FROM p x ORDER BY 1, 2",
    'ip': "SELECT tableoid::regclass::text, img(to_jsonb(x)) FROM ip x ORDER BY 1, 2",
    'ic': "SELECT img(to_jsonb(x)) FROM ic x ORDER BY 1",
    'u': "SELECT img(to_jsonb(x)) FROM u x ORDER BY 1",
    'par': "SELECT img(to_jsonb(x)) FROM par x ORDER BY 1",
    'chi': "SELECT img(to_jsonb(x)) FROM chi x ORDER BY 1",
    'log': "SELECT tbl, trg, op, lvl, old, new FROM log ORDER BY 1, 2, 3, 4, 5, 6",
    'tlog': "SELECT tbl, trg, op, old, new FROM tlog ORDER BY 1, 2, 3, 4, 5",
}

# --------------------------------------------------------------------------------------
# Statement generator


class Stmt:
    """One statement; `ordered` when its result rows have a defined order."""

    def __init__(self, sql, ordered=False):
        self.sql = sql
        self.ordered = ordered
        # on a BEGIN: run every statement of the block in a savepoint and roll back to
        # it on error, as psql's ON_ERROR_ROLLBACK does
        self.on_error_rollback = False

    def __repr__(self):
        return self.sql


class Gen:
    TABLES = ('t', 'p', 'ip', 'ic', 'u', 'par', 'chi', 'tv')

    def __init__(self, rng):
        self.r = rng
        self.sp = 0
        self.cur = 0

    def ch(self, seq):
        return self.r.choice(seq)

    def ids(self, tbl):
        return {'t': range(1, 10), 'tv': range(1, 10), 'p': [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 16, 25],
                'ip': range(1, 9), 'ic': range(4, 10), 'u': range(1, 8), 'par': range(1, 6),
                'chi': range(1, 8), 'p1': range(1, 8)}[tbl]

    def key(self, tbl):
        return 'k' if tbl == 'u' else 'id'

    def pred(self, tbl):
        key = self.key(tbl)
        ids = list(self.ids(tbl))
        c = self.r.randrange(7)
        if c == 0:
            return f"{key} = {self.ch(ids)}"
        if c == 1:
            return f"{key} IN ({self.ch(ids)}, {self.ch(ids)})"
        if c == 2:
            return f"v = {self.r.randrange(3)}"
        if c == 3:
            return f"{key} <= {self.ch(ids)}"
        if c == 4:
            return "true"
        if c == 5:
            return f"{key} % 2 = {self.r.randrange(2)}"
        return f"{key} = {self.ch(ids)}"

    def setlist(self, tbl, single_row=False):
        """SET list for an UPDATE of tbl; most are no-ops for many rows."""
        r = self.r
        has_w = tbl not in ('par', 'chi')
        opts = ['v = v', 'v = v + 0', f'v = {r.randrange(3)}',
                f'v = CASE WHEN {self.key(tbl)} % 2 = 0 THEN v ELSE {r.randrange(3)} END',
                f'v = coalesce(v, 0) + {r.choice([0, 0, 1])}']
        if has_w:
            opts += ["w = w || ''", f"w = 'w' || {self.key(tbl)}", 'v = v, w = w',
                     f"v = {r.randrange(3)}, w = w", "w = upper(w)"]
        if tbl in ('t', 'tv'):
            opts += ['k = k + 0', 'k = k']
            if tbl == 't':
                opts += ['c = c * 1']
            if tbl == 't':
                opts += ["big = big || ''", "big = big", "big = repeat('b', 3000)",
                         "big = CASE WHEN id % 2 = 0 THEN repeat(chr(96 + id), 3000) END"]
        if tbl == 'chi':
            opts += ['pid = pid + 0', 'pid = pid']
        if tbl == 'par':
            opts += ['id = id + 0', 'id = id']
        if tbl == 'p':
            opts += ['id = id + 0', 'id = id']
        # rarer: values the BEFORE triggers react to, errors, functions writing rows
        rare = ['v = 13', 'v = 42', f'v = f_note({tbl!r}, {self.key(tbl)}, v)']
        if tbl not in ('tv',):
            rare += ['v = 77']
        if single_row:
            if tbl in ('t', 'tv'):
                rare += ['k = 10']
            if tbl == 't':
                rare += ['c = -1']
            if tbl == 'p':
                rare += ['id = id + 10', 'id = id - 10', 'id = 25', 'id = 4']
            if tbl == 'par':
                rare += ['id = id + 10', 'id = 1']
            if tbl == 'chi':
                rare += ['pid = 99', f'pid = {r.randrange(1, 5)}']
            if tbl in ('t', 'p', 'ip', 'u', 'ic'):
                rare += [f'v = f_setv({tbl!r}, {self.key(tbl)}, v)']
        if tbl == 'tv':
            rare += ['v = 5']
        if r.random() < 0.2:
            return self.ch(rare)
        return self.ch(opts)

    def update(self, tbl=None, returning=None):
        r = self.r
        tbl = tbl or self.ch(self.TABLES)
        key = self.key(tbl)
        single = r.random() < 0.4
        where = f"{key} = {self.ch(list(self.ids(tbl)))}" if single else self.pred(tbl)
        only = 'ONLY ' if tbl == 'ip' and r.random() < 0.3 else ''
        sql = f"UPDATE {only}{tbl} SET {self.setlist(tbl, single)} WHERE {where}"
        if returning is None:
            returning = r.random() < 0.2
        if returning:
            sql += f" RETURNING {key}, v"
        return sql

    def update_from(self):
        """UPDATE ... FROM with duplicate join rows (the first one wins, as on stock)."""
        r = self.r
        tbl = self.ch(('t', 'p', 'ip', 'u', 'par', 'chi'))
        key = self.key(tbl)
        ids = list(self.ids(tbl))
        rows = []
        for _ in range(r.randrange(1, 5)):
            i = self.ch(ids)
            rows.append(f"({i}, {r.randrange(3)})")
            if r.random() < 0.5:
                rows.append(f"({i}, {r.randrange(3)})")
        if r.random() < 0.3:
            src = "(SELECT id, v FROM src ORDER BY ord) s"
        else:
            src = f"(VALUES {', '.join(rows)}) s(id, v)"
        setl = self.ch(['v = s.v', 'v = s.v + 0', f'v = {tbl}.v', 'v = greatest(s.v, 1)'])
        if tbl not in ('par', 'chi') and r.random() < 0.3:
            setl += ', w = w'
        sql = f"UPDATE {tbl} SET {setl} FROM {src} WHERE {tbl}.{key} = s.id"
        if r.random() < 0.2:
            sql += f" RETURNING {tbl}.{key}, {tbl}.v, s.v"
        return sql

    def delete(self, tbl=None, returning=None):
        r = self.r
        tbl = tbl or self.ch(('t', 'p', 'ip', 'ic', 'u', 'par', 'chi'))
        key = self.key(tbl)
        if r.random() < 0.7:
            where = f"{key} = {self.ch(list(self.ids(tbl)))}"
        else:
            where = self.pred(tbl)
        sql = f"DELETE FROM {tbl} WHERE {where}"
        if returning is None:
            returning = r.random() < 0.3
        if returning:
            sql += f" RETURNING {key}, v"
        return sql

    def insert(self):
        r = self.r
        tbl = self.ch(('t', 'p', 'ip', 'ic', 'u', 'chi'))
        ids = list(self.ids(tbl))
        i = self.ch(ids) + self.ch([0, 0, 20])
        if tbl == 't':
            return f"INSERT INTO t (id, k, v, w) VALUES ({i}, {i * 10 + self.ch([0, 1])}, {r.randrange(3)}, 'n{i}')"
        if tbl == 'chi':
            return f"INSERT INTO chi VALUES ({i}, {r.randrange(1, 6)}, {r.randrange(3)})"
        if tbl == 'u':
            return f"INSERT INTO u VALUES ({i}, {r.randrange(3)}, 'n{i}')"
        return f"INSERT INTO {tbl} (id, v, w) VALUES ({i}, {r.randrange(3)}, 'n{i}')"

    def upsert(self, returning=None):
        r = self.r
        tbl = self.ch(('u', 'u', 'u', 't', 'p'))
        if tbl == 'u':
            cols, key = '(k, v, w)', 'k'
        else:
            cols, key = '(id, v, w)', 'id'
        ids = list(self.ids(tbl))
        rows = []
        for _ in range(r.randrange(1, 4)):
            i = self.ch(ids) if r.random() < 0.8 else self.ch(ids) + 20
            w = self.ch([f"'w{i}'", f"'w{i}'", "'x'"])
            rows.append(f"({i}, {r.randrange(3)}, {w})")
            if r.random() < 0.3:
                rows.append(f"({i}, {r.randrange(3)}, {w})")
        if tbl == 't':
            rows = [f"({x[1:-1].split(',')[0]}, {int(x[1:-1].split(',')[0]) * 10}, {x[1:-1].split(',', 1)[1]})"
                    for x in rows]
            cols = '(id, k, v, w)'
        sql = f"INSERT INTO {tbl} AS x {cols} VALUES {', '.join(rows)} ON CONFLICT ({key}) "
        if r.random() < 0.15:
            sql += "DO NOTHING"
        else:
            setl = self.ch(['v = excluded.v, w = excluded.w', 'v = excluded.v', 'v = x.v',
                            'v = x.v + 0', 'w = excluded.w', 'v = x.v, w = x.w',
                            'v = 13', 'v = 42', 'v = 77'])
            sql += f"DO UPDATE SET {setl}"
            c = r.randrange(6)
            if c == 0:
                sql += " WHERE x.v IS DISTINCT FROM excluded.v"
            elif c == 1:
                sql += f" WHERE excluded.v = {r.randrange(3)}"
            elif c == 2:
                sql += f" WHERE x.w = 'w' || x.{key}"
        if returning is None:
            returning = r.random() < 0.2
        if returning:
            sql += f" RETURNING {key}, v, w"
        return sql

    def merge(self, tbl=None):
        r = self.r
        tbl = tbl or self.ch(('t', 't', 'p', 'p', 'ip', 'u', 'par'))
        key = self.key(tbl)
        ids = list(self.ids(tbl))
        rows = []
        for _ in range(r.randrange(1, 5)):
            i = self.ch(ids) if r.random() < 0.85 else self.ch(ids) + 30
            a = self.ch('uuudni')
            rows.append(f"({i}, {r.randrange(3)}, '{a}')")
            if r.random() < 0.35:
                rows.append(f"({i}, {r.randrange(3)}, '{self.ch('uudn')}')")
        if r.random() < 0.2:
            src = "(SELECT id, v, a FROM src ORDER BY ord) s"
        else:
            src = f"(VALUES {', '.join(rows)}) s(id, v, a)"
        matched = []
        for act in r.sample(['d', 'n', 'u', 'u2'], r.randrange(1, 5)):
            if act == 'd':
                matched.append("WHEN MATCHED AND s.a = 'd' THEN DELETE")
            elif act == 'n':
                matched.append("WHEN MATCHED AND s.a = 'n' THEN DO NOTHING")
            elif act == 'u':
                setl = self.ch(['v = s.v', f'v = {tbl}.v', f'v = {tbl}.v + 0', 'v = s.v + 0',
                                f'v = {r.randrange(3)}', 'v = 13', 'v = 42'])
                cond = self.ch(['', f" AND {tbl}.v IS DISTINCT FROM s.v", " AND s.a <> 'd'",
                                f" AND {tbl}.v = s.v"])
                matched.append(f"WHEN MATCHED{cond} THEN UPDATE SET {setl}")
            else:
                w = "w = w" if tbl not in ('par',) else "v = par.v"
                matched.append(f"WHEN MATCHED THEN UPDATE SET {w}")
        # an unconditional WHEN MATCHED must come last
        matched.sort(key=lambda m: m.startswith('WHEN MATCHED THEN'))
        while len(matched) > 1 and matched[-2].startswith('WHEN MATCHED THEN'):
            del matched[-2]
        if tbl == 't':
            ins = "INSERT (id, k, v, w) VALUES (s.id, s.id * 10 + 1000, s.v, 'm')"
        elif tbl == 'u':
            ins = "INSERT VALUES (s.id, s.v, 'm')"
        elif tbl == 'par':
            ins = "INSERT VALUES (s.id, s.v)"
        else:
            ins = "INSERT (id, v, w) VALUES (s.id, s.v, 'm')"
        notm = []
        if r.random() < 0.6:
            notm.append(f"WHEN NOT MATCHED AND s.a <> 'n' THEN {ins}")
        if r.random() < 0.4:
            notm.append("WHEN NOT MATCHED THEN DO NOTHING")
        return f"MERGE INTO {tbl} USING {src} ON {tbl}.{key} = s.id {' '.join(matched + notm)}"

    def cte(self):
        """Writable CTEs combining modifications of the same or different tables."""
        r = self.r
        t1 = self.ch(('t', 'p', 'ip', 'u', 'par'))
        t2 = t1 if r.random() < 0.6 else self.ch(('t', 'p', 'ip', 'u', 'par'))
        c = r.randrange(8)
        ret = r.random() < 0.4
        if c == 0:
            inner = self.update(t1, returning=ret)
        elif c == 1:
            inner = self.delete(t1, returning=ret)
        elif c == 2:
            inner = self.upsert(returning=ret)
        elif c == 3:
            inner = self.update(t1, returning=True)
            return Stmt(f"WITH a AS ({inner}) SELECT * FROM a ORDER BY 1, 2", ordered=True)
        elif c == 4:
            inner = self.update(t1, returning=False)
            inner2 = self.update(t2, returning=False)
            return Stmt(f"WITH a AS ({inner}), b AS ({inner2}) SELECT 1")
        elif c == 5:
            inner = self.update(t1, returning=True)
            k = self.key(t1)
            return Stmt(f"WITH a AS ({inner}) UPDATE {t1} SET {self.setlist(t1)}"
                        f" WHERE {k} IN (SELECT {k} FROM a)")
        elif c == 6:
            inner = self.update(t1, returning=ret)
            return Stmt(f"WITH a AS ({inner}) {self.merge(t2)}")
        else:
            inner = self.update(t1, returning=ret)
            return Stmt(f"WITH a AS ({inner}) {self.delete(t2, returning=False)}")
        main = self.update(t2, returning=r.random() < 0.2) if r.random() < 0.8 else self.delete(t2)
        return Stmt(f"WITH a AS ({inner}) {main}")

    def plpgsql(self):
        tbl = self.ch(('t', 'p', 'ip', 'u'))
        i = self.ch(list(self.ids(tbl)))
        if self.r.random() < 0.3:
            return Stmt(f"SELECT rc_{tbl}(x, {self.r.randrange(3)}) FROM generate_series({i}, {i + 2}) x"
                        " ORDER BY x", ordered=True)
        return Stmt(f"SELECT rc_{tbl}({i}, {self.r.randrange(3)})", ordered=True)

    def dml(self):
        """One data-modifying statement of any kind."""
        c = self.r.random()
        if c < 0.30:
            return Stmt(self.update())
        if c < 0.40:
            return Stmt(self.update_from())
        if c < 0.47:
            return Stmt(self.delete())
        if c < 0.52:
            return Stmt(self.insert())
        if c < 0.64:
            return Stmt(self.upsert())
        if c < 0.78:
            return Stmt(self.merge())
        if c < 0.92:
            return self.cte()
        return self.plpgsql()

    def cursor_stmts(self):
        self.cur += 1
        name = f"c{self.cur}"
        tbl = self.ch(('t', 'p1', 'ip', 'u'))
        key = self.key(tbl)
        out = [Stmt(f"DECLARE {name} CURSOR FOR SELECT {key}, v FROM {tbl}"
                    f" WHERE {key} <= {self.ch(list(self.ids(tbl)))} ORDER BY {key} FOR UPDATE", ordered=True)]
        for _ in range(self.r.randrange(1, 4)):
            out.append(Stmt(f"FETCH {self.ch([1, 1, 2])} FROM {name}", ordered=True))
            c = self.r.randrange(5)
            if c == 0:
                out.append(Stmt(f"DELETE FROM {tbl} WHERE CURRENT OF {name}"))
            else:
                setl = self.ch(['v = v + 0', 'v = v', f'v = {self.r.randrange(3)}', 'w = w',
                                "w = w || ''", 'v = 13', 'v = 42'])
                ret = " RETURNING v" if self.r.random() < 0.2 else ''
                out.append(Stmt(f"UPDATE {tbl} SET {setl} WHERE CURRENT OF {name}{ret}"))
        if self.r.random() < 0.5:
            out.append(Stmt(f"CLOSE {name}"))
        return out

    def block(self):
        """A list of statements run in order: a lone statement, or a transaction."""
        r = self.r
        c = r.random()
        if c < 0.45:
            return [self.dml()]
        if c < 0.50:
            return [Stmt(f"CALL pr_t({self.ch(range(1, 9))}, {r.randrange(3)})")]
        if c < 0.55:
            # a multi-statement query string: one implicit transaction
            return [Stmt(f"{self.dml().sql}; {self.dml().sql}")]
        if c < 0.60:
            s = self.dml()
            return [Stmt(f"PREPARE ps AS {s.sql}"), Stmt("EXECUTE ps", s.ordered),
                    Stmt("EXECUTE ps", s.ordered), Stmt("DEALLOCATE ps")]
        iso = self.ch(['', '', '', ' ISOLATION LEVEL REPEATABLE READ', ' ISOLATION LEVEL SERIALIZABLE'])
        out = [Stmt(f"BEGIN{iso}")]
        out[0].on_error_rollback = r.random() < 0.5
        sps = []
        for _ in range(r.randrange(1, 6)):
            x = r.random()
            if x < 0.15:
                self.sp += 1
                sps.append(f"s{self.sp}")
                out.append(Stmt(f"SAVEPOINT s{self.sp}"))
            elif x < 0.25 and sps:
                out.append(Stmt(f"ROLLBACK TO SAVEPOINT {self.ch(sps)}"))
            elif x < 0.28 and sps:
                out.append(Stmt(f"RELEASE SAVEPOINT {sps.pop()}"))
            elif x < 0.38:
                out.extend(self.cursor_stmts())
            else:
                out.append(self.dml())
        out.append(Stmt(self.ch(['COMMIT', 'COMMIT', 'COMMIT', 'ROLLBACK'])))
        return out


def generate(seed, nblocks):
    rng = random.Random(seed)
    flags = {f for f in FLAGS if rng.random() < 0.35}
    g = Gen(rng)
    blocks = [g.block() for _ in range(nblocks)]
    return flags, blocks


# --------------------------------------------------------------------------------------
# Running


def canon(v):
    return repr(v)


class Runner:
    def __init__(self, dsn, timeout_ms):
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.timeout_ms = timeout_ms
        self.statements = 0
        self.suppressed = 0
        cur = self.conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_hygiene")
        # Two runs in one database would rebuild each other's schema mid-sequence.
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (SCHEMA,))
        if not cur.fetchone()[0]:
            sys.exit(f"noop_diff: another noop_diff run uses schema {SCHEMA} in this database")
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cur.fetchone()[0]:
            sys.exit("noop_diff: the role must be a superuser (pg_hygiene.noop_updates is a superuser setting)")

    def run(self, flags, blocks, mode):
        """Run one sequence in one mode; returns the list of observations."""
        conn = self.conn
        cur = conn.cursor()
        cur.execute("ROLLBACK")  # leftovers of an unfinished transaction block
        cur.execute("RESET ALL")
        cur.execute("DEALLOCATE ALL")
        cur.execute("CLOSE ALL")
        cur.execute("SET pg_hygiene.noop_updates = off")
        cur.execute("SET pg_hygiene.ddl_guard = off")
        cur.execute("BEGIN")
        for s in schema_sql(flags):
            cur.execute(s)
        cur.execute("COMMIT")
        cur.execute(f"SET search_path = {SCHEMA}")
        # Nested loops only: duplicate join rows reach a target row in source order, and
        # the plan does not flip with the heap's size (which suppression changes).
        cur.execute("SET enable_hashjoin = off")
        cur.execute("SET enable_mergejoin = off")
        cur.execute("SET max_parallel_workers_per_gather = 0")
        cur.execute(f"SET statement_timeout = {self.timeout_ms}")
        cur.execute("SET client_min_messages = notice")
        cur.execute(f"SET pg_hygiene.noop_updates = {mode}")
        obs = []
        for bi, block in enumerate(blocks):
            oer = block[0].on_error_rollback
            for si, st in enumerate(block):
                del conn.notices[:]
                self.statements += 1
                wrap = oer and 0 < si < len(block) - 1
                try:
                    if wrap:
                        cur.execute("SAVEPOINT on_error_rollback")
                    cur.execute(st.sql)
                    rows = None
                    if cur.description is not None:
                        rows = [tuple(canon(v) for v in row) for row in cur.fetchall()]
                        if not st.ordered:
                            rows.sort()
                    res = ('ok', cur.statusmessage, rows)
                    if wrap:
                        cur.execute("RELEASE SAVEPOINT on_error_rollback")
                except psycopg2.Error as e:
                    msg = (e.diag.message_primary or str(e)).strip()
                    res = ('error', e.pgcode, msg)
                    if wrap:
                        try:
                            cur.execute("ROLLBACK TO SAVEPOINT on_error_rollback")
                        except psycopg2.Error:
                            pass
                notices = sorted(n.strip() for n in conn.notices)
                obs.append(((bi, si), st.sql, res, notices))
        try:
            cur.execute("ROLLBACK")
        except psycopg2.Error:
            pass
        cur.execute("RESET pg_hygiene.noop_updates")
        cur.execute("RESET statement_timeout")
        final = {}
        for name, q in FINAL_QUERIES.items():
            cur.execute(q)
            final[name] = cur.fetchall()
        if mode != 'off':
            # evidence that the suppressor had work to do (the tables die with the schema)
            try:
                cur.execute("SELECT coalesce(sum(noop_suppressed), 0) FROM hygiene.table_write_stats"
                            " WHERE schemaname = %s", (SCHEMA,))
                self.suppressed += cur.fetchone()[0]
            except psycopg2.Error:
                pass
        return obs, final


def first_difference(a, b):
    """None, or a description of the first difference between two runs."""
    obs_a, fin_a = a
    obs_b, fin_b = b
    for x, y in zip(obs_a, obs_b):
        if x[2] != y[2] or x[3] != y[3]:
            return ('statement', x[1], x, y)
    for name in FINAL_QUERIES:
        if fin_a[name] != fin_b[name]:
            return ('final', name, fin_a[name], fin_b[name])
    return None


def compare(runner, flags, blocks, modes=MODES):
    """{mode: difference} for every mode whose run differs from `off`."""
    base = runner.run(flags, blocks, 'off')
    diffs = {}
    for m in modes:
        if m == 'off':
            continue
        d = first_difference(base, runner.run(flags, blocks, m))
        if d is not None:
            diffs[m] = d
    return diffs


def minimize(runner, flags, blocks, mode, deadline):
    """Smaller flags and blocks that still differ in `mode` (greedy, one step at a time)."""
    def differs(f, b):
        if not b:
            return False
        return bool(compare(runner, f, b, ('off', mode)))

    changed = True
    while changed and time.time() < deadline:
        changed = False
        # whole blocks, from the end (later blocks depend on earlier ones)
        i = len(blocks) - 1
        while i >= 0 and time.time() < deadline:
            cand = blocks[:i] + blocks[i + 1:]
            if differs(flags, cand):
                blocks = cand
                changed = True
            i -= 1
        # statements inside transaction blocks (keep BEGIN and COMMIT)
        for bi in range(len(blocks)):
            si = len(blocks[bi]) - 2
            while si >= 1 and time.time() < deadline:
                if len(blocks[bi]) <= 2:
                    break
                nb = blocks[bi][:si] + blocks[bi][si + 1:]
                cand = blocks[:bi] + [nb] + blocks[bi + 1:]
                if differs(flags, cand):
                    blocks = cand
                    changed = True
                si -= 1
        # a transaction with one statement left: try it alone
        for bi in range(len(blocks)):
            b = blocks[bi]
            if len(b) == 3 and b[0].sql.startswith('BEGIN'):
                cand = blocks[:bi] + [[b[1]]] + blocks[bi + 1:]
                if differs(flags, cand):
                    blocks = cand
                    changed = True
        for f in sorted(flags):
            if time.time() >= deadline:
                break
            cand = flags - {f}
            if differs(cand, blocks):
                flags = cand
                changed = True
    return flags, blocks


def signature(diff):
    """A short class of a difference, for the summary."""
    if diff[0] == 'final':
        return f"final contents of {diff[1]}"
    words = diff[1].split()
    kind = words[0]
    if kind == 'WITH':
        kind = 'WITH ... ' + next((w for w in words[3:] if w in ('UPDATE', 'DELETE', 'INSERT', 'MERGE', 'SELECT')), '?')
    def res(r):
        return r[1] if r[0] == 'error' else r[1].split()[0] + (' (rows)' if r[2] else '')
    a, b = diff[2][2], diff[3][2]
    detail = 'rows' if a[0] == b[0] == 'ok' and a[1] == b[1] else f"{res(a)} vs {res(b)}"
    if a == b:
        detail = 'notices'
    return f"{kind}: {detail}"


def show(seed, mode, flags, blocks, diff, out):
    print(f"--- seed {seed}: mode {mode} differs from off", file=out)
    print(f"-- schema flags: {' '.join(sorted(flags)) or '(none)'}", file=out)
    print(f"-- reproduce: noop_diff.py --seed {seed} --count 1 --flags '{','.join(sorted(flags))}'"
          " (or run the statements below after the schema of that seed)", file=out)
    print(f"SET pg_hygiene.noop_updates = {mode};  -- compare with off", file=out)
    for b in blocks:
        if b[0].on_error_rollback:
            print("\\set ON_ERROR_ROLLBACK on", file=out)
        for s in b:
            print(f"{s.sql};", file=out)
        if b[0].on_error_rollback:
            print("\\set ON_ERROR_ROLLBACK off", file=out)
    kind = diff[0]
    if kind == 'statement':
        print(f"-- first differing statement: {diff[1]}", file=out)
        print(f"--   off:    {diff[2][2]} notices={diff[2][3]}", file=out)
        print(f"--   {mode}: {' ' * (4 - len(mode))}{diff[3][2]} notices={diff[3][3]}", file=out)
    else:
        print(f"-- final contents of {diff[1]} differ:", file=out)
        a, b = collections.Counter(diff[2]), collections.Counter(diff[3])
        for row in sorted(set(a) | set(b), key=repr):
            if a[row] != b[row]:
                print(f"--   {row}: {a[row]}x in off, {b[row]}x in {mode}", file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--dsn', default='', help='libpq connection string (superuser)')
    ap.add_argument('--seed', type=int, default=1, help='first seed')
    ap.add_argument('--count', type=int, default=20, help='number of sequences (seeds)')
    ap.add_argument('--seeds', default=None, help='comma list of seeds (instead of --seed/--count)')
    ap.add_argument('--blocks', type=int, default=12, help='blocks (lone statements or transactions) per sequence')
    ap.add_argument('--modes', default='lock,auto', help='modes compared with off')
    ap.add_argument('--flags', default=None, help='schema flags instead of the seed\'s (comma list)')
    ap.add_argument('--keep-going', action='store_true', help='report every differing seed, not just the first')
    ap.add_argument('--no-minimize', action='store_true')
    ap.add_argument('--max-shown', type=int, default=1000000,
                    help='print (and minimize) only the first N differences; list the others')
    ap.add_argument('--minimize-seconds', type=float, default=60)
    ap.add_argument('--timeout-ms', type=int, default=5000, help='statement_timeout of each statement')
    ap.add_argument('--schema-sql', metavar='FLAGS', default=None,
                    help='print the schema script for these flags (comma list) and exit')
    ap.add_argument('--selfcheck', action='store_true',
                    help='compare off with off (a difference is a generator bug)')
    args = ap.parse_args()

    if args.schema_sql is not None:
        for s in schema_sql({f for f in args.schema_sql.split(',') if f}):
            print(s.replace('SET LOCAL', 'SET') + ';')
        return
    runner = Runner(args.dsn, args.timeout_ms)
    modes = ('off',) + tuple(m for m in args.modes.split(',') if m)
    if args.selfcheck:
        modes = ('off', 'off')
    t0 = time.time()
    bad = 0
    classes = {}
    if args.seeds:
        seeds = [int(x) for x in args.seeds.split(',') if x]
    else:
        seeds = list(range(args.seed, args.seed + args.count))
    first_pass = 0
    for seed in seeds:
        flags, blocks = generate(seed, args.blocks)
        first_pass += len(modes) * sum(len(b) for b in blocks)
        if args.flags is not None:
            flags = {f for f in args.flags.split(',') if f}
        if args.selfcheck:
            base = runner.run(flags, blocks, 'off')
            d = first_difference(base, runner.run(flags, blocks, 'off'))
            diffs = {'off': d} if d else {}
        else:
            diffs = compare(runner, flags, blocks, modes)
        for mode, d in diffs.items():
            bad += 1
            classes.setdefault(signature(d), []).append(f"{seed}/{mode}")
            mf, mb = flags, blocks
            if bad > args.max_shown:
                print(f"--- seed {seed}: mode {mode} differs from off: {signature(d)} (not shown, --max-shown)")
                continue
            if not args.no_minimize and not args.selfcheck:
                mf, mb = minimize(runner, flags, blocks, mode, time.time() + args.minimize_seconds)
                d = compare(runner, mf, mb, ('off', mode)).get(mode, d)
            show(seed, mode, mf, mb, d, sys.stdout)
            sys.stdout.flush()
        if diffs and not args.keep_going:
            break
    for sig, where in sorted(classes.items()):
        print(f"class: {sig}: {len(where)}x (seed/mode {' '.join(where[:6])}{' ...' if len(where) > 6 else ''})")
    desc = (f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1))
            else ','.join(map(str, seeds)))
    print(f"noop_diff: seeds {desc}: {len(seeds)} sequences, {first_pass} statements"
          f" ({len(modes)} modes; {runner.statements} with minimizing), {runner.suppressed} rows suppressed,"
          f" {bad} difference(s), {time.time() - t0:.1f} s")
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
