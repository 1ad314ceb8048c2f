#!/usr/bin/env bash
# bench/advice.sh: is the advice of hygiene.table_advice right?  Five scenarios on a
# throwaway server with pg_hygiene preloaded, then the timing of the views on many tables.
#
#   bash bench/advice.sh                 (port $PGPORT or 5550)
#   ADVICE_SECONDS=15 ADVICE_REPEAT=3 ADVICE_TABLES=10000 bash bench/advice.sh
#
# 1. fillfactor: updates of a non-indexed column while overlapping 2 s REPEATABLE READ
#    snapshots hold the xmin horizon (design.md section 4).  Alternating runs: the table
#    as created (fillfactor 100), then the same table after the view's alter_sql and the
#    rewrite it names; HOT ratio and table growth, medians of ADVICE_REPEAT pairs.
# 2. updates of an indexed column: no fillfactor advice, the index and column named.
# 3. a big table with default thresholds: vacuum trigger advice; autovacuum reacts to 3%
#    dead rows only after alter_sql.
# 4. an insert-only big table: insert-trigger advice; insert-driven autovacuum reacts to
#    4% new rows only after alter_sql.
# 5. an open transaction in another session: the blocker's pid is named.
# 6. the views on ADVICE_TABLES tables: medians of 5 runs each.
#
# The HOT/non-HOT split (rows that changed an indexed column vs only non-indexed ones)
# comes from the no-op UPDATE suppressor's executor hook.  Where the hook did not count
# (pg_hygiene.noop_updates = off: hygiene.table_write_stats stays at zero), the bench feeds it with
# hygiene._table_stats_feed from pg_stat_user_tables deltas, which is exact for these
# workloads (scenario 1 only changes a non-indexed column, scenario 2 only an indexed
# one), and says so in its output.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PGPORT:-5550}
SECONDS_PER_RUN=${ADVICE_SECONDS:-15}
REPEAT=${ADVICE_REPEAT:-3}
TABLES=${ADVICE_TABLES:-10000}
BIG_ROWS=${ADVICE_BIG_ROWS:-1500000}

ensure_packages
build_and_install
pick_server_user
bench_server advice "$PORT" "shared_buffers = 256MB
max_locks_per_transaction = 256
# history for the many-tables timing; samples are taken explicitly below
pg_hygiene.advice_history_tables = $((TABLES + 1000))
pg_hygiene.advice_sample_interval = 3600
# scenarios 3 and 4 watch autovacuum react within seconds
autovacuum_naptime = 1s"

median() { sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.4g\n", (a[NR/2]+a[NR/2+1])/2}'; }

q 'CREATE EXTENSION pg_hygiene'

# Feed the executor split for one table from the pg_stat delta when the hook left it empty.
# $1 table, $2 updates in pg_stat since the baseline, $3 hook rows before, $4 kind
feed_if_needed()
{
	local hook
	hook=$(q "SELECT coalesce((SELECT rows_updated FROM hygiene.table_write_stats WHERE relname = '$1'), 0) - $3")
	if [ "$hook" -eq 0 ] && [ "$2" -gt 0 ]; then
		if [ "$4" = indexed ]; then
			q "SELECT hygiene._table_stats_feed('$1', $2, 0, $2, 0)" >/dev/null
		else
			q "SELECT hygiene._table_stats_feed('$1', $2, 0, 0, $2)" >/dev/null
		fi
		echo "$1" >>"$DIR/fed"
	fi
}

echo "== pg_hygiene advice bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 1. fillfactor
cat >"$DIR/upd.sql" <<'SQL'
\set id random(1, 50000)
UPDATE ff SET v = v + 1 WHERE id = :id;
SQL
bench_hold_script

# $1 = alter_sql to apply after loading ('' for the table as created); prints
# "hot_ratio growth_bytes tps"
ff_run()
{
	q "DROP TABLE IF EXISTS ff;
	   CREATE TABLE ff (id int PRIMARY KEY, v int NOT NULL, pad text) WITH (autovacuum_enabled = off);
	   INSERT INTO ff SELECT g, 0, repeat('x', 200) FROM generate_series(1, 50000) g;"
	if [ -n "$1" ]; then q "$1"; q 'VACUUM FULL ff'; fi
	q 'VACUUM ANALYZE ff'
	sleep 1
	local s0 u0 h0 hk0 s1 u1 h1 tps
	s0=$(q "SELECT pg_relation_size('ff')")
	read -r u0 h0 < <(q "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'ff'" | tr '|' ' ')
	hk0=$(q "SELECT coalesce((SELECT rows_updated FROM hygiene.table_write_stats WHERE relname = 'ff'), 0)")
	q 'SELECT hygiene.take_sample()' >/dev/null
	# two overlapping 2 s snapshots, started 1 s apart: the horizon stays 1-2 s old
	"$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c 1 -T $((SECONDS_PER_RUN + 1)) -f "$DIR/hold.sql" postgres >/dev/null 2>&1 &
	BG_PIDS+=($!)
	sleep 1
	"$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c 1 -T "$SECONDS_PER_RUN" -f "$DIR/hold.sql" postgres >/dev/null 2>&1 &
	BG_PIDS+=($!)
	( for i in 1 2 3; do sleep $((SECONDS_PER_RUN / 4)); q 'SELECT hygiene.take_sample()' >/dev/null; done ) &
	BG_PIDS+=($!)
	tps=$("$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c 2 -j 2 -R 2000 -T "$SECONDS_PER_RUN" -f "$DIR/upd.sql" postgres 2>/dev/null |
		awk '/^tps/ {printf "%d", $3}')
	wait
	BG_PIDS=()
	sleep 1
	s1=$(q "SELECT pg_relation_size('ff')")
	read -r u1 h1 < <(q "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'ff'" | tr '|' ' ')
	feed_if_needed ff $((u1 - u0)) "$hk0" eligible
	q 'SELECT hygiene.take_sample()' >/dev/null
	awk -v u=$((u1 - u0)) -v h=$((h1 - h0)) -v g=$((s1 - s0)) -v t="$tps" \
		'BEGIN {printf "%.3f %d %s\n", (u > 0 ? h / u : 0), g, t}'
}

echo
echo "== 1. fillfactor: 50k rows of ~240 bytes, up to 2000 single-row updates/s of a non-indexed column, xmin horizon held 1-2 s"
before=()
after=()
read -r hot g tps <<<"$(ff_run '')"
before+=("$hot $g $tps")
HOOK_NOTE=""
[ -s "$DIR/fed" ] && HOOK_NOTE="(executor split fed by the bench from pg_stat deltas: this build's hook leaves hygiene.table_write_stats empty)"
echo "-- evidence after the first run at fillfactor 100 $HOOK_NOTE:"
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT write_split, round(hot_ratio::numeric, 3) AS hot_ratio, updates_hot_eligible, hot_eligible_failed, round(max_horizon_s::numeric, 1) AS max_horizon_s, row_bytes, table_bytes FROM hygiene.table_health WHERE relname = 'ff'" -q
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT rule, reason, alter_sql, needs_rewrite FROM hygiene.table_advice WHERE relname = 'ff'" -q
ALTER=$(q "SELECT alter_sql FROM hygiene.table_advice WHERE relname = 'ff' AND rule = 'fillfactor_lower'")
if [ -z "$ALTER" ]; then
	# fillfactor_lower gives no SQL when the reserve would cost more heap than the index space
	# HOT updates give back (one primary key here); its reason still names the fillfactor the
	# sizing gives, and the after runs apply that one: this scenario measures the sizing.
	FF=$(q "SELECT substring(reason FROM 'a fillfactor that fits them \(([0-9]+),') FROM hygiene.table_advice
		WHERE relname = 'ff' AND rule = 'fillfactor_lower'")
	if [ -n "$FF" ]; then
		ALTER="ALTER TABLE ff SET (fillfactor = $FF);"
		echo "fillfactor_lower is info only (no SQL: the reserve costs more heap than the index space it saves); the after runs apply the fillfactor its sizing gives: $ALTER"
	else
		echo "no fillfactor advice: nothing to apply (the after runs use the table as created)"
	fi
fi
read -r hot g tps <<<"$(ff_run "$ALTER")"
after+=("$hot $g $tps")
for ((r = 2; r <= REPEAT; r++)); do
	read -r hot g tps <<<"$(ff_run '')"; before+=("$hot $g $tps")
	read -r hot g tps <<<"$(ff_run "$ALTER")"; after+=("$hot $g $tps")
done
echo "-- runs (hot_ratio growth_bytes tps): before: ${before[*]/%/;}  after ($ALTER + VACUUM FULL): ${after[*]/%/;}"
bh=$(printf '%s\n' "${before[@]}" | cut -d' ' -f1 | median)
bg=$(printf '%s\n' "${before[@]}" | cut -d' ' -f2 | median)
bt=$(printf '%s\n' "${before[@]}" | cut -d' ' -f3 | median)
ah=$(printf '%s\n' "${after[@]}" | cut -d' ' -f1 | median)
ag=$(printf '%s\n' "${after[@]}" | cut -d' ' -f2 | median)
at=$(printf '%s\n' "${after[@]}" | cut -d' ' -f3 | median)
printf 'RESULT 1: median of %d alternating pairs: HOT ratio %.1f%% -> %.1f%%, table growth during the run %s -> %s bytes, tps %s -> %s\n' \
	"$REPEAT" "$(awk -v x="$bh" 'BEGIN{print 100*x}')" "$(awk -v x="$ah" 'BEGIN{print 100*x}')" "$bg" "$ag" "$bt" "$at"

# ---------------------------------------------------------------- 2. indexed column
echo
echo "== 2. updates of an indexed column"
q "CREATE TABLE ix (id int PRIMARY KEY, v int NOT NULL, pad text) WITH (autovacuum_enabled = off);
   CREATE INDEX ix_v ON ix (v);
   INSERT INTO ix SELECT g, 0, repeat('x', 200) FROM generate_series(1, 50000) g;"
q 'VACUUM ANALYZE ix'
cat >"$DIR/upd_ix.sql" <<'SQL'
\set id random(1, 50000)
UPDATE ix SET v = v + 1 WHERE id = :id;
SQL
sleep 1
u0=$(q "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'ix'")
q 'SELECT hygiene.take_sample()' >/dev/null
"$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c 2 -j 2 -R 2000 -T 10 -f "$DIR/upd_ix.sql" postgres >/dev/null 2>&1
sleep 1
u1=$(q "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'ix'")
feed_if_needed ix $((u1 - u0)) 0 indexed
q 'SELECT hygiene.take_sample()' >/dev/null
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT write_split, round(hot_ratio::numeric, 3) AS hot_ratio, updates_indexed_changed, updates_hot_eligible, indexes FROM hygiene.table_health WHERE relname = 'ix'" -q
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT rule, reason, alter_sql FROM hygiene.table_advice WHERE relname = 'ix' ORDER BY rule" -q
[ -s "$DIR/fed" ] && echo "(executor split fed by the bench from pg_stat deltas for: $(sort -u "$DIR/fed" | tr '\n' ' '))"
echo "RESULT 2: fillfactor advice for ix: $(q "SELECT count(*) FROM hygiene.table_advice WHERE relname = 'ix' AND rule = 'fillfactor_lower'") rows; index named: $(q "SELECT count(*) FROM hygiene.table_advice WHERE relname = 'ix' AND rule = 'hot_blocked_by_index' AND reason LIKE '%ix_v (v)%'") rows"

# ---------------------------------------------------------------- 3. vacuum trigger
# Wait up to $2 seconds for autovacuum_count of table $1 to exceed $3; prints seconds or "no".
wait_autovacuum()
{
	local t=0
	while [ "$t" -lt "$2" ]; do
		if [ "$(q "SELECT autovacuum_count > $3 FROM pg_stat_user_tables WHERE relname = '$1'")" = t ]; then
			echo "$t"; return
		fi
		sleep 1; t=$((t + 1))
	done
	echo no
}

echo
echo "== 3. a big table ($BIG_ROWS rows) with the default vacuum thresholds"
q "CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);
   INSERT INTO big SELECT g, 0 FROM generate_series(1, $BIG_ROWS) g;"
q 'VACUUM ANALYZE big'
# some update churn first: the rule is for tables whose rows die (not insert-only ones)
q 'UPDATE big SET v = 1 WHERE id % 20 = 0'
q 'VACUUM ANALYZE big'
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT rule, reason, alter_sql, revert_sql FROM hygiene.table_advice WHERE relname = 'big' AND rule = 'vacuum_trigger_late'" -q
ALTER=$(q "SELECT alter_sql FROM hygiene.table_advice WHERE relname = 'big' AND rule = 'vacuum_trigger_late'")
trig0=$(q "SELECT vacuum_trigger_rows FROM hygiene.table_health WHERE relname = 'big'")
c0=$(q "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'big'")
q "DELETE FROM big WHERE id % 100 < 3"
w0=$(wait_autovacuum big 10 "$c0")
dead=$(q "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'big'")
if [ -n "$ALTER" ]; then q "$ALTER"; else echo "no vacuum trigger advice"; fi
trig1=$(q "SELECT vacuum_trigger_rows FROM hygiene.table_health WHERE relname = 'big'")
w1=$(wait_autovacuum big 60 "$c0")
echo "RESULT 3: trigger $trig0 -> $trig1 dead rows; with $dead dead rows (3%) autovacuum started: before alter_sql: $w0 (waited 10 s), after: after ${w1} s"

# ---------------------------------------------------------------- 4. insert-only
echo
echo "== 4. an insert-only big table ($BIG_ROWS rows)"
q "CREATE TABLE ins (id bigint, at timestamptz, payload text);
   INSERT INTO ins SELECT g, now(), 'x' FROM generate_series(1, $BIG_ROWS) g;"
q 'VACUUM ANALYZE ins'
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT rule, reason, alter_sql FROM hygiene.table_advice WHERE relname = 'ins' ORDER BY rule" -q
ALTER=$(q "SELECT alter_sql FROM hygiene.table_advice WHERE relname = 'ins' AND rule = 'insert_trigger'")
itrig0=$(q "SELECT insert_trigger_rows FROM hygiene.table_health WHERE relname = 'ins'")
c0=$(q "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'ins'")
q "INSERT INTO ins SELECT g, now(), 'x' FROM generate_series(1, $((BIG_ROWS * 4 / 100))) g"
w0=$(wait_autovacuum ins 10 "$c0")
if [ -n "$ALTER" ]; then q "$ALTER"; fi
itrig1=$(q "SELECT insert_trigger_rows FROM hygiene.table_health WHERE relname = 'ins'")
w1=$(wait_autovacuum ins 60 "$c0")
echo "RESULT 4: insert trigger $itrig0 -> $itrig1 rows; after 4% new rows autovacuum started: before alter_sql: $w0 (waited 10 s), after: after ${w1} s"

# ---------------------------------------------------------------- 5. xmin holder
echo
echo "== 5. an open transaction in another session"
q "CREATE TABLE pin (id int, v int) WITH (autovacuum_enabled = off)"
q "INSERT INTO pin SELECT g, 0 FROM generate_series(1, 10000) g"
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ;' 'SELECT count(*) FROM pin;' 'SELECT pg_sleep(60);' 'COMMIT;' |
	"${PSQL[@]}" >/dev/null 2>&1 &
BG_PIDS+=($!)
sleep 2
hpid=$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")
q "DELETE FROM pin WHERE id <= 5000"
q 'VACUUM pin'
sleep 1
"${PSQL[@]}" -P pager=off -A -F ' | ' -c "SELECT rule, reason, alter_sql FROM hygiene.table_advice WHERE relname = 'pin' AND rule = 'xmin_pinned'" -q
named=$(q "SELECT count(*) FROM hygiene.table_advice WHERE relname = 'pin' AND rule = 'xmin_pinned' AND alter_sql = 'SELECT pg_terminate_backend($hpid);'")
q "SELECT pg_terminate_backend($hpid)" >/dev/null
wait "${BG_PIDS[@]}" 2>/dev/null || true
BG_PIDS=()
echo "RESULT 5: blocker pid $hpid named in table_advice: $named row(s)"

# ---------------------------------------------------------------- 6. many tables
echo
echo "== 6. the views on $TABLES tables"
q 'CREATE SCHEMA many'
for ((k = 0; k < TABLES; k += 500)); do
	q "DO \$\$ BEGIN FOR i IN $((k + 1))..$((k + 500 < TABLES ? k + 500 : TABLES)) LOOP
	     EXECUTE format('CREATE TABLE many.t%s (id int PRIMARY KEY, v int, pad text);
	                     INSERT INTO many.t%s SELECT g, 0, ''x'' FROM generate_series(1, 10) g', i, i);
	   END LOOP; END \$\$"
done
sleep 1
total=$(q "SELECT count(*) FROM pg_stat_user_tables")
# Median wall time and backend CPU time (ms) of 5 runs of $1 in one session: the machine
# is shared, so CPU time says what the query costs, wall time what a DBA waits.
times()
{
	local pid a b t0 t1 line walls=() cpus=()
	coproc TPSQL { "${PSQL[@]}" 2>&1; }
	echo 'SELECT pg_backend_pid();' >&"${TPSQL[1]}"
	read -r pid <&"${TPSQL[0]}"
	for i in 1 2 3 4 5; do
		a=$(awk '{print $14 + $15}' "/proc/$pid/stat"); t0=$(date +%s%N)
		echo "$1; SELECT 'done';" >&"${TPSQL[1]}"
		while read -r line <&"${TPSQL[0]}"; do [ "$line" = done ] && break; done
		t1=$(date +%s%N); b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		walls+=($(((t1 - t0) / 1000000))); cpus+=($(((b - a) * 1000 / $(getconf CLK_TCK))))
	done
	echo '\q' >&"${TPSQL[1]}"
	wait "$TPSQL_PID" 2>/dev/null || true
	echo "wall $(printf '%s\n' "${walls[@]}" | median) cpu $(printf '%s\n' "${cpus[@]}" | median)"
}
ts=$(times 'SELECT hygiene.take_sample()')
th=$(times 'SELECT count(*) FROM hygiene.table_health')
ta=$(times 'SELECT count(*) FROM hygiene.table_advice')
td=$(times 'SELECT count(*) FROM hygiene.database_advice')
echo "RESULT 6: $total tables, median of 5 (ms): take_sample $ts; table_health $th; table_advice $ta; database_advice $td (load $(cut -d' ' -f1-3 /proc/loadavg))"
