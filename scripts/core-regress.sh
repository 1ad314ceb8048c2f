#!/usr/bin/env bash
# Run PostgreSQL's own regression suite (src/test/regress, parallel schedule) or its
# isolation suite (src/test/isolation, isolation_schedule) on temporary instances without
# and with pg_hygiene preloaded, and compare the runs' outputs test by test.  The hooks
# are harmless when every output is identical.
#
#   bash scripts/core-regress.sh [--isolation] [--noop-modes m1,m2] [--create-extension] ["postgresql.conf line" ...]
#
# The lines go into the instance with pg_hygiene, e.g.
#   bash scripts/core-regress.sh "pg_hygiene.noop_updates = off" "pg_hygiene.ddl_guard = off"
# --noop-modes runs the instance with pg_hygiene once per mode (adding
# "pg_hygiene.noop_updates = MODE" to the lines) against one stock run, e.g.
#   bash scripts/core-regress.sh --isolation --noop-modes lock,auto "pg_hygiene.ddl_guard = off"
# --create-extension also runs CREATE EXTENSION pg_hygiene in the test database of the
# runs with pg_hygiene (the no-op suppressor's trigger path, for tables with BEFORE ROW
# triggers and for ON CONFLICT, needs the extension's trigger function).
# With features on, outputs may legitimately differ (row order after suppressed updates,
# guard warnings); the run then shows where, and a crash or a server error shows as a
# difference too.
#
# Needs the PostgreSQL 15 source: fetched with apt-get source into $CORE_SRC (default
# /var/tmp/pg_hygiene-core-src; as root the script enables deb-src when needed).  The
# source may be a slightly older minor release than the server, which is why the runs
# are compared with each other rather than with the suite's expected files.  The
# isolation suite uses pg_isolation_regress and isolationtester from the PGXS install.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CORE_SRC=${CORE_SRC:-/var/tmp/pg_hygiene-core-src}
SUITE=regress
NOOP_MODES=
CREATE_EXT=
while [ $# -gt 0 ]; do
	case $1 in
	--isolation) SUITE=isolation; shift ;;
	--noop-modes) NOOP_MODES=$2; shift 2 ;;
	--noop-modes=*) NOOP_MODES=${1#*=}; shift ;;
	--create-extension) CREATE_EXT=--load-extension=pg_hygiene; shift ;;
	*) break ;;
	esac
done
ensure_packages
build_and_install
pick_server_user

src=$(ls -d "$CORE_SRC"/postgresql-"$PG_MAJOR"-*/ 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$src" ]; then
	[ "$(id -u)" -eq 0 ] || die "fetch the source first: mkdir -p $CORE_SRC && cd $CORE_SRC && apt-get source postgresql-$PG_MAJOR"
	if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		# deb822 (debian.sources) or one-line (sources.list, as in a debootstrap chroot)
		[ -f /etc/apt/sources.list.d/debian.sources ] &&
			sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
		[ -f /etc/apt/sources.list ] &&
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >>/etc/apt/sources.list
	fi
	apt-get update -qq >/dev/null
	# apt-get source unpacks with dpkg-source
	command -v dpkg-source >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
	mkdir -p "$CORE_SRC"
	# The newest version the mirror still serves.
	for v in $(apt-cache showsrc "postgresql-$PG_MAJOR" | sed -n 's/^Version: //p' | sort -Vr); do
		(cd "$CORE_SRC" && apt-get source -qq "postgresql-$PG_MAJOR=$v" >/dev/null 2>&1) && break
	done
	src=$(ls -d "$CORE_SRC"/postgresql-"$PG_MAJOR"-*/ 2>/dev/null | sort -V | tail -1 || true)
	[ -n "$src" ] || die "could not fetch the postgresql-$PG_MAJOR source"
fi
say "core suite from $src"

WORK=/tmp/pg_hygiene-core-$SUITE.$RUN_AS
rm -rf "$WORK"
mkdir -p "$WORK/lib"
PGXS_TEST="$($PG_CONFIG --pgxs | sed 's|/src/makefiles/pgxs.mk||')/src/test"
if [ "$SUITE" = regress ]; then
	cp "$src/src/test/regress/regress.c" "$WORK/lib/"
	cat >"$WORK/lib/Makefile" <<MK
MODULES = regress
PG_CPPFLAGS = -I$src/src/test/regress
PGXS := \$(shell $PG_CONFIG --pgxs)
include \$(PGXS)
MK
	make -s -C "$WORK/lib" PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 || die "could not build regress.so"
	cp "$($PG_CONFIG --pkglibdir)"/{autoinc,refint}.so "$WORK/lib/"
	RUNNER="'$PGXS_TEST/regress/pg_regress' --inputdir='$src/src/test/regress' --dlpath='$WORK/lib' \
		--schedule='$src/src/test/regress/parallel_schedule' --max-concurrent-tests=20"
else
	[ -x "$PGXS_TEST/isolation/pg_isolation_regress" ] && [ -x "$PGXS_TEST/isolation/isolationtester" ] ||
		die "pg_isolation_regress or isolationtester missing under $PGXS_TEST/isolation"
	RUNNER="'$PGXS_TEST/isolation/pg_isolation_regress' --inputdir='$src/src/test/isolation' \
		--schedule='$src/src/test/isolation/isolation_schedule'"
fi

# One stock run, then one run with pg_hygiene per configuration.
runs=(without)
echo "shared_preload_libraries = ''" >"$WORK/without.conf"
if [ -n "$NOOP_MODES" ]; then
	for m in ${NOOP_MODES//,/ }; do
		runs+=("with-$m")
		{
			echo "shared_preload_libraries = 'pg_hygiene'"
			printf '%s\n' "$@"
			echo "pg_hygiene.noop_updates = $m"
		} >"$WORK/with-$m.conf"
	done
else
	runs+=(with)
	{
		echo "shared_preload_libraries = 'pg_hygiene'"
		printf '%s\n' "$@"
	} >"$WORK/with.conf"
fi
chown -R "$RUN_AS": "$WORK"

for run in "${runs[@]}"; do
	say "core $SUITE suite, pg_hygiene $run"
	mkdir -p "$WORK/$run"
	chown "$RUN_AS": "$WORK/$run"
	start=$(date +%s)
	ext=
	[ "$run" = without ] || ext=$CREATE_EXT
	as_server_user "cd '$WORK/$run' && $RUNNER $ext --outputdir='$WORK/$run' --bindir='$PG_BINDIR' \
		--temp-instance='$WORK/$run/tmp' --temp-config='$WORK/$run.conf'" \
		>"$WORK/$run.log" 2>&1 || true
	grep -E 'tests (passed|failed)|All [0-9]+ tests' "$WORK/$run.log" || tail -5 "$WORK/$run.log"
	echo "($(($(date +%s) - start)) s)"
done

total=$(ls "$WORK/without/results"/*.out | wc -l)
status=0
for run in "${runs[@]:1}"; do
	differ=()
	for f in "$WORK/without/results"/*.out; do
		t=$(basename "$f" .out)
		cmp -s "$f" "$WORK/$run/results/$t.out" || differ+=("$t")
	done
	if grep -qE 'PANIC|terminated by signal|WARNING:.*(leak|still referenced)' \
		"$WORK/$run/tmp/log/postmaster.log" 2>/dev/null; then
		echo "the server with pg_hygiene ($run) crashed or leaked:"
		grep -E 'PANIC|terminated by signal|WARNING:.*(leak|still referenced)' "$WORK/$run/tmp/log/postmaster.log" | head
		differ+=("(crash)")
	fi
	for t in "${differ[@]}"; do
		echo "--- $t differs ($run):"
		diff -u "$WORK/without/results/$t.out" "$WORK/$run/results/$t.out" | head -30 || true
	done
	echo "core $SUITE suite, $run: $total test outputs compared, ${#differ[@]} differ"
	[ ${#differ[@]} -eq 0 ] || status=1
done
exit $status
