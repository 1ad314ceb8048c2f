#!/usr/bin/env bash
# Benchmarks for pg_hygiene's per-role limits (docs/limits.md, docs/benchmarks.md).
#
#   bash bench/limits.sh            (as root, or as a user who can run PostgreSQL)
#
# 1. Overhead: pgbench -S TPS against two servers (same binaries, same data, each with
#    its own socket directory and the same port number, no TCP): stock PostgreSQL
#    (library not loaded) and pg_hygiene loaded; on the latter as a role with no
#    policy, as a second such role (an A/A pair on one server: the noise floor) and as
#    a role with non-binding policies (every limit set, none reached).  Runs are one at
#    a time, the order rotating every round; the medians of the per-round ratios are
#    reported.  The policies' own cost is measured on one server (policy role vs no-
#    policy role), which no server-to-server difference can bias.  The same
#    comparison is then made in backend CPU time per statement.
# 2. Write budget: a backfill role with max_wal_bytes_per_second = X runs one long
#    INSERT ... SELECT for WAL_SECONDS; its measured WAL rate is compared with X, and the
#    pgbench -S TPS of another role during that window with its TPS alone (and, for
#    contrast, with the TPS during the same backfill without a budget).
#
# Environment: PG_CONFIG, PORT (5520), ROUNDS (15), SECONDS_PER_RUN (4), CLIENTS (2),
# SCALE (10), WAL_BUDGET (bytes/s, 2097152), WAL_SECONDS (30), CPU_ROUNDS (9),
# CPU_STMTS (40000).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PORT:-5520}
ROUNDS=${ROUNDS:-15}
SECS=${SECONDS_PER_RUN:-4}
CLIENTS=${CLIENTS:-2}
SCALE=${SCALE:-10}
WAL_BUDGET=${WAL_BUDGET:-2097152}
WAL_SECONDS=${WAL_SECONDS:-30}
CPU_ROUNDS=${CPU_ROUNDS:-9}
CPU_STMTS=${CPU_STMTS:-40000}

ensure_packages
build_and_install
pick_server_user

DIR=/tmp/pg_hygiene-bench-limits
rm -rf "$DIR"
mkdir -p "$DIR/hy" "$DIR/st"
chown -R "$RUN_AS": "$DIR" 2>/dev/null || true

# Server "hy" (pg_hygiene preloaded) and "st" (stock), each with its own socket dir.
start_server()
{
	local name=$1 preload=$2
	as_server_user "pg_ctl -D '$DIR/$name/data' -l '$DIR/$name/server.log' -w \
		-o \"-c shared_preload_libraries='$preload' -c unix_socket_directories='$DIR/$name'\" start" >/dev/null
}
stop_server()
{
	as_server_user "pg_ctl -D '$DIR/$1/data' -m fast stop" >/dev/null 2>&1 || true
}
cleanup() { stop_server hy; stop_server st; }
trap cleanup EXIT

psql_on() { local s=$1; shift; "$PG_BINDIR/psql" -X -q -A -t -h "$DIR/$s" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
# pgbench -S TPS: server, role, seconds
tps()
{
	"$PG_BINDIR/pgbench" -h "$DIR/$1" -p "$PORT" -d postgres -U "$2" -S -n -c "$CLIENTS" -j "$CLIENTS" -T "$3" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }

as_server_user "initdb -D '$DIR/hy/data' -U postgres --auth=trust >'$DIR/initdb.log' 2>&1"
cat >>"$DIR/hy/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $PORT
shared_buffers = 256MB
max_connections = 50
checkpoint_timeout = 30min
max_wal_size = 4GB
CONF
start_server hy pg_hygiene
"$PG_BINDIR/pgbench" -h "$DIR/hy" -p "$PORT" -U postgres -d postgres -i -q -s "$SCALE" >/dev/null 2>&1
psql_on hy <<'SQL'
CREATE ROLE bench_plain LOGIN;
CREATE ROLE bench_plain2 LOGIN;
CREATE ROLE bench_policy LOGIN;
CREATE ROLE bench_other LOGIN;
CREATE ROLE bench_bf LOGIN;
GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers TO bench_plain, bench_plain2, bench_policy, bench_other;
CREATE TABLE backfill (id bigint, pad text);
GRANT INSERT ON backfill TO bench_bf;
GRANT SELECT ON pgbench_accounts TO bench_bf;
-- non-binding policies: every limit is set, none is ever reached
ALTER ROLE bench_policy SET pg_hygiene.priority = normal;
ALTER ROLE bench_policy SET pg_hygiene.max_active_statements = 1000;
ALTER ROLE bench_policy SET pg_hygiene.max_active_total = 1000;
ALTER ROLE bench_policy SET pg_hygiene.max_statements_per_second = 1000000;
ALTER ROLE bench_policy SET pg_hygiene.max_wal_bytes_per_second = '1GB';
ALTER ROLE bench_policy SET pg_hygiene.statement_timeout_max = '1h';
ALTER ROLE bench_policy SET pg_hygiene.idle_in_transaction_timeout_max = '1h';
ALTER ROLE bench_policy SET pg_hygiene.max_join_rels = 100;
ALTER ROLE bench_policy SET pg_hygiene.max_plan_cost = 1e12;
CREATE EXTENSION pg_hygiene;
CHECKPOINT;
SQL
psql_on hy -c "ALTER ROLE bench_bf SET pg_hygiene.max_wal_bytes_per_second = $WAL_BUDGET"
stop_server hy
cp -a "$DIR/hy/data" "$DIR/st/data"
start_server hy pg_hygiene
start_server st ''
psql_on st -c 'SELECT 1' >/dev/null

say "overhead: $ROUNDS rounds of pgbench -S -c $CLIENTS for ${SECS}s each: stock, loaded as a role with no policy (twice: A/A), loaded as a role with non-binding policies; the order rotates every round"
for s in st hy; do tps "$s" bench_plain 5 >/dev/null; done    # warm both caches
tps hy bench_policy 5 >/dev/null
: >"$DIR/ratios"
configs=("st bench_plain" "hy bench_plain" "hy bench_policy" "hy bench_plain2")
for r in $(seq "$ROUNDS"); do
	# one run at a time (the clients use both cores); rotating the order spreads drift
	declare -A got=()
	for k in 0 1 2 3; do
		c=${configs[$(((k + r) % 4))]}
		got[$c]=$(tps $c "$SECS")
	done
	stock=${got["st bench_plain"]}; loaded=${got["hy bench_plain"]}
	policy=${got["hy bench_policy"]}; plain2=${got["hy bench_plain2"]}
	r1=$(ratio "$loaded" "$stock")
	r2=$(ratio "$policy" "$loaded")
	r3=$(ratio "$plain2" "$loaded")
	printf 'round %2d: stock %6.0f, loaded/no policy %6.0f (%s of stock), non-binding policies %6.0f (%s of no policy), A/A %6.0f (%s)\n' \
		"$r" "$stock" "$loaded" "$r1" "$policy" "$r2" "$plain2" "$r3"
	echo "$r1 $r2 $r3 $stock $loaded $policy" >>"$DIR/ratios"
	unset got
done
m1=$(cut -d' ' -f1 "$DIR/ratios" | median)
m2=$(cut -d' ' -f2 "$DIR/ratios" | median)
printf 'median ratio loaded/no policy vs stock (two servers): %s (target >= 0.99)\n' "$m1"
printf 'median ratio non-binding policies vs no policy (same server, other role): %s\n' "$m2"
printf 'median ratio A/A, no policy vs no policy (same server, other role): %s (the noise floor)\n' \
	"$(cut -d' ' -f3 "$DIR/ratios" | median)"
printf 'non-binding policies vs stock, the product of the two medians: %s (target >= 0.97)\n' \
	"$(awk -v a="$m1" -v b="$m2" 'BEGIN {printf "%.4f", a * b}')"
printf 'median tps: stock %.0f, loaded %.0f, policies %.0f\n' "$(cut -d' ' -f4 "$DIR/ratios" | median)" \
	"$(cut -d' ' -f5 "$DIR/ratios" | median)" "$(cut -d' ' -f6 "$DIR/ratios" | median)"

# The same comparison in server CPU time per statement: one session per configuration
# sends CPU_STMTS primary-key SELECTs (simple protocol) and reads its backend's
# utime+stime from /proc before and after.
TICK=$(getconf CLK_TCK)
# one script per tag, each writing its own before/after files
for tag in cs cl cp; do
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv BPID :pid'
		echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $DIR/cpu.$tag.before"
		awk -v n="$CPU_STMTS" -v rows="$((SCALE * 100000))" 'BEGIN {srand(1); for (i = 0; i < n; i++) printf "SELECT abalance FROM pgbench_accounts WHERE aid = %d;\n", 1 + int(rand() * rows)}'
		echo "\\! awk '{print \$14 + \$15}' /proc/\$BPID/stat > $DIR/cpu.$tag.after"
	} >"$DIR/cpu.$tag.sql"
done
chmod a+r "$DIR"/cpu.*.sql
# microseconds of backend CPU per statement: server, role, tag
cpu_us()
{
	"$PG_BINDIR/psql" -X -q -h "$DIR/$1" -p "$PORT" -U "$2" -d postgres -o /dev/null -f "$DIR/cpu.$3.sql"
	awk -v a="$(cat "$DIR/cpu.$3.before")" -v b="$(cat "$DIR/cpu.$3.after")" -v t="$TICK" -v n="$CPU_STMTS" \
		'BEGIN {printf "%.2f", (b - a) * 1000000 / t / n}'
}
say "server CPU per statement: $CPU_ROUNDS rounds, the 3 configurations at the same time, $CPU_STMTS statements each"
: >"$DIR/cpu"
for r in $(seq "$CPU_ROUNDS"); do
	cpu_us st bench_plain cs >"$DIR/c.st" &
	cpu_us hy bench_plain cl >"$DIR/c.hy" &
	cpu_us hy bench_policy cp >"$DIR/c.po" &
	wait
	cs=$(cat "$DIR/c.st"); cl=$(cat "$DIR/c.hy"); cp=$(cat "$DIR/c.po")
	printf 'round %2d: stock %s us, loaded/no policy %s us (%s), non-binding policies %s us (%s)\n' \
		"$r" "$cs" "$cl" "$(ratio "$cs" "$cl")" "$cp" "$(ratio "$cs" "$cp")"
	echo "$(ratio "$cs" "$cl") $(ratio "$cs" "$cp") $cs $cl $cp" >>"$DIR/cpu"
done
printf 'median CPU-based throughput ratio (stock CPU / loaded CPU): no policy %s, non-binding policies %s\n' \
	"$(cut -d' ' -f1 "$DIR/cpu" | median)" "$(cut -d' ' -f2 "$DIR/cpu" | median)"
printf 'median backend CPU per statement: stock %s us, loaded %s us, policies %s us\n' \
	"$(cut -d' ' -f3 "$DIR/cpu" | median)" "$(cut -d' ' -f4 "$DIR/cpu" | median)" "$(cut -d' ' -f5 "$DIR/cpu" | median)"
stop_server st

# One long INSERT ... SELECT (100 copies of pgbench_accounts), in the background.
start_backfill()
{
	"$PG_BINDIR/psql" -X -q -h "$DIR/hy" -p "$PORT" -U bench_bf -d postgres \
		-c "INSERT INTO backfill SELECT aid, repeat('x', 100) FROM pgbench_accounts, generate_series(1, 100) g" \
		>/dev/null 2>&1 &
	bf=$!
}
stop_backfill()
{
	psql_on hy -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'bench_bf'" >/dev/null
	wait "$bf" 2>/dev/null || true
	psql_on hy -c 'TRUNCATE backfill'
}

say "write budget: bench_bf limited to $WAL_BUDGET B/s over ${WAL_SECONDS}s while bench_other runs pgbench -S"
alone=$(tps hy bench_other "$WAL_SECONDS")
start_backfill
sleep 2
psql_on hy -c 'SELECT hygiene.reset_role_stats()' >/dev/null
lsn0=$(psql_on hy -c 'SELECT pg_current_wal_lsn()')
t0=$(date +%s.%N)
during=$(tps hy bench_other "$WAL_SECONDS")
lsn1=$(psql_on hy -c 'SELECT pg_current_wal_lsn()')
t1=$(date +%s.%N)
charged=$(psql_on hy -c "SELECT charged_wal_bytes || ' ' || round(throttled_s::numeric, 1) FROM hygiene.role_stats WHERE rolname = 'bench_bf'")
wait_event=$(psql_on hy -c "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE usename = 'bench_bf' AND state = 'active'")
stop_backfill
bytes=$(psql_on hy -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
rate=$(awk -v b="$bytes" -v t="$secs" 'BEGIN {printf "%.0f", b / t}')
crate=$(awk -v b="${charged%% *}" -v t="$secs" 'BEGIN {printf "%.0f", b / t}')
printf 'budget %d B/s; over %s s the instance WAL rate was %d B/s (%.3f of budget, target 0.80..1.20);\n' \
	"$WAL_BUDGET" "$secs" "$rate" "$(ratio "$rate" "$WAL_BUDGET")"
printf '  charged to bench_bf %d B/s (%.3f of budget), throttled %s s; wait event seen: %s\n' \
	"$crate" "$(ratio "$crate" "$WAL_BUDGET")" "${charged##* }" "${wait_event:-none}"
printf 'bench_other pgbench -S: alone %.0f tps, during the throttled backfill %.0f tps (%s)\n' \
	"$alone" "$during" "$(ratio "$during" "$alone")"

# For contrast: the same backfill without a budget, over a shorter window.
psql_on hy -c 'ALTER ROLE bench_bf RESET pg_hygiene.max_wal_bytes_per_second'
start_backfill
sleep 2
lsn0=$(psql_on hy -c 'SELECT pg_current_wal_lsn()')
t0=$(date +%s.%N)
unthrottled=$(tps hy bench_other 10)
lsn1=$(psql_on hy -c 'SELECT pg_current_wal_lsn()')
t1=$(date +%s.%N)
stop_backfill
bytes=$(psql_on hy -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
printf 'contrast, no budget: backfill WAL rate %.0f B/s, bench_other %.0f tps (%s of alone)\n' \
	"$(awk -v b="$bytes" -v t0="$t0" -v t1="$t1" 'BEGIN {print b / (t1 - t0)}')" "$unthrottled" \
	"$(ratio "$unthrottled" "$alone")"

# The same with a workload that leaves headroom, as an application below its peak does:
# bench_other at a fixed rate of a quarter of its TPS alone (pgbench -R), alone, beside the
# throttled backfill and beside the unthrottled one.  Prints "tps latency_ms lag_ms".
fixed()
{
	"$PG_BINDIR/pgbench" -h "$DIR/hy" -p "$PORT" -d postgres -U bench_other -S -n -c "$CLIENTS" -j "$CLIENTS" \
		-R "$RATE" -T "$1" 2>/dev/null | awk '
		/^tps = .*without initial/ {tps = $3}
		/^latency average/ {lat = $4}
		/^rate limit schedule lag/ {lag = $6}
		END {printf "%.0f %s %s\n", tps, lat, lag}'
}
RATE=$(awk -v a="$alone" 'BEGIN {printf "%d", a / 4}')
FIXED_SECONDS=${FIXED_SECONDS:-20}
say "headroom: bench_other at a fixed $RATE tps (a quarter of its TPS alone), ${FIXED_SECONDS}s per run"
read -r fa_tps fa_lat fa_lag <<<"$(fixed "$FIXED_SECONDS")"
psql_on hy -c "ALTER ROLE bench_bf SET pg_hygiene.max_wal_bytes_per_second = $WAL_BUDGET"
start_backfill
sleep 2
read -r ft_tps ft_lat ft_lag <<<"$(fixed "$FIXED_SECONDS")"
stop_backfill
psql_on hy -c 'ALTER ROLE bench_bf RESET pg_hygiene.max_wal_bytes_per_second'
start_backfill
sleep 2
read -r fu_tps fu_lat fu_lag <<<"$(fixed "$FIXED_SECONDS")"
stop_backfill
printf 'bench_other at %d tps: alone %s tps, latency %s ms (schedule lag %s ms)\n' "$RATE" "$fa_tps" "$fa_lat" "$fa_lag"
printf '  beside the throttled backfill (%d B/s): %s tps (%s of alone), latency %s ms (lag %s ms)\n' \
	"$WAL_BUDGET" "$ft_tps" "$(ratio "$ft_tps" "$fa_tps")" "$ft_lat" "$ft_lag"
printf '  beside the backfill without a budget: %s tps (%s of alone), latency %s ms (lag %s ms)\n' \
	"$fu_tps" "$(ratio "$fu_tps" "$fa_tps")" "$fu_lat" "$fu_lag"

echo "machine: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
