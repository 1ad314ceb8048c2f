#!/usr/bin/env bash
# Run PostgreSQL's own regression suite (src/test/regress, parallel schedule) twice, on
# temporary instances without and with pg_hygiene preloaded, and compare the two runs'
# outputs test by test.  The hooks are harmless when every output is identical.
#
#   bash scripts/core-regress.sh ["postgresql.conf line" ...]
#
# The lines go into the instance with pg_hygiene, e.g.
#   bash scripts/core-regress.sh "pg_hygiene.noop_updates = off" "pg_hygiene.ddl_guard = off"
# With features on, outputs may legitimately differ (row order after suppressed updates,
# guard warnings); the run then shows where, and a crash or a server error shows as a
# difference too.
#
# Needs the PostgreSQL 15 source: fetched with apt-get source into $CORE_SRC (default
# /var/tmp/pg_hygiene-core-src; as root the script enables deb-src when needed).  The
# source may be a slightly older minor release than the server, which is why the two runs
# are compared with each other rather than with the suite's expected files.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CORE_SRC=${CORE_SRC:-/var/tmp/pg_hygiene-core-src}
ensure_packages
build_and_install
pick_server_user

src=$(ls -d "$CORE_SRC"/postgresql-"$PG_MAJOR"-*/ 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$src" ]; then
	[ "$(id -u)" -eq 0 ] || die "fetch the source first: mkdir -p $CORE_SRC && cd $CORE_SRC && apt-get source postgresql-$PG_MAJOR"
	if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
	fi
	apt-get update -qq >/dev/null
	mkdir -p "$CORE_SRC"
	# The newest version the mirror still serves.
	for v in $(apt-cache showsrc "postgresql-$PG_MAJOR" | sed -n 's/^Version: //p' | sort -Vr); do
		(cd "$CORE_SRC" && apt-get source -qq "postgresql-$PG_MAJOR=$v" >/dev/null 2>&1) && break
	done
	src=$(ls -d "$CORE_SRC"/postgresql-"$PG_MAJOR"-*/ 2>/dev/null | sort -V | tail -1 || true)
	[ -n "$src" ] || die "could not fetch the postgresql-$PG_MAJOR source"
fi
say "core suite from $src"

WORK=/tmp/pg_hygiene-core-regress.$RUN_AS
rm -rf "$WORK"
mkdir -p "$WORK/lib"
cp "$src/src/test/regress/regress.c" "$WORK/lib/"
cat >"$WORK/lib/Makefile" <<MK
MODULES = regress
PG_CPPFLAGS = -I$src/src/test/regress
PGXS := \$(shell $PG_CONFIG --pgxs)
include \$(PGXS)
MK
make -s -C "$WORK/lib" PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 || die "could not build regress.so"
cp "$($PG_CONFIG --pkglibdir)"/{autoinc,refint}.so "$WORK/lib/"
echo "shared_preload_libraries = ''" >"$WORK/without.conf"
{
	echo "shared_preload_libraries = 'pg_hygiene'"
	printf '%s\n' "$@"
} >"$WORK/with.conf"
chown -R "$RUN_AS": "$WORK"

PG_REGRESS="$($PG_CONFIG --pgxs | sed 's|/src/makefiles/pgxs.mk||')/src/test/regress/pg_regress"
for run in without with; do
	say "core suite, pg_hygiene $run"
	mkdir -p "$WORK/$run"
	chown "$RUN_AS": "$WORK/$run"
	as_server_user "cd '$WORK/$run' && '$PG_REGRESS' \
		--inputdir='$src/src/test/regress' --outputdir='$WORK/$run' --bindir='$PG_BINDIR' \
		--dlpath='$WORK/lib' --temp-instance='$WORK/$run/tmp' --temp-config='$WORK/$run.conf' \
		--schedule='$src/src/test/regress/parallel_schedule' --max-concurrent-tests=20" \
		>"$WORK/$run.log" 2>&1 || true
	grep -E 'tests (passed|failed)|All [0-9]+ tests' "$WORK/$run.log" || tail -5 "$WORK/$run.log"
done

total=$(ls "$WORK/without/results"/*.out | wc -l)
differ=()
for f in "$WORK/without/results"/*.out; do
	t=$(basename "$f" .out)
	cmp -s "$f" "$WORK/with/results/$t.out" || differ+=("$t")
done
if grep -qE 'PANIC|terminated by signal' "$WORK/with/tmp/log/postmaster.log" 2>/dev/null; then
	echo "the server with pg_hygiene crashed:"
	grep -E 'PANIC|terminated by signal' "$WORK/with/tmp/log/postmaster.log" | head
	differ+=("(crash)")
fi
for t in "${differ[@]}"; do
	echo "--- $t differs:"
	diff -u "$WORK/without/results/$t.out" "$WORK/with/results/$t.out" | head -30 || true
done
echo "core suite: $total test outputs compared, ${#differ[@]} differ"
[ ${#differ[@]} -eq 0 ]
