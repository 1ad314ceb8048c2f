# Shared by scripts/demo.sh and scripts/test.sh: find or install what the build and the
# tests need, build and install pg_hygiene, and pick the unprivileged user that runs the
# server (PostgreSQL refuses to run as root).
# shellcheck shell=bash

set -euo pipefail

# The PostgreSQL major version: $PG_MAJOR if set, else the one $PG_CONFIG reports, else
# the server installed under /usr/lib/postgresql (the highest if there are several; set
# PG_MAJOR to pick another), else 15 (Debian 12's, installed when missing).
detect_pg_major()
{
	local d best=
	if [ -n "${PG_CONFIG:-}" ] && [ -x "$PG_CONFIG" ]; then
		"$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'
		return
	fi
	for d in /usr/lib/postgresql/[0-9]*/bin/postgres; do
		[ -x "$d" ] || continue
		d=${d%/bin/postgres}
		d=${d##*/}
		if [ -z "$best" ] || [ "$d" -gt "$best" ]; then best=$d; fi
	done
	echo "${best:-15}"
}
PG_MAJOR=${PG_MAJOR:-$(detect_pg_major)}
# PG_CONFIG may point into a private copy of the PostgreSQL tree (see docs/development.md).
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
PG_BINDIR=$(dirname "$PG_CONFIG")
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Packages the scripts need beyond the PostgreSQL server; $1 = "test" adds the test tools.
ensure_packages()
{
	local want=() need_test=${1:-}
	# Test for what the build needs: the server headers (Debian ships pg_config and
	# pgxs.mk in postgresql-client-NN, so their presence says nothing about the headers).
	if [ ! -x "$PG_CONFIG" ] ||
		[ ! -f "$("$PG_CONFIG" --includedir-server 2>/dev/null)/postgres.h" ]; then
		want+=("postgresql-server-dev-$PG_MAJOR")
	fi
	command -v make >/dev/null || want+=(make)
	command -v gcc >/dev/null || want+=(gcc)
	if [ "$need_test" = test ]; then
		perl -MIPC::Run -e 1 2>/dev/null || want+=(libipc-run-perl)
		command -v prove >/dev/null || want+=(perl)
		/usr/bin/python3 -c 'import django, psycopg2' 2>/dev/null ||
			want+=(python3-django python3-psycopg2)
		[ -x /usr/bin/prometheus-postgres-exporter ] || want+=(prometheus-postgres-exporter)
		# test/t/210_policy_live.pl starts a PgBouncer in transaction mode
		[ -x /usr/sbin/pgbouncer ] || want+=(pgbouncer)
	fi
	[ -x "$PG_BINDIR/postgres" ] || want+=("postgresql-$PG_MAJOR")
	[ ${#want[@]} -eq 0 ] && return 0

	if [ "$(id -u)" -eq 0 ]; then
		say "installing ${want[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
	elif sudo -n true 2>/dev/null; then
		say "installing ${want[*]} (sudo)"
		sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
	else
		die "missing packages: ${want[*]}; install them (apt-get install ${want[*]}) or run this as root"
	fi
}

# Build in the checkout and install into the PostgreSQL $PG_MAJOR tree.
build_and_install()
{
	say "building pg_hygiene against $($PG_CONFIG --version)"
	make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" >/dev/null
	if [ -w "$($PG_CONFIG --pkglibdir)" ] && [ -w "$($PG_CONFIG --sharedir)/extension" ]; then
		make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
	elif sudo -n true 2>/dev/null; then
		sudo make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
	else
		die "cannot write to $($PG_CONFIG --pkglibdir): run as root or with passwordless sudo"
	fi
}

# The user that runs servers: ourselves, or when root, "postgres" (created if missing).
pick_server_user()
{
	if [ "$(id -u)" -ne 0 ]; then
		RUN_AS=$(id -un)
		return
	fi
	RUN_AS=${PG_HYGIENE_USER:-postgres}
	id "$RUN_AS" >/dev/null 2>&1 || useradd --system --create-home "$RUN_AS"
	# A root directory that only root may enter (seen in chroots unpacked from a tar of a
	# mktemp -d directory) leaves the server user unable to run anything at all.
	if ! su "$RUN_AS" -s /bin/sh -c 'test -x /bin/sh' 2>/dev/null; then
		say "the root directory is closed to $RUN_AS (mode $(stat -c %a /)); opening it (chmod o+rx /)"
		chmod o+rx /
	fi
}

# Run a shell command as $RUN_AS with the PostgreSQL binaries first on PATH.
as_server_user()
{
	local cmd="export PATH='$PG_BINDIR':\$PATH; $1"
	if [ "$(id -un)" = "$RUN_AS" ]; then
		bash -c "$cmd"
	else
		su "$RUN_AS" -s /bin/bash -c "$cmd"
	fi
}

# A throwaway server for a bench script (after ensure_packages, build_and_install and
# pick_server_user): bench_server NAME PORT CONF, CONF being extra postgresql.conf lines.
# Sets DIR (its directory), PGBENCH, PSQL (an array) and BG_PIDS (pids the script starts in
# the background); on exit those are killed, the server is stopped and DIR is removed.
# q SQL runs SQL with PSQL.
bench_server()
{
	PGBENCH=${PGBENCH:-$PG_BINDIR/pgbench}
	[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench)
	DIR=$(mktemp -d "/tmp/pg_hygiene-bench-$1.XXXXXX")
	chmod 755 "$DIR"
	chown "$RUN_AS": "$DIR" 2>/dev/null || true
	BG_PIDS=()
	trap bench_server_stop EXIT
	as_server_user "initdb -D '$DIR/data' -U postgres --auth=trust" >/dev/null
	cat >>"$DIR/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_hygiene'
listen_addresses = ''
unix_socket_directories = '$DIR'
port = $2
$3
CONF
	as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/server.log' -w start" >/dev/null
	PSQL=("$PG_BINDIR/psql" -X -q -At -h "$DIR" -p "$2" -U postgres -d postgres -v ON_ERROR_STOP=1)
	BENCH_PORT=$2
}

bench_server_stop()
{
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	as_server_user "pg_ctl -D '$DIR/data' -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$DIR"
}

q() { "${PSQL[@]}" -c "$1"; }

# The advice benches' xmin-horizon holder: writes $DIR/hold.sql, a REPEATABLE READ snapshot
# held 2 s (on a table of its own), for pgbench clients that keep the horizon 1-2 s old
# when two of them start 1 s apart.
bench_hold_script()
{
	q 'CREATE TABLE hold_target (x int); INSERT INTO hold_target VALUES (1)'
	cat >"$DIR/hold.sql" <<'SQL'
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 1 FROM hold_target LIMIT 1;
\sleep 2 s
COMMIT;
SQL
}

# For SECS seconds in the background (pids to BG_PIDS): two clients of $DIR/hold.sql started
# 1 s apart, so the xmin horizon stays 1-2 s old, and hygiene.take_sample() at every eighth
# of SECS (the advice's history window).
bench_hold_horizon()
{
	"$PGBENCH" -n -h "$DIR" -p "$BENCH_PORT" -U postgres -c 1 -T "$1" -f "$DIR/hold.sql" postgres >/dev/null 2>&1 &
	BG_PIDS+=($!)
	( sleep 1; "$PGBENCH" -n -h "$DIR" -p "$BENCH_PORT" -U postgres -c 1 -T $(($1 - 1)) -f "$DIR/hold.sql" postgres \
		>/dev/null 2>&1 ) &
	BG_PIDS+=($!)
	( for i in 1 2 3 4 5 6 7; do sleep $(($1 / 8)); q 'SELECT hygiene.take_sample()' >/dev/null; done ) &
	BG_PIDS+=($!)
}
