#!/usr/bin/env bash
# Benchmarks for pg_hygiene's per-role limits (docs/limits.md, docs/benchmarks.md).
#
#   bash bench/limits.sh            (as root, or as a user who can run PostgreSQL)
#
# 1. Overhead: pgbench -S TPS of one role on the same server restarted alternately as
#    stock PostgreSQL (library not loaded), pg_hygiene loaded with no policy, and
#    pg_hygiene with non-binding policies on the role (every limit set, none reached).
#    Ratios are taken per round (same minute, same machine load) and their medians
#    reported.
# 2. Write budget: a backfill role with max_wal_bytes_per_second = X runs one long
#    INSERT ... SELECT for WAL_SECONDS; its measured WAL rate is compared with X, and the
#    pgbench -S TPS of another role during that window with its TPS alone.
#
# Environment: PG_CONFIG, PORT (5520), ROUNDS (5), SECONDS_PER_RUN (8), CLIENTS (2),
# SCALE (10), WAL_BUDGET (bytes/s, 2097152), WAL_SECONDS (30).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PORT:-5520}
ROUNDS=${ROUNDS:-5}
SECS=${SECONDS_PER_RUN:-8}
CLIENTS=${CLIENTS:-2}
SCALE=${SCALE:-10}
WAL_BUDGET=${WAL_BUDGET:-2097152}
WAL_SECONDS=${WAL_SECONDS:-30}

ensure_packages
build_and_install
pick_server_user

DIR=/tmp/pg_hygiene-bench-limits
DATA=$DIR/data
rm -rf "$DIR"
mkdir -p "$DIR"
chown "$RUN_AS": "$DIR" 2>/dev/null || true

as_server_user "initdb -D '$DATA' -U postgres --auth=trust >'$DIR/initdb.log' 2>&1"
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_buffers = 256MB
max_connections = 50
checkpoint_timeout = 30min
max_wal_size = 4GB
CONF

PSQL=("$PG_BINDIR/psql" -X -q -A -t -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
PGBENCH=("$PG_BINDIR/pgbench" -h "$DIR" -p "$PORT" -d postgres)

# Start (or restart) the server with the given shared_preload_libraries value.
start_server()
{
	as_server_user "pg_ctl -D '$DATA' -m fast stop" >/dev/null 2>&1 || true
	as_server_user "pg_ctl -D '$DATA' -l '$DIR/server.log' -w -o \"-c shared_preload_libraries='$1'\" start" >/dev/null
}
stop_server() { as_server_user "pg_ctl -D '$DATA' -m fast stop" >/dev/null 2>&1 || true; }
trap stop_server EXIT

# pgbench -S TPS for a role over N seconds.
tps()
{
	"${PGBENCH[@]}" -U "$1" -S -n -c "$CLIENTS" -j "$CLIENTS" -T "$2" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

start_server ''
"${PGBENCH[@]}" -U postgres -i -q -s "$SCALE" >/dev/null 2>&1
"${PSQL[@]}" <<'SQL'
CREATE ROLE bench_plain LOGIN;
CREATE ROLE bench_policy LOGIN;
CREATE ROLE bench_other LOGIN;
CREATE ROLE bench_bf LOGIN;
GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers TO bench_plain, bench_policy, bench_other;
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
SQL
"${PSQL[@]}" -c "ALTER ROLE bench_bf SET pg_hygiene.max_wal_bytes_per_second = $WAL_BUDGET"

say "overhead: $ROUNDS rounds x 3 configurations x ${SECS}s, pgbench -S -c $CLIENTS, scale $SCALE"
: >"$DIR/ratios"
run_stock()
{
	start_server ''
	tps bench_plain 3 >/dev/null     # warm-up after the restart
	stock=$(tps bench_plain "$SECS")
}
run_loaded()
{
	start_server pg_hygiene
	tps bench_plain 3 >/dev/null
	if [ "$1" = policy-first ]; then
		policy=$(tps bench_policy "$SECS")
		loaded=$(tps bench_plain "$SECS")
	else
		loaded=$(tps bench_plain "$SECS")
		policy=$(tps bench_policy "$SECS")
	fi
}
for r in $(seq "$ROUNDS"); do
	# alternate the order between rounds so that warm-up and drift favour neither side
	if [ $((r % 2)) -eq 1 ]; then
		run_stock
		run_loaded loaded-first
	else
		run_loaded policy-first
		run_stock
	fi
	r1=$(awk -v a="$loaded" -v b="$stock" 'BEGIN {printf "%.4f", a / b}')
	r2=$(awk -v a="$policy" -v b="$stock" 'BEGIN {printf "%.4f", a / b}')
	printf 'round %d: stock %.0f tps, loaded/no policy %.0f tps (%.4f), non-binding policies %.0f tps (%.4f)\n' \
		"$r" "$stock" "$loaded" "$r1" "$policy" "$r2"
	echo "$r1 $r2 $stock $loaded $policy" >>"$DIR/ratios"
done
printf 'median ratio loaded/no policy vs stock: %s (target >= 0.99)\n' "$(cut -d' ' -f1 "$DIR/ratios" | median)"
printf 'median ratio non-binding policies vs stock: %s (target >= 0.97)\n' "$(cut -d' ' -f2 "$DIR/ratios" | median)"
printf 'median tps: stock %s, loaded %s, policies %s\n' "$(cut -d' ' -f3 "$DIR/ratios" | median)" \
	"$(cut -d' ' -f4 "$DIR/ratios" | median)" "$(cut -d' ' -f5 "$DIR/ratios" | median)"

say "write budget: bench_bf limited to $WAL_BUDGET bytes/s, ${WAL_SECONDS}s window, bench_other runs pgbench -S"
start_server pg_hygiene
"${PSQL[@]}" -c 'CREATE EXTENSION pg_hygiene'
tps bench_other 2 >/dev/null
alone=$(tps bench_other "$WAL_SECONDS")

# The backfill: one long INSERT ... SELECT (100 copies of pgbench_accounts), throttled
# inside the statement.
"$PG_BINDIR/psql" -X -q -h "$DIR" -p "$PORT" -U bench_bf -d postgres \
	-c "INSERT INTO backfill SELECT aid, repeat('x', 100) FROM pgbench_accounts, generate_series(1, 100) g" \
	>/dev/null 2>&1 &
bf=$!
sleep 2
lsn0=$("${PSQL[@]}" -c 'SELECT pg_current_wal_lsn()')
t0=$(date +%s.%N)
during=$(tps bench_other "$WAL_SECONDS")
lsn1=$("${PSQL[@]}" -c 'SELECT pg_current_wal_lsn()')
t1=$(date +%s.%N)
wait_event=$("${PSQL[@]}" -c "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE usename = 'bench_bf' AND state = 'active'")
"${PSQL[@]}" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'bench_bf'" >/dev/null
wait "$bf" 2>/dev/null || true
bytes=$("${PSQL[@]}" -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
rate=$(awk -v b="$bytes" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.0f", b / (t1 - t0)}')
printf 'budget %d B/s, measured instance WAL rate %d B/s over %.1f s: %.3f of budget (target within 0.80..1.20)\n' \
	"$WAL_BUDGET" "$rate" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
	"$(awk -v r="$rate" -v x="$WAL_BUDGET" 'BEGIN {print r / x}')"
printf 'backfill wait event while throttled: %s\n' "${wait_event:-none seen}"
"${PSQL[@]}" -c "SELECT 'bench_bf throttled ' || round(throttled_ms::numeric / 1000, 1) || ' s, charged ' || wal_bytes_charged || ' bytes' FROM hygiene.role_stats WHERE rolname = 'bench_bf'"
printf 'bench_other pgbench -S: alone %.0f tps, during the throttled backfill %.0f tps (%.4f)\n' \
	"$alone" "$during" "$(awk -v a="$during" -v b="$alone" 'BEGIN {print a / b}')"

# For contrast: the same backfill without a budget, for a shorter window.
"${PSQL[@]}" -c 'ALTER ROLE bench_bf RESET pg_hygiene.max_wal_bytes_per_second'
"$PG_BINDIR/psql" -X -q -h "$DIR" -p "$PORT" -U bench_bf -d postgres \
	-c "INSERT INTO backfill SELECT aid, repeat('x', 100) FROM pgbench_accounts, generate_series(1, 100) g" \
	>/dev/null 2>&1 &
bf=$!
sleep 2
lsn0=$("${PSQL[@]}" -c 'SELECT pg_current_wal_lsn()')
t0=$(date +%s.%N)
unthrottled=$(tps bench_other 10)
lsn1=$("${PSQL[@]}" -c 'SELECT pg_current_wal_lsn()')
t1=$(date +%s.%N)
"${PSQL[@]}" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'bench_bf'" >/dev/null
wait "$bf" 2>/dev/null || true
bytes=$("${PSQL[@]}" -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
printf 'contrast, no budget: backfill WAL rate %.0f B/s, bench_other %.0f tps (%.4f of alone)\n' \
	"$(awk -v b="$bytes" -v t0="$t0" -v t1="$t1" 'BEGIN {print b / (t1 - t0)}')" "$unthrottled" \
	"$(awk -v a="$unthrottled" -v b="$alone" 'BEGIN {print a / b}')"

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
