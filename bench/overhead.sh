#!/usr/bin/env bash
# Overhead of pg_hygiene's hooks when no policy applies: pgbench select-only (-S) and the
# default TPC-B-like script against two copies of one data directory, served at the same
# time by two servers, one with pg_hygiene in shared_preload_libraries and one without.
# Runs alternate between the two (ABBA order), so that both see the same machine
# conditions; the median of the per-round ratios with/without is the figure to quote.
#
#   bash bench/overhead.sh [rounds] [seconds]      (defaults: 15 rounds of 5 s per run)
#   CALIBRATE=1 bash bench/overhead.sh             (A/A: neither server preloads pg_hygiene)
#
# Environment: PG_CONFIG (default PostgreSQL 15), PGPORT (default 5560; 5561 is used too),
# SCALE (10), CLIENTS (2), EXTRA_CONF (more postgresql.conf lines for the "with" server),
# BENCH_SCRIPTS ("select-only tpcb-like").
# Run as root (the servers run as "postgres") or as a user with the packages installed.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

ROUNDS=${1:-15}
SECS=${2:-5}
PORT=${PGPORT:-5560}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-2}
BENCH_SCRIPTS=${BENCH_SCRIPTS:-select-only tpcb-like}

ensure_packages
build_and_install
pick_server_user

DIR=$(mktemp -d /tmp/pg_hygiene-bench.XXXXXX)
chown "$RUN_AS": "$DIR" 2>/dev/null || true
cleanup()
{
	for cfg in with without; do
		as_server_user "pg_ctl -D '$DIR/$cfg' -m immediate stop" >/dev/null 2>&1 || true
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

as_server_user "initdb -D '$DIR/without' -U postgres --auth=trust >/dev/null"
cat >>"$DIR/without/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
synchronous_commit = off
autovacuum = off
port = $PORT
CONF
as_server_user "pg_ctl -D '$DIR/without' -l '$DIR/without.log' -w start" >/dev/null
as_server_user "pgbench -h $DIR -p $PORT -U postgres -i -q -s $SCALE postgres" >/dev/null 2>&1
as_server_user "psql -h $DIR -p $PORT -U postgres -qc 'VACUUM ANALYZE' postgres"
as_server_user "pg_ctl -D '$DIR/without' -w stop" >/dev/null
as_server_user "cp -a '$DIR/without' '$DIR/with'"
# CALIBRATE=1 leaves pg_hygiene out of both servers: an A/A run that shows the noise floor.
PRELOAD=pg_hygiene
[ -n "${CALIBRATE:-}" ] && PRELOAD=
printf "port = %d\nshared_preload_libraries = '%s'\n%s\n" $((PORT + 1)) "$PRELOAD" "${EXTRA_CONF:-}" \
	>>"$DIR/with/postgresql.conf"
for cfg in without with; do
	as_server_user "pg_ctl -D '$DIR/$cfg' -l '$DIR/$cfg.log' -w start" >/dev/null
done
[ -n "$PRELOAD" ] &&
	as_server_user "psql -h $DIR -p $((PORT + 1)) -U postgres -qc 'CREATE EXTENSION pg_hygiene' postgres"

# One pgbench run: $1 = with|without, $2 = script; prints TPS.
tps()
{
	local port=$PORT flag=-S
	[ "$1" = with ] && port=$((PORT + 1))
	[ "$2" = tpcb-like ] && flag=
	as_server_user "pgbench -h $DIR -p $port -U postgres -n -c $CLIENTS -j $CLIENTS -T $SECS $flag postgres" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

median() { grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ); scale $SCALE, $CLIENTS clients, $SECS s per run, $ROUNDS rounds"
for script in $BENCH_SCRIPTS; do
	ratios=()
	for r in $(seq 1 "$ROUNDS"); do
		# ABBA: odd rounds start without, even rounds start with.
		if [ $((r % 2)) -eq 1 ]; then a=$(tps without "$script"); b=$(tps with "$script")
		else b=$(tps with "$script"); a=$(tps without "$script"); fi
		ratio=$(awk -v w="$b" -v wo="$a" 'BEGIN {printf "%.3f", w / wo}')
		ratios+=("$ratio")
		printf '%-12s round %2d  without %10.1f  with %10.1f  ratio %s\n' "$script" "$r" "$a" "$b" "$ratio"
	done
	printf '%s: median ratio with/without %s over %d rounds\n' "$script" \
		"$(printf '%s\n' "${ratios[@]}" | median)" "$ROUNDS"
done
