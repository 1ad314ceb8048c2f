#!/usr/bin/env bash
# bench/advice_apply.sh: does applying *all* of pg_hygiene's advice make anything worse?
# (issue 13, part 2; finding O33.)  A demonstration on a throwaway server, not a test.
#
#   bash bench/advice_apply.sh                          (port $PGPORT or 5551)
#   APPLY_SECONDS=120 APPLY_SECONDS2=300 APPLY_CLIENTS=4 bash bench/advice_apply.sh
#   (phase 1 and phase 2 seconds; a default run takes about 8 minutes)
#
# One mixed workload (pgbench, one script per table, run together) on seven tables, each
# built so that one or more advice rules fire:
#
#   hot_starved  10k rows of ~240 bytes, updates of a non-indexed column while 2 s
#                REPEATABLE READ snapshots hold the xmin horizon, a primary key only
#                          -> fillfactor_lower, info only: a reserve would cost more heap
#                             than the index space HOT updates give back (no SQL)
#   hot_starved_ix  the same with three more indexes (16-byte keys of columns the
#                updates do not change)        -> fillfactor_lower with SQL
#   small_upd    10k rows, updates of an indexed column whose index is never scanned, and
#                a mis-tuned autovacuum_vacuum_scale_factor = 0.005 (vacuums every few
#                seconds)                          -> vacuum_trigger_early, hot_blocked_by_index
#   read_idx     50k rows, updates of an indexed column that reads use (index scanned)
#                                                  -> hot_blocked_by_index, no index disabled
#   big_upd      200k rows, updates and deletes, default triggers
#                                                  -> vacuum_trigger_late, analyze_trigger_late
#   append_log   200k rows, insert-only, created with fillfactor 70
#                                                  -> insert_trigger, fillfactor_unused, ...
#   noop_t       20k rows, UPDATE ... SET status = 'done' of rows already done (observe mode)
#                                                  -> noop_share_high
#
# Every table exists twice, in schema ctl (control) and schema adv (advised), and the
# workload runs the same script on both copies at once (the scripts share the clients at
# random, transaction by transaction), so a busy machine slows both alike.
#
# Phase 1: load both copies, run the workload for APPLY_SECONDS while a sample is taken
# every APPLY_SECONDS/8 s, read hygiene.table_advice and hygiene.database_advice.  Apply
# every alter_sql of the adv tables (ALTER TABLE, disable_index, set_noop_updates, ...)
# and, for rows with needs_rewrite, the rewrite the advice names (VACUUM FULL); the ctl
# tables stay as created.  Phase 2: reload both copies with the same rows (TRUNCATE + the
# same INSERT: the settings stay, the start is identical), run the same workload for
# APPLY_SECONDS2 (long enough for sizes to level off).  Per table, ctl ("before": as
# created) and adv ("after": all advice applied) side by side from phase 2: heap, index
# and total size at the end (total = pg_total_relation_size, the verdict's "size"; the
# total every 30 s is printed too: still growing, or flat?), largest dead rows seen
# (polled every second: the dead rows at the autovacuum trigger), autovacuum runs, HOT
# ratio of the phase's updates and of its second half (after the start-up, in which every
# page of a freshly loaded table is full), and the average latency of the table's
# pgbench script (the scripts share the clients, so per-script TPS only follows the
# weights; total TPS is printed).
# Phase 1's ctl/adv latency ratio shows the noise between two copies treated alike.
# The verdict column says better / same / worse, with a tolerance for noise on a shared
# machine (5% for size, 10% for dead rows, 0.02 for HOT ratio, 15% for latency);
# "raised" is the intended effect of vacuum_trigger_early: fewer vacuums of a table that
# vacuums too often, with a trigger of at most 20% of live rows (autovacuum's default);
# the verdict accepts a peak of up to 25% of live rows plus 50 (the dead rows that arrive
# between the trigger and autovacuum's start, naptime 1 s, under a 1-2 s old horizon),
# and calls more than that worse.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PGPORT:-5551}
SECS=${APPLY_SECONDS:-120}
SECS2=${APPLY_SECONDS2:-300}
CLIENTS=${APPLY_CLIENTS:-4}

ensure_packages
build_and_install
pick_server_user
bench_server apply "$PORT" "shared_buffers = 256MB
autovacuum_naptime = 1s
# samples are taken by the bench (take_sample), not by the background sampler
pg_hygiene.advice_sample_interval = 3600
pg_hygiene.noop_updates = observe"

TABLES="hot_starved hot_starved_ix small_upd read_idx big_upd append_log noop_t"

q 'CREATE EXTENSION pg_hygiene'
# thresholds of the rules scaled to this small demonstration (reading sessions use them)
q "ALTER DATABASE postgres SET pg_hygiene.advice_big_table_rows = 100000;
   ALTER DATABASE postgres SET pg_hygiene.advice_min_table_size = '1MB';
   ALTER DATABASE postgres SET pg_hygiene.advice_min_updates = 1000"

for sc in ctl adv; do
	q "CREATE SCHEMA $sc;
	   CREATE TABLE $sc.hot_starved (id int PRIMARY KEY, v int NOT NULL, pad text);
	   CREATE TABLE $sc.hot_starved_ix (id int PRIMARY KEY, v int NOT NULL, pad text);
	   CREATE INDEX ON $sc.hot_starved_ix ((id * 1 + 7), (left(pad, 12)));
	   CREATE INDEX ON $sc.hot_starved_ix ((id * 2 + 7), (left(pad, 12)));
	   CREATE INDEX ON $sc.hot_starved_ix ((id * 3 + 7), (left(pad, 12)));
	   CREATE TABLE $sc.small_upd (id int PRIMARY KEY, v int NOT NULL, pad text)
	     WITH (autovacuum_vacuum_scale_factor = 0.005, autovacuum_vacuum_threshold = 10);
	   CREATE INDEX small_upd_v ON $sc.small_upd (v);
	   CREATE TABLE $sc.read_idx (id int PRIMARY KEY, k int NOT NULL, pad text);
	   CREATE INDEX read_idx_k ON $sc.read_idx (k);
	   CREATE TABLE $sc.big_upd (id int PRIMARY KEY, v int NOT NULL, pad text);
	   CREATE TABLE $sc.append_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text)
	     WITH (fillfactor = 70);
	   CREATE TABLE $sc.noop_t (id int PRIMARY KEY, status text NOT NULL, pad text);"
	cat >"$DIR/$sc.hot_starved.sql" <<SQL
\set id random(1, 10000)
UPDATE $sc.hot_starved SET v = v + 1 WHERE id = :id;
SQL
	cat >"$DIR/$sc.hot_starved_ix.sql" <<SQL
\set id random(1, 10000)
UPDATE $sc.hot_starved_ix SET v = v + 1 WHERE id = :id;
SQL
	cat >"$DIR/$sc.small_upd.sql" <<SQL
\set id random(1, 10000)
UPDATE $sc.small_upd SET v = v + 1 WHERE id = :id;
SQL
	cat >"$DIR/$sc.read_idx.sql" <<SQL
\set id random(1, 50000)
\set k random(1, 50000)
SELECT count(*) FROM $sc.read_idx WHERE k BETWEEN :k AND :k + 10;
SELECT count(*) FROM $sc.read_idx WHERE k BETWEEN :id AND :id + 10;
UPDATE $sc.read_idx SET k = :k WHERE id = :id;
SQL
	cat >"$DIR/$sc.big_upd.sql" <<SQL
\set id random(1, 200000)
\set d random(1, 200000)
UPDATE $sc.big_upd SET v = v + 1 WHERE id = :id;
UPDATE $sc.big_upd SET v = v + 1 WHERE id = :id + 1;
DELETE FROM $sc.big_upd WHERE id = :d;
SQL
	cat >"$DIR/$sc.append_log.sql" <<SQL
INSERT INTO $sc.append_log (payload) SELECT repeat('a', 80) FROM generate_series(1, 5);
SQL
	cat >"$DIR/$sc.noop_t.sql" <<SQL
\set id random(1, 20000)
UPDATE $sc.noop_t SET status = 'done' WHERE id = :id;
SQL
done
bench_hold_script
SCRIPTS=()
for sc in ctl adv; do
	SCRIPTS+=(-f "$DIR/$sc.hot_starved.sql@5" -f "$DIR/$sc.hot_starved_ix.sql@5" -f "$DIR/$sc.small_upd.sql@3" -f "$DIR/$sc.read_idx.sql@1"
		-f "$DIR/$sc.big_upd.sql@2" -f "$DIR/$sc.append_log.sql@2" -f "$DIR/$sc.noop_t.sql@2")
done

load()
{
	local sc
	for sc in ctl adv; do
		q "TRUNCATE $sc.hot_starved, $sc.hot_starved_ix, $sc.small_upd, $sc.read_idx, $sc.big_upd, $sc.append_log, $sc.noop_t;
		   ALTER SEQUENCE $sc.append_log_id_seq RESTART;
		   INSERT INTO $sc.hot_starved SELECT g, 0, repeat('x', 200) FROM generate_series(1, 10000) g;
		   INSERT INTO $sc.hot_starved_ix SELECT g, 0, repeat('x', 200) FROM generate_series(1, 10000) g;
		   INSERT INTO $sc.small_upd SELECT g, g, repeat('s', 100) FROM generate_series(1, 10000) g;
		   INSERT INTO $sc.read_idx SELECT g, g, repeat('r', 60) FROM generate_series(1, 50000) g;
		   INSERT INTO $sc.big_upd SELECT g, 0, repeat('b', 60) FROM generate_series(1, 200000) g;
		   INSERT INTO $sc.append_log (payload) SELECT repeat('a', 80) FROM generate_series(1, 200000);
		   INSERT INTO $sc.noop_t SELECT g, 'done', repeat('n', 60) FROM generate_series(1, 20000) g;"
	done
	q 'VACUUM ANALYZE'
}

stat_row()
{
	q "SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0), coalesce(sum(autovacuum_count), 0)
	     FROM pg_stat_user_tables WHERE schemaname = '$1' AND relname = '$2'" | tr '|' ' '
}

# $1 = phase, $2 = seconds; writes $DIR/$1.<schema>.<table> with
# "heap_bytes maxdead live avruns hot_ratio latency_ms index_bytes total_bytes
#  hot_ratio_of_the_second_half", and
# $DIR/$1.sizes with "second schema.table heap_bytes index_bytes total_bytes" every 30 s
run_phase()
{
	local phase=$1 SECS=$2 t sc
	load
	sleep 2
	declare -A u0 h0 a0
	for sc in ctl adv; do for t in $TABLES; do read -r u0[$sc.$t] h0[$sc.$t] a0[$sc.$t] < <(stat_row "$sc" "$t"); done; done
	q 'SELECT hygiene.take_sample()' >/dev/null
	# dead rows polled every second: the largest seen is the dead rows at the trigger
	( end=$((SECONDS + SECS)); while [ $SECONDS -lt $end ]; do
		q "SELECT schemaname || '.' || relname, n_dead_tup FROM pg_stat_user_tables" >>"$DIR/$phase.dead" 2>/dev/null; sleep 1; done ) &
	BG_PIDS+=($!)
	# sizes every 30 s (and at 0): is a copy still growing at the end?
	( t0=$SECONDS; while [ $((SECONDS - t0)) -lt "$SECS" ]; do
		q "SELECT $((SECONDS - t0)), n.nspname || '.' || c.relname, pg_relation_size(c.oid),
		          pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
		     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		    WHERE n.nspname IN ('ctl', 'adv') AND c.relkind = 'r'" >>"$DIR/$phase.sizes" 2>/dev/null
		sleep 30; done ) &
	BG_PIDS+=($!)
	# the counters at half time: the HOT ratio of the second half (after the start-up, in
	# which every page of the freshly loaded table is full)
	( sleep $((SECS / 2)); for sc in ctl adv; do for t in $TABLES; do
		echo "$sc.$t $(stat_row "$sc" "$t")"; done; done >"$DIR/$phase.mid" ) &
	BG_PIDS+=($!)
	# two overlapping 2 s snapshots, started 1 s apart (the horizon stays 1-2 s old), and
	# samples during the run (the advice's history window)
	bench_hold_horizon "$SECS"
	"$PGBENCH" -n -h "$DIR" -p "$PORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECS" "${SCRIPTS[@]}" \
		postgres >"$DIR/$phase.pgbench" 2>&1
	wait
	BG_PIDS=()
	q 'SELECT hygiene.take_sample()' >/dev/null
	sleep 1
	for sc in ctl adv; do for t in $TABLES; do
		local u1 h1 a1 size isize tsize live maxdead lat um hm
		read -r u1 h1 a1 < <(stat_row "$sc" "$t")
		size=$(q "SELECT pg_relation_size('$sc.$t')")
		isize=$(q "SELECT pg_indexes_size('$sc.$t')")
		tsize=$(q "SELECT pg_total_relation_size('$sc.$t')")
		read -r _ um hm _ < <(grep "^$sc.$t " "$DIR/$phase.mid")
		live=$(q "SELECT count(*) FROM $sc.$t")
		maxdead=$(awk -F'|' -v t="$sc.$t" '$1 == t && $2 > m {m = $2} END {print m + 0}' "$DIR/$phase.dead")
		# pgbench prints one block per script: "SQL script N: /path/s.t.sql" ... "latency average = X ms"
		lat=$(awk -v f="/$sc.$t.sql" 'index($0, "SQL script") && index($0, f) {on = 1; next}
			on && /latency average = / {sub(/.*latency average = /, ""); print $1 + 0; exit}' "$DIR/$phase.pgbench")
		awk -v s="$size" -v d="$maxdead" -v l="$live" -v a=$((a1 - a0[$sc.$t])) -v u=$((u1 - u0[$sc.$t])) \
			-v h=$((h1 - h0[$sc.$t])) -v lat="${lat:-0}" -v is="$isize" -v ts="$tsize" \
			-v u2=$((u1 - um)) -v h2=$((h1 - hm)) \
			'BEGIN {printf "%d %d %d %d %s %s %d %d %s\n", s, d, l, a, (u > 0 ? sprintf("%.3f", h / u) : "-"), lat, is, ts,
				(u2 > 0 ? sprintf("%.3f", h2 / u2) : "-")}' >"$DIR/$phase.$sc.$t"
	done; done
}

echo "== pg_hygiene: apply all advice to a mixed workload: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $($PG_CONFIG --version), phase 1 $SECS s, phase 2 $SECS2 s, $CLIENTS clients"

run_phase phase1 "$SECS"
echo
echo "-- advice for the adv tables after phase 1 (the ctl tables get the same; hygiene.table_advice, hygiene.database_advice):"
"${PSQL[@]}" -P pager=off -F ' | ' -c "SELECT relname, rule, severity, reason, alter_sql, needs_rewrite FROM hygiene.table_advice
	WHERE schemaname = 'adv' ORDER BY relname, rule"
"${PSQL[@]}" -P pager=off -F ' | ' -c "SELECT rule, severity, reason, alter_sql FROM hygiene.database_advice ORDER BY rule"

echo
echo "-- applying every alter_sql of the adv tables, and the rewrite where needs_rewrite:"
"${PSQL[@]}" -c "SELECT alter_sql FROM hygiene.table_advice WHERE schemaname = 'adv' AND alter_sql IS NOT NULL
	ORDER BY relname, rule" >"$DIR/apply.sql"
"${PSQL[@]}" -c "SELECT DISTINCT format('VACUUM FULL %I.%I;', schemaname, relname) FROM hygiene.table_advice
	WHERE schemaname = 'adv' AND needs_rewrite" >>"$DIR/apply.sql"
sed 's/^/   /' "$DIR/apply.sql"
"${PSQL[@]}" -c 'SET pg_hygiene.ddl_guard = off' -f "$DIR/apply.sql" >/dev/null
# database_advice would change the server for both copies: listed, not applied
echo "-- applied: $(grep -c ';' "$DIR/apply.sql") statements; database_advice (server-wide, would change ctl too) not applied: $(q "SELECT count(*) FROM hygiene.database_advice") rows"

run_phase phase2 "$SECS2"
echo
echo "-- advice after phase 2 (adv: what is left after applying everything; ctl: the untreated copy, for comparison):"
"${PSQL[@]}" -P pager=off -F ' | ' -c "SELECT schemaname, relname, rule, severity, alter_sql FROM hygiene.table_advice
	WHERE schemaname IN ('adv', 'ctl') ORDER BY relname, schemaname, rule"

echo
echo "-- phase 2, same time, same workload: before = ctl (as created), after = adv (all advice applied)"
echo "   size = pg_total_relation_size (heap + indexes + TOAST); heap and indexes also apart"
printf '%-14s | %-15s | %-13s | %-15s | %-33s | %-11s | %-29s | %-14s | %s\n' table "heap MB bef->aft" "index MB" "total MB" \
	"max dead rows (% live) bef->aft" "autovacuums" "HOT ratio (2nd half)" "latency ms" verdict
worse=0
for t in $TABLES; do
	read -r s0 d0 l0 a0 r0 p0 i0 t0 q0 <"$DIR/phase2.ctl.$t"
	read -r s1 d1 l1 a1 r1 p1 i1 t1 q1 <"$DIR/phase2.adv.$t"
	v=$(awk -v s0="$t0" -v s1="$t1" -v h0="$s0" -v h1="$s1" -v d0="$d0" -v d1="$d1" -v l1="$l1" -v r0="$r0" -v r1="$r1" \
		-v p0="$p0" -v p1="$p1" -v q0="$q0" -v q1="$q1" 'BEGIN {
		if (s1 < s0 * 0.95) b = b " size"; else if (s1 > s0 * 1.05) w = w " size"
		if (d1 < d0 * 0.9) b = b " dead"; else if (d1 > d0 * 1.1) {
			if (d1 <= 0.25 * l1 + 50) r = r " dead(<=25% live)"; else w = w " dead" }
		if (r0 != "-" && r1 != "-") { if (r1 > r0 + 0.02) b = b " hot"; else if (r1 < r0 - 0.02) w = w " hot" }
		if (q0 != "-" && q1 != "-") { if (q1 > q0 + 0.02) b = b " hot(2nd half)"; else if (q1 < q0 - 0.02) w = w " hot(2nd half)" }
		if (p1 < p0 * 0.85) b = b " latency"; else if (p1 > p0 * 1.15) w = w " latency"
		# the heap alone, where it differs from the total: the fillfactor reserve, paid in the heap
		if (h1 > h0 * 1.05 && s1 <= s0 * 1.05) n = sprintf(" (heap alone %+d%%)", 100 * h1 / h0 - 100)
		printf "%s", (w != "" ? "WORSE:" w "; " : "") (b != "" ? "better:" b "; " : "") (r != "" ? "raised:" r : "") (w b r == "" ? "same" : "") n
	}')
	case $v in WORSE*) worse=$((worse + 1)) ;; esac
	mb() { awk -v x="$1" 'BEGIN{printf "%.1f", x/1048576}'; }
	printf '%-14s | %5s -> %-6s | %4s -> %-5s | %5s -> %-6s | %6d (%5.1f%%) -> %6d (%5.1f%%) | %4d -> %-4d | %5s (%5s) -> %5s (%5s) | %5.2f -> %-6.2f | %s\n' \
		"$t" "$(mb "$s0")" "$(mb "$s1")" "$(mb "$i0")" "$(mb "$i1")" "$(mb "$t0")" "$(mb "$t1")" \
		"$d0" "$(awk -v d="$d0" -v l="$l0" 'BEGIN{print (l > 0 ? 100*d/l : 0)}')" \
		"$d1" "$(awk -v d="$d1" -v l="$l1" 'BEGIN{print (l > 0 ? 100*d/l : 0)}')" \
		"$a0" "$a1" "$r0" "$q0" "$r1" "$q1" "$p0" "$p1" "$v"
done
echo
echo "-- phase 2 total size (MB) every 30 s, ctl / adv: still growing at the end, or flat (steady state)?"
for t in $TABLES; do
	for sc in ctl adv; do
		printf '%-16s %s\n' "$sc.$t" "$(awk -F'|' -v t="$sc.$t" '$2 == t {printf "%6.1f", $5 / 1048576}' "$DIR/phase2.sizes")"
	done
done
echo
echo "-- noise: phase 1, both copies as created (adv/ctl latency ratio per table):"
for t in $TABLES; do
	read -r _ _ _ _ _ p0 _ <"$DIR/phase1.ctl.$t"
	read -r _ _ _ _ _ p1 _ <"$DIR/phase1.adv.$t"
	printf '%s %.2f  ' "$t" "$(awk -v a="$p0" -v b="$p1" 'BEGIN{print (a > 0 ? b / a : 0)}')"
done
echo
echo "total TPS (both copies): phase 1 $(awk '/^tps = / {print int($3); exit}' "$DIR/phase1.pgbench"), phase 2 $(awk '/^tps = / {print int($3); exit}' "$DIR/phase2.pgbench")"
if [ -n "${APPLY_KEEP:-}" ]; then mkdir -p "$APPLY_KEEP"; cp "$DIR"/*.pgbench "$DIR"/*.sizes "$DIR"/apply.sql "$DIR"/server.log "$APPLY_KEEP"/; fi
echo "RESULT: $worse of $(echo $TABLES | wc -w) tables with a figure worse after applying all advice"
