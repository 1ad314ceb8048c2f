#!/usr/bin/env bash
# Run the pg_regress and isolation suites with every server process under valgrind
# (memcheck), and report the memory errors found in pg_hygiene's code.  Too slow for
# scripts/test.sh; see docs/development.md.
#
#   bash scripts/sanitize.sh                 both suites
#   bash scripts/sanitize.sh regress         one: regress | isolation
#   REGRESS='ddl_trust noop_setup_error' bash scripts/sanitize.sh regress   some files
#
# How: a private copy of the PostgreSQL tree (scripts/private-pg.sh) gets pg_hygiene
# installed (built with -g -O0 for exact line numbers), and its "postgres" binary is
# replaced by a wrapper that starts the postmaster under valgrind (initdb's bootstrap and
# single-user runs, and -V/-C, run directly).  Backends are forked, so each runs under
# valgrind too, with PostgreSQL's own suppression file (src/tools/valgrind.supp of the
# PostgreSQL source; VALGRIND_SUPP overrides the path).
#
# The server is not built with USE_VALGRIND, so valgrind sees malloc-level errors: reads
# of memory freed with free() (a memory context's blocks once it is deleted or reset),
# overruns of whole blocks, and uses of uninitialised values.  A stale pointer into a
# block that a memory context keeps for reuse goes unseen.
#
# Everything lives in $SAN_DIR (default /tmp/pg_hygiene-valgrind): the tree, a copy of
# the checkout, test output and one valgrind log per process.  The checkout and the tree
# of PG_CONFIG are not touched.  Timing-sensitive tests may fail under valgrind's
# slowdown; the verdict is the valgrind errors, and the exit status is 0 when no error
# names pg_hygiene.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kinds=${*:-regress isolation}
SAN_DIR=${SAN_DIR:-/tmp/pg_hygiene-valgrind}
SUPP=${VALGRIND_SUPP:-}
if [ -z "$SUPP" ]; then
	for f in /work/src/postgresql-$PG_MAJOR-*/src/tools/valgrind.supp \
		/usr/src/postgresql-$PG_MAJOR*/src/tools/valgrind.supp; do
		[ -f "$f" ] && SUPP=$f
	done
fi

ensure_packages test
command -v valgrind >/dev/null || die "valgrind is not installed (apt-get install valgrind)"
[ -n "$SUPP" ] && [ -f "$SUPP" ] ||
	die "PostgreSQL's src/tools/valgrind.supp not found; set VALGRIND_SUPP (apt-get source postgresql-$PG_MAJOR)"
pick_server_user

say "private PostgreSQL tree in $SAN_DIR/pg"
mkdir -p "$SAN_DIR"
SAN_PG_CONFIG=$(bash "$TOP/scripts/private-pg.sh" "$SAN_DIR/pg")
SAN_BINDIR=$(dirname "$SAN_PG_CONFIG")
LOGDIR=$SAN_DIR/logs
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
cp "$SUPP" "$SAN_DIR/valgrind.supp"

# The wrapper: the postmaster (and so every backend) under valgrind.
if [ ! -f "$SAN_BINDIR/postgres.real" ]; then
	mv "$SAN_BINDIR/postgres" "$SAN_BINDIR/postgres.real"
fi
cat >"$SAN_BINDIR/postgres" <<EOF
#!/bin/sh
# scripts/sanitize.sh: run the server under valgrind; short-lived modes run directly.
real="\$(dirname "\$0")/postgres.real"
case " \$* " in
*" --boot "* | *" --single "* | *" -V "* | *" --version "* | *" -C "* | *" --describe-config "*)
	exec "\$real" "\$@" ;;
esac
exec valgrind --quiet --tool=memcheck --trace-children=no --leak-check=no \\
	--track-origins=yes --read-var-info=yes --num-callers=30 \\
	--suppressions="$SAN_DIR/valgrind.supp" --gen-suppressions=all \\
	--error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \\
	--log-file="$LOGDIR/valgrind.%p.log" "\$real" "\$@"
EOF
chmod 755 "$SAN_BINDIR/postgres"

say "building pg_hygiene (-g -O0) into that tree"
SRC=$SAN_DIR/src
rm -rf "$SRC"
mkdir -p "$SRC"
tar -C "$TOP" --exclude=./.git --exclude='./tmp_check*' --exclude=./.demo --exclude='*.o' \
	--exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$SRC" -xf -
make -C "$SRC" -s PG_CONFIG="$SAN_PG_CONFIG" PG_CFLAGS="-g -O0" with_llvm=no >/dev/null
make -C "$SRC" -s PG_CONFIG="$SAN_PG_CONFIG" with_llvm=no install >/dev/null
chown -R "$RUN_AS": "$SAN_DIR" 2>/dev/null || true

status=0
for kind in $kinds; do
	case $kind in
	regress) sel=${REGRESS:+REGRESS="'$REGRESS'"} ;;
	isolation) sel=${ISOLATION:+ISOLATION="'$ISOLATION'"} ;;
	*) die "unknown suite '$kind' (regress, isolation)" ;;
	esac
	say "$kind suite under valgrind"
	log=$LOGDIR/$kind.log
	rc=0
	cmd="export PATH='$SAN_BINDIR':\$PATH; cd '$SRC' && make -s PG_CONFIG='$SAN_PG_CONFIG' ${kind}check ${sel:-}"
	if [ "$(id -un)" = "$RUN_AS" ]; then
		bash -c "$cmd" >"$log" 2>&1 || rc=$?
	else
		su "$RUN_AS" -s /bin/bash -c "$cmd" >"$log" 2>&1 || rc=$?
	fi
	grep -E '\.\.\. (ok|FAILED|failed)' "$log" || true
	p=$(grep -cE '\.\.\. ok' "$log" || true)
	f=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log" || true)
	echo "$kind: $p passed, $f failed (make exit $rc); log $log"
done

# An error is pg_hygiene's when one of the first four frames of its stack (where it
# happened, not where the memory came from) is in src/*.c or pg_hygiene.so: every
# statement runs under pg_hygiene's hooks, so deeper frames say nothing.
ours_re="pg_hygiene\\.so|($(cd "$TOP/src" && ls *.c | sed 's/\.c$//' | paste -sd'|'))\\.c:"
ours=0
other=0
for r in "$LOGDIR"/valgrind.*.log; do
	[ -s "$r" ] || continue
	counts=$(awk -v re="$ours_re" '
		/VALGRINDERROR-BEGIN/ { inblk = 1; mine = 0; nf = 0; first = 1; next }
		/VALGRINDERROR-END/ { if (mine) o++; else x++; inblk = 0; next }
		inblk && first && /^==[0-9]+== +(at|by) 0x/ {
			if (++nf <= 4 && $0 ~ re) mine = 1
			next
		}
		inblk && nf > 0 { first = 0 }
		END { print o + 0, x + 0 }' "$r")
	read -r o x <<<"$counts"
	ours=$((ours + o))
	other=$((other + x))
	if [ "$o" -gt 0 ]; then
		echo "--- $r: $o error(s) in pg_hygiene's code"
		sed -n '/VALGRINDERROR-BEGIN/,/VALGRINDERROR-END/p' "$r" | grep -vE '^==[0-9]+== *$' | head -80
	elif [ "$x" -gt 0 ]; then
		echo "--- $r: $x error(s) outside pg_hygiene's code"
		grep -m3 -E '^==[0-9]+== (Invalid|Conditional|Syscall|Use of|Mismatched|Source)' "$r" || true
	fi
done
echo "valgrind: $ours error(s) in pg_hygiene's code, $other elsewhere (logs: $LOGDIR)"
[ "$ours" -eq 0 ] || status=1
exit $status
