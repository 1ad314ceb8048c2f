#!/usr/bin/env bash
# Overhead of query digest rules on pgbench -S (select-only), in one run, alternating:
#   stock     PostgreSQL without pg_hygiene
#   loaded    pg_hygiene preloaded, extension created, no rules
#   rules100  100 rules, none matching the benchmark's statement (cache lookup only)
#   match     a throttle rule matching every statement with a rate it never reaches
#             (lookup, shared counters and the token bucket on every statement)
# Prints the median TPS of each configuration and its ratio to stock and, because TPS on a
# shared machine swings with the neighbours' load, also the cost of one statement in a
# single backend (a PL/pgSQL loop running the same SELECT; the minimum over repetitions
# is the figure least disturbed by other processes).
#
#   bash bench/query_rules.sh                 defaults: 3 rounds of 10 s, 2 clients
#   ROUNDS=5 DURATION=20 CLIENTS=2 bash bench/query_rules.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PGPORT:-5530}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-2}
SCALE=${SCALE:-10}

ensure_packages
build_and_install
pick_server_user

DIR=$(mktemp -d /tmp/pg_hygiene-bench-rules.XXXXXX)
chown "$RUN_AS": "$DIR" 2>/dev/null || true
trap 'as_server_user "pg_ctl -D \"$DIR/data\" -m fast stop" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

as_server_user "initdb -D '$DIR/data' -U postgres --auth=trust >/dev/null"
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $PORT
shared_buffers = 128MB
CONF

PSQL="psql -X -q -h '$DIR' -p $PORT -U postgres -d postgres"
start() # $1 = shared_preload_libraries
{
	as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/log' -o \"-c shared_preload_libraries='$1'\" -w start" >/dev/null
}
stop() { as_server_user "pg_ctl -D '$DIR/data' -m fast -w stop" >/dev/null; }
sql() { as_server_user "$PSQL -At -c \"$1\""; }

start pg_hygiene
sql "CREATE EXTENSION pg_hygiene"
as_server_user "pgbench -q -i -s $SCALE -h '$DIR' -p $PORT -U postgres postgres" >/dev/null 2>&1
LOOPS=${LOOPS:-100000}
sql "CREATE FUNCTION bench_loop(n int) RETURNS float8 LANGUAGE plpgsql AS '
DECLARE t0 timestamptz := clock_timestamp(); x int;
BEGIN
  FOR i IN 1..n LOOP
    SELECT abalance INTO x FROM pgbench_accounts WHERE aid = 1;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e9 / n;
END'"
QID=$(as_server_user "$PSQL -At -c 'SET compute_query_id = on' -c 'EXPLAIN (VERBOSE, FORMAT JSON) SELECT abalance FROM pgbench_accounts WHERE aid = 1'" |
	grep -o '"Query Identifier": -\?[0-9]*' | grep -o -- '-\?[0-9]*$')
stop

rules_none() { sql "DELETE FROM hygiene.query_rule"; }
rules_100()
{
	rules_none
	sql "SELECT count(hygiene.block_query(g * 7919 + 1, 'bench rule ' || g)) FROM generate_series(1, 100) g" >/dev/null
}
rules_match()
{
	rules_none
	sql "SELECT hygiene.throttle_query($QID, per_second => 1e9, reason => 'bench: never binding')" >/dev/null
}

run() # prints TPS
{
	as_server_user "pgbench -n -S -c $CLIENTS -j $CLIENTS -T $DURATION -h '$DIR' -p $PORT -U postgres postgres" 2>/dev/null |
		awk '/^tps = /{print $3; exit}'
}

# ns per statement: the minimum of three runs of the loop.
loop_ns()
{
	sql "SELECT min(bench_loop($LOOPS)) FROM generate_series(1, 3)" | awk '{printf "%.0f", $1}'
}

declare -A results
declare -A loops
last() { echo "${results[$1]}" | awk '{print $NF}'; }
for round in $(seq 1 "$ROUNDS"); do
	start ''
	results[stock]+="$(run) "
	loops[stock]+="$(loop_ns) "
	stop
	start pg_hygiene
	rules_none
	results[loaded]+="$(run) "
	loops[loaded]+="$(loop_ns) "
	rules_100
	results[rules100]+="$(run) "
	loops[rules100]+="$(loop_ns) "
	rules_match
	results[match]+="$(run) "
	loops[match]+="$(loop_ns) "
	rules_none
	stop
	say "round $round: stock $(last stock) loaded $(last loaded) rules100 $(last rules100) match $(last match)"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
stock=$(echo "${results[stock]}" | median)
echo
echo "pgbench -S, $CLIENTS clients, scale $SCALE, $ROUNDS rounds of $DURATION s, $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-10s %12s %8s   %s\n' config median_tps ratio "all runs"
for c in stock loaded rules100 match; do
	m=$(echo "${results[$c]}" | median)
	printf '%-10s %12.1f %8.3f   %s\n' "$c" "$m" "$(echo "$m $stock" | awk '{print $1 / $2}')" "${results[$c]}"
done
echo
stock_ns=$(echo "${loops[stock]}" | tr ' ' '\n' | grep -v '^$' | sort -n | head -1)
echo "one SELECT by primary key in a PL/pgSQL loop ($LOOPS iterations, best of 3 per round)"
printf '%-10s %10s %10s   %s\n' config best_ns vs_stock "per round"
for c in stock loaded rules100 match; do
	b=$(echo "${loops[$c]}" | tr ' ' '\n' | grep -v '^$' | sort -n | head -1)
	printf '%-10s %10s %+10s   %s\n' "$c" "$b" "$((b - stock_ns))" "${loops[$c]}"
done
