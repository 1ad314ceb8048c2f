#!/usr/bin/env bash
# The admission queue under overload: 40 clients of one role whose
# pg_hygiene.max_active_statements is 2 (so 38 are queued at any time), against the
# same role-less work with 2 clients and no cap (what the cap lets through, ideally).
# Reports pgbench -S TPS, context switches per second and CPU busy for each, and the
# role's queue statistics.  A queue that wakes every waiter on every release burns the
# CPU on wakeups exactly when the primary is overloaded; this shows what it costs.
#
#   bash bench/overload.sh            (as root, or as a user who can run PostgreSQL)
#
# Environment: PG_CONFIG, PORT (5540), ROUNDS (3), SECS (8), CLIENTS (40), CAP (2).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PORT:-5540}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-8}
CLIENTS=${CLIENTS:-40}
CAP=${CAP:-2}

ensure_packages
build_and_install
pick_server_user

DIR=/tmp/pg_hygiene-bench-overload
rm -rf "$DIR"
mkdir -p "$DIR"
chown "$RUN_AS": "$DIR" 2>/dev/null || true
cleanup() { as_server_user "pg_ctl -D '$DIR/data' -m fast stop" >/dev/null 2>&1 || true; }
trap cleanup EXIT

as_server_user "initdb -D '$DIR/data' -U postgres --auth=trust >'$DIR/initdb.log' 2>&1"
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_buffers = 256MB
max_connections = $((CLIENTS + 20))
shared_preload_libraries = 'pg_hygiene'
CONF
as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w start" >/dev/null
PSQL="$PG_BINDIR/psql -X -q -A -t -h $DIR -p $PORT -U postgres -d postgres -v ON_ERROR_STOP=1"
"$PG_BINDIR/pgbench" -h "$DIR" -p "$PORT" -U postgres -i -q -s 10 postgres >/dev/null 2>&1
$PSQL <<SQL
CREATE EXTENSION pg_hygiene;
CREATE ROLE bench_capped LOGIN;
CREATE ROLE bench_free LOGIN;
GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers TO bench_capped, bench_free;
ALTER ROLE bench_capped SET pg_hygiene.max_active_statements = $CAP;
ALTER ROLE bench_capped SET pg_hygiene.queue_timeout = '60s';
SQL

# tps, context switches/s, CPU busy (% of all cores) of one pgbench run: role, clients
run()
{
	local cs0 cs1 t0 t1 c0 c1 tps
	cs0=$(awk '/^ctxt/ {print $2}' /proc/stat); c0=$(awk '/^cpu / {print $2 + $3 + $4}' /proc/stat)
	t0=$(awk '{print $1}' /proc/uptime)
	tps=$("$PG_BINDIR/pgbench" -h "$DIR" -p "$PORT" -U "$1" -S -n -c "$2" -j 2 -T "$SECS" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
	cs1=$(awk '/^ctxt/ {print $2}' /proc/stat); c1=$(awk '/^cpu / {print $2 + $3 + $4}' /proc/stat)
	t1=$(awk '{print $1}' /proc/uptime)
	awk -v tps="$tps" -v a="$cs0" -v b="$cs1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%.0f tps, %.0f context switches/s, CPU busy %.0f%%", tps, (b - a) / (t1 - t0), 100 * (c1 - c0) / hz / (t1 - t0) / n}'
}

say "overload: $CLIENTS clients of a role capped at $CAP active statements vs $CAP clients without a cap; $ROUNDS rounds of ${SECS}s"
run bench_free "$CAP" >/dev/null    # warm the cache
$PSQL -c 'SELECT hygiene.reset_role_stats()' >/dev/null
for r in $(seq "$ROUNDS"); do
	printf 'round %d: %d clients, no cap:         %s\n' "$r" "$CAP" "$(run bench_free "$CAP")"
	printf 'round %d: %d clients, cap of %d:     %s\n' "$r" "$CLIENTS" "$CAP" "$(run bench_capped "$CLIENTS")"
done
$PSQL -c "SELECT 'bench_capped: admitted ' || admitted_limited || ', queued ' || queued || ', mean wait ' || round((1000 * wait_s / greatest(queued, 1))::numeric, 2) || ' ms, rejected ' || (rejected_active + rejected_total) FROM hygiene.role_stats WHERE rolname = 'bench_capped'"
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')"
