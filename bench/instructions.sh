#!/usr/bin/env bash
# CPU cost of pg_hygiene per statement, counted in instructions: a measure that does not
# depend on machine noise (on the 2-core machines here, pgbench TPS of one configuration
# varies by +-10% from one run to the next, so TPS ratios have a resolution of a few %).
#
# A single-user backend (postgres --single) runs N primary-key SELECTs of pgbench_accounts
# under valgrind --tool=callgrind, for two values of N; the difference of the instruction
# counts divided by the difference of N is the cost of one statement, with startup and
# shutdown cancelled out.  Configurations: stock (library not loaded), pg_hygiene loaded
# with no policy, and loaded with non-binding policies (every limit set, none reached;
# exempt_superusers and exempt_background off, since a single-user backend is both).
# Also counted: the same with a timeout ceiling's equivalent in stock PostgreSQL
# (statement_timeout = 1h), which is part of what a ceiling costs.
#
#   bash bench/instructions.sh          (as root, or as a user who can run PostgreSQL)
#
# Environment: PG_CONFIG, SCALE (1), N1 (2000), N2 (12000), BENCH_DIR (the work directory,
# /tmp/pg_hygiene-bench-instr).
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

SCALE=${SCALE:-1}
N1=${N1:-2000}
N2=${N2:-12000}

ensure_packages
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
build_and_install
pick_server_user

DIR=${BENCH_DIR:-/tmp/pg_hygiene-bench-instr}
rm -rf "$DIR"
mkdir -p "$DIR"
chown "$RUN_AS": "$DIR" 2>/dev/null || true

as_server_user "initdb -D '$DIR/data' -U postgres --auth=trust >'$DIR/initdb.log' 2>&1"
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
port = 5530
shared_buffers = 128MB
shared_preload_libraries = 'pg_hygiene'
CONF
as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w start" >/dev/null
"$PG_BINDIR/pgbench" -h "$DIR" -p 5530 -U postgres -i -q -s "$SCALE" postgres >/dev/null 2>&1
"$PG_BINDIR/psql" -X -q -h "$DIR" -p 5530 -U postgres -c 'CREATE EXTENSION pg_hygiene' -c 'VACUUM ANALYZE' postgres
as_server_user "pg_ctl -D '$DIR/data' -w stop" >/dev/null

for n in "$N1" "$N2"; do
	awk -v n="$n" -v rows="$((SCALE * 100000))" 'BEGIN {srand(1); for (i = 0; i < n; i++) printf "SELECT abalance FROM pgbench_accounts WHERE aid = %d\n", 1 + int(rand() * rows)}' \
		>"$DIR/stmts.$n.sql"
done
chmod a+r "$DIR"/stmts.*.sql

POLICIES="-c pg_hygiene.exempt_superusers=off -c pg_hygiene.exempt_background=off \
-c pg_hygiene.max_active_statements=100 -c pg_hygiene.max_active_total=200 \
-c pg_hygiene.max_statements_per_second=1000000 -c pg_hygiene.max_wal_bytes_per_second=1GB \
-c pg_hygiene.statement_timeout_max=1h -c pg_hygiene.idle_in_transaction_timeout_max=1h \
-c pg_hygiene.max_join_rels=50 -c pg_hygiene.max_plan_cost=1000000000"
declare -A OPTS=(
	[stock]="-c shared_preload_libraries="
	[stock_timeout]="-c shared_preload_libraries= -c statement_timeout=1h -c idle_in_transaction_session_timeout=1h"
	[loaded]=""
	[policies]="$POLICIES"
)
ORDER="stock stock_timeout loaded policies"

# instructions of one single-user run: config, number of statements
instructions()
{
	as_server_user "valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		'$PG_BINDIR/postgres' --single -D '$DIR/data' ${OPTS[$1]} postgres \
		<'$DIR/stmts.$2.sql' >/dev/null 2>'$DIR/vg.$1.$2.log'" || true
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$DIR/vg.$1.$2.log"
}

say "instructions per statement, from single-user runs of $N1 and $N2 statements under callgrind"
declare -A PER
for cfg in $ORDER; do
	a=$(instructions "$cfg" "$N1")
	b=$(instructions "$cfg" "$N2")
	[ -n "$a" ] && [ -n "$b" ] || die "no instruction count for $cfg (see $DIR/vg.$cfg.*.log)"
	PER[$cfg]=$(awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN {printf "%.0f", (b - a) / (n2 - n1)}')
	printf '%-14s %9d instructions per statement\n' "$cfg" "${PER[$cfg]}"
done
r() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }
printf 'throughput ratio implied by instructions (stock / config):\n'
printf '  loaded, no policy:          %s\n' "$(r "${PER[stock]}" "${PER[loaded]}")"
printf '  loaded, non-binding policies: %s\n' "$(r "${PER[stock]}" "${PER[policies]}")"
printf '  stock with statement_timeout and idle timeout of 1h: %s\n' "$(r "${PER[stock]}" "${PER[stock_timeout]}")"
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ); valgrind $(valgrind --version)"
