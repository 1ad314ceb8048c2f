#!/usr/bin/env bash
# Overhead of pg_hygiene's hooks when no policy applies: pgbench select-only (-S) and the
# default TPC-B-like script against ONE data directory, restarted alternately with and
# without pg_hygiene in shared_preload_libraries.  Prints every run and the median TPS
# ratio with/without per script.
#
#   bash bench/overhead.sh [rounds] [seconds]      (defaults: 5 rounds of 15 s per config)
#
# Environment: PG_CONFIG (default PostgreSQL 15), PGPORT (default 5560), SCALE (10),
# CLIENTS (2), EXTRA_CONF (more postgresql.conf lines for the "with" runs).
# Run as root (the server runs as "postgres") or as a user with the packages installed.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

ROUNDS=${1:-5}
SECS=${2:-15}
PORT=${PGPORT:-5560}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-2}

ensure_packages
build_and_install
pick_server_user

DIR=$(mktemp -d /tmp/pg_hygiene-bench.XXXXXX)
chown "$RUN_AS": "$DIR" 2>/dev/null || true
trap 'as_server_user "pg_ctl -D $DIR/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

as_server_user "initdb -D '$DIR/data' -U postgres --auth=trust >/dev/null"
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
synchronous_commit = off
autovacuum = off
CONF

start_with()
{
	local preload=$1
	printf "shared_preload_libraries = '%s'\n%s\n" "$preload" "${2:-}" >"$DIR/data/bench.conf"
	grep -q "include 'bench.conf'" "$DIR/data/postgresql.conf" ||
		echo "include 'bench.conf'" >>"$DIR/data/postgresql.conf"
	as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w restart || pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w start" >/dev/null
}

PGB="pgbench -h $DIR -p $PORT -U postgres -n -c $CLIENTS -j $CLIENTS -T $SECS postgres"
start_with ""
as_server_user "pgbench -h $DIR -p $PORT -U postgres -i -q -s $SCALE postgres" >/dev/null 2>&1
as_server_user "psql -h $DIR -p $PORT -U postgres -qc 'VACUUM ANALYZE' postgres"

tps() { as_server_user "$PGB $1" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'; }

declare -A results
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ); scale $SCALE, $CLIENTS clients, $SECS s per run"
for r in $(seq 1 "$ROUNDS"); do
	for cfg in without with; do
		if [ $cfg = with ]; then start_with pg_hygiene "${EXTRA_CONF:-}"; else start_with ""; fi
		for script in select-only tpcb-like; do
			flag=-S; [ $script = tpcb-like ] && flag=""
			t=$(tps "$flag")
			results[$script.$cfg]+="$t "
			printf 'round %d %-8s %-12s tps %s\n' "$r" "$cfg" "$script" "$t"
		done
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for script in select-only tpcb-like; do
	w=$(echo "${results[$script.with]}" | median)
	wo=$(echo "${results[$script.without]}" | median)
	ratio=$(awk -v a="$w" -v b="$wo" 'BEGIN {printf "%.3f", a / b}')
	# Ratio per round (with / without of the same round), whose median is less sensitive
	# to drift on a shared machine than the ratio of medians.
	per=$(paste -d' ' <(echo "${results[$script.with]}" | tr ' ' '\n' | grep -v '^$') \
		<(echo "${results[$script.without]}" | tr ' ' '\n' | grep -v '^$') |
		awk '{printf "%.3f ", $1 / $2}')
	pm=$(echo "$per" | median)
	echo "$script: median tps with $w, without $wo, ratio of medians $ratio; per-round ratios $per-> median $pm"
done
