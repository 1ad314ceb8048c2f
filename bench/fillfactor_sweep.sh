#!/usr/bin/env bash
# bench/fillfactor_sweep.sh: what does each fillfactor do to a HOT-starved table?
# (issue 13, part 2: the sizing behind the fillfactor_lower advice.)  A demonstration on a
# throwaway server, not a test.
#
#   bash bench/fillfactor_sweep.sh                      (port $PGPORT or 5552)
#   SWEEP_SECONDS=300 SWEEP_CLIENTS=4 SWEEP_FILLFACTORS="100 95 90 85 80 75" SWEEP_INDEXES=0 \
#     bash bench/fillfactor_sweep.sh
#
# The table is bench/advice_apply.sh's hot_starved (10k rows of ~240 bytes, one primary
# key, updates of a non-indexed column by primary key while two overlapping 2 s
# REPEATABLE READ snapshots keep the xmin horizon 1-2 s old).  One copy per fillfactor,
# loaded alike (fillfactor set before the load), driven by one pgbench run that picks a
# copy at random per transaction, so every copy sees the same update rate and the same
# horizon on the same busy machine.  Per copy, after SWEEP_SECONDS: heap, index and total
# size, the HOT ratio over the run and over its second half, the largest n_dead_tup seen
# (polled every second) and autovacuum runs.  Then the advice pg_hygiene gives for the
# fillfactor-100 copy (fillfactor_lower and the figures that drove it).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PGPORT:-5552}
SECS=${SWEEP_SECONDS:-300}
CLIENTS=${SWEEP_CLIENTS:-4}
FFS=${SWEEP_FILLFACTORS:-100 95 90 85 80 75}
NIDX=${SWEEP_INDEXES:-0}    # secondary indexes on columns the updates do not change

ensure_packages
build_and_install
pick_server_user
bench_server ffsweep "$PORT" "shared_buffers = 256MB
autovacuum_naptime = 1s
pg_hygiene.advice_sample_interval = 3600"

q 'CREATE EXTENSION pg_hygiene'
q "ALTER DATABASE postgres SET pg_hygiene.advice_min_table_size = '1MB';
   ALTER DATABASE postgres SET pg_hygiene.advice_min_updates = 1000"
SCRIPTS=()
for ff in $FFS; do
	q "CREATE SCHEMA f$ff;
	   CREATE TABLE f$ff.hot_starved (id int PRIMARY KEY, v int NOT NULL, pad text) WITH (fillfactor = $ff);"
	for i in $(seq 1 "$NIDX"); do
		q "CREATE INDEX ON f$ff.hot_starved ((id * $i + 7), (left(pad, 12)))"
	done
	q "INSERT INTO f$ff.hot_starved SELECT g, 0, repeat('x', 200) FROM generate_series(1, 10000) g"
	cat >"$DIR/f$ff.sql" <<SQL
\set id random(1, 10000)
UPDATE f$ff.hot_starved SET v = v + 1 WHERE id = :id;
SQL
	SCRIPTS+=(-f "$DIR/f$ff.sql")
done
bench_hold_script
q 'VACUUM ANALYZE'
sleep 2
stat_row() { q "SELECT n_tup_upd, n_tup_hot_upd, autovacuum_count FROM pg_stat_user_tables WHERE schemaname = '$1'" | tr '|' ' '; }
declare -A u0 h0 a0
for ff in $FFS; do read -r u0[$ff] h0[$ff] a0[$ff] < <(stat_row "f$ff"); done
q 'SELECT hygiene.take_sample()' >/dev/null
( end=$((SECONDS + SECS)); while [ $SECONDS -lt $end ]; do
	q "SELECT schemaname, n_dead_tup FROM pg_stat_user_tables" >>"$DIR/dead" 2>/dev/null; sleep 1; done ) &
BG_PIDS+=($!)
( sleep $((SECS / 2)); for ff in $FFS; do echo "$ff $(stat_row "f$ff")"; done >"$DIR/mid" ) &
BG_PIDS+=($!)
bench_hold_horizon "$SECS"
"$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECS" "${SCRIPTS[@]}" postgres >"$DIR/pgbench" 2>&1
wait
BG_PIDS=()
q 'SELECT hygiene.take_sample()' >/dev/null
sleep 1
echo "fillfactor | heap pages | index pages | total MB | HOT ratio (2nd half) | max dead rows | autovacuums | updates"
for ff in $FFS; do
	read -r u1 h1 a1 < <(stat_row "f$ff")
	read -r _ um hm _ < <(grep "^$ff " "$DIR/mid")
	heap=$(q "SELECT pg_relation_size('f$ff.hot_starved') / 8192")
	idx=$(q "SELECT pg_indexes_size('f$ff.hot_starved') / 8192")
	tot=$(q "SELECT round(pg_total_relation_size('f$ff.hot_starved') / 1048576.0, 2)")
	md=$(awk -F'|' -v s="f$ff" '$1 == s && $2 > m {m = $2} END {print m + 0}' "$DIR/dead")
	awk -v ff="$ff" -v heap="$heap" -v idx="$idx" -v tot="$tot" -v u=$((u1 - u0[$ff])) -v h=$((h1 - h0[$ff])) \
		-v u2=$((u1 - um)) -v h2=$((h1 - hm)) -v md="$md" -v a=$((a1 - a0[$ff])) \
		'BEGIN {printf "%10s | %10d | %11d | %8s | %.3f (%.3f)        | %13d | %11d | %d\n", ff, heap, idx, tot, h / u, h2 / u2, md, a, u}'
done
grep -E '^(tps|number of transactions actually)' "$DIR/pgbench"
echo "-- advice for f100.hot_starved and the other copies (hygiene.table_advice):"
"${PSQL[@]}" -F ' | ' -c "SELECT schemaname, rule, alter_sql, reason FROM hygiene.table_advice WHERE relname = 'hot_starved' ORDER BY 1, 2"
