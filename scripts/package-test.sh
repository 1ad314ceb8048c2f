#!/usr/bin/env bash
# Build the Debian packages from debian/ (dpkg-buildpackage -us -uc -b, in a copy of the
# checkout), install them with dpkg -i into the system PostgreSQL tree, run
# debian/tests/extension (a throw-away cluster per version: CREATE EXTENSION of the
# previous version, ALTER EXTENSION ... UPDATE, DROP EXTENSION), purge them and check
# that nothing of pg_hygiene is left in the tree.  Also checks `make dist` (PGXN zip).
#
#   bash scripts/package-test.sh        as root (dpkg -i); installs dpkg-dev, debhelper,
#                                       build-essential, postgresql-server-dev-all when missing
#
# The system tree is shared with `make install` of scripts/test.sh: this script takes
# the same lock (per pg_config path), moves a source install of pg_hygiene aside while
# the package is installed and puts it back afterwards, so the tree ends as it began.
# Refuses to run when a postgresql-NN-pg-hygiene package is already installed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ "$(id -u)" -eq 0 ] || die "the package test needs root (dpkg -i, dpkg --purge)"

fail() { printf 'not ok: %s\n' "$*" >&2; exit 1; }
ok() { printf 'ok: %s\n' "$*"; }

# dpkg, waiting up to a minute for the dpkg lock (an apt-get of another job); output in
# $TMP/dpkg.log.
dpkg_waiting()
{
	local i
	for i in $(seq 30); do
		dpkg "$@" >"$TMP/dpkg.log" 2>&1 && return 0
		grep -qi 'lock' "$TMP/dpkg.log" || return 1
		sleep 2
	done
	return 1
}

# Build tools: the build dependencies of debian/control (dpkg-checkbuilddeps also wants
# build-essential) and pg_virtualenv (postgresql-common).
want=()
for p in dpkg-dev debhelper build-essential postgresql-server-dev-all postgresql-common; do
	[ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
	say "installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=120 update -qq >/dev/null
	apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

TMP=$(mktemp -d /tmp/pg_hygiene-package.XXXXXX)
VERSION=$(sed -n "s/^default_version *= *'\([0-9]*\.[0-9]*\)'.*/\1.0/p" "$TOP/pg_hygiene.control")
SRC=$TMP/pg-hygiene-$VERSION
STASH=$TMP/stash.tar
INSTALLED=()
STASHED=0

cleanup()
{
	local rc=$?
	set +e
	for p in "${INSTALLED[@]}"; do
		[ -n "$p" ] && dpkg_waiting --purge "$p"
	done
	[ "$STASHED" -eq 1 ] && tar -C / -xf "$STASH"
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT

# A copy of the checkout without build and test output (the tracked and untracked,
# non-ignored files when it is a git work tree).
mkdir -p "$SRC"
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -z -co --exclude-standard) | tar -C "$TOP" --null -T - -cf - |
		tar -C "$SRC" -xf -
else
	tar -C "$TOP" --exclude=./.git --exclude='./tmp_check*' --exclude='./build-*' \
		--exclude=./.demo --exclude=./results --exclude=./output_iso --exclude=./log \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$SRC" -xf -
fi

# The PostgreSQL versions of debian/pgversions that this Debian release supports; none
# (say a Debian release whose PostgreSQL is not yet in debian/pgversions): skipped, exit 77.
versions=$(cd "$SRC" && pg_buildext supported-versions 2>/dev/null | sort -u)
if [ -z "$versions" ]; then
	echo "skipped: no PostgreSQL version of debian/pgversions ($(grep -v '^#' "$SRC/debian/pgversions" | xargs)) is supported here ($(/usr/share/postgresql-common/supported-versions | xargs))"
	exit 77
fi
for v in $versions; do
	[ -x "/usr/lib/postgresql/$v/bin/postgres" ] || fail "PostgreSQL $v (postgresql-$v) is not installed"
done

# debian/control lists the PostgreSQL versions of debian/pgversions that this Debian
# release supports: regenerate it for this machine.
say "building the Debian packages (dpkg-buildpackage -us -uc -b)"
(cd "$SRC" && PG_UPDATECONTROL=yes pg_buildext updatecontrol >/dev/null)
(cd "$SRC" && dpkg-checkbuilddeps) || fail "build dependencies missing (dpkg-checkbuilddeps)"
if ! (cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1; then
	tail -40 "$TMP/build.log"
	fail "dpkg-buildpackage failed"
fi
if grep -iE 'warning:' "$TMP/build.log"; then
	fail "the package build printed warnings"
fi
ok "dpkg-buildpackage built $(cd "$TMP" && echo *.deb)"

debs=()
for deb in "$TMP"/postgresql-*-pg-hygiene_*.deb; do
	[ -f "$deb" ] && debs+=("$deb")
done
[ ${#debs[@]} -gt 0 ] || fail "no postgresql-NN-pg-hygiene package was built"

# One lock per PostgreSQL tree, the one scripts/test.sh takes for that pg_config (it
# passes the lock it already holds in PG_HYGIENE_TEST_LOCK).
fd=20
for deb in "${debs[@]}"; do
	pkg=$(dpkg-deb -f "$deb" Package)
	v=${pkg#postgresql-}
	v=${v%-pg-hygiene}
	lock="/tmp/pg_hygiene-test.$(printf '%s' "/usr/lib/postgresql/$v/bin/pg_config" | cksum | cut -d' ' -f1).lock"
	if [ "$lock" != "${PG_HYGIENE_TEST_LOCK:-}" ]; then
		eval "exec $fd>\"\$lock\""
		flock "$fd"
		fd=$((fd + 1))
	fi
	status=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = not-installed ] || [ -z "$status" ] ||
		fail "$pkg is already installed ($status); the test would remove it: run it elsewhere"
done

# Files of pg_hygiene in the PostgreSQL trees the packages write.
tree_files()
{
	local deb v
	for deb in "${debs[@]}"; do
		v=$(dpkg-deb -f "$deb" Package | sed 's/^postgresql-\(.*\)-pg-hygiene$/\1/')
		find "/usr/lib/postgresql/$v/lib" "/usr/share/postgresql/$v/extension" \
			"/usr/share/doc/postgresql-doc-$v/extension" \
			-maxdepth 2 -name 'pg_hygiene*' 2>/dev/null || true
	done | sort -u
}

# A source install (make install) is not owned by any package: move it aside.
mapfile -t before < <(tree_files)
if [ ${#before[@]} -gt 0 ]; then
	say "moving a source install aside (${#before[@]} paths)"
	tar -C / -cf "$STASH" "${before[@]#/}"
	STASHED=1
	rm -rf "${before[@]}"
fi

say "installing ${debs[*]##*/}"
for deb in "${debs[@]}"; do
	INSTALLED+=("$(dpkg-deb -f "$deb" Package)")
done
dpkg_waiting -i "${debs[@]}" || { cat "$TMP/dpkg.log"; fail "dpkg -i failed"; }
for p in "${INSTALLED[@]}"; do
	[ "$(dpkg-query -W -f '${db:Status-Status}' "$p")" = installed ] || fail "$p is not installed"
	ok "dpkg -i $p"
done

(cd "$SRC" && sh debian/tests/extension) || fail "debian/tests/extension failed"

for p in "${INSTALLED[@]}"; do
	mapfile -t files < <(dpkg -L "$p" | grep -E '/(pg_hygiene|postgresql-[0-9]+-pg-hygiene)')
	dpkg_waiting --purge "$p" || { cat "$TMP/dpkg.log"; fail "dpkg --purge $p failed"; }
	INSTALLED=("${INSTALLED[@]/$p/}")
	for f in "${files[@]}"; do
		[ ! -e "$f" ] || fail "dpkg --purge $p left $f"
	done
	ok "dpkg --purge $p removed its ${#files[@]} paths"
done
left=$(tree_files)
[ -z "$left" ] || fail "left in the PostgreSQL tree after the purge: $left"
ok "nothing of pg_hygiene is left in the PostgreSQL tree"

if [ "$STASHED" -eq 1 ]; then
	tar -C / -xf "$STASH"
	STASHED=0
	ok "the source install is back in place"
fi

# PGXN: make dist gives pg_hygiene-X.Y.Z.zip with META.json at its root.
if git -C "$TOP" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	mkdir -p "$TMP/dist"
	make -s -C "$TMP/dist" -f "$TOP/Makefile" PG_CONFIG="/usr/lib/postgresql/$v/bin/pg_config" \
		dist >"$TMP/dist.log" 2>&1 || { cat "$TMP/dist.log"; fail "make dist failed"; }
	zip=$TMP/dist/pg_hygiene-$VERSION.zip
	[ -f "$zip" ] || fail "make dist made no pg_hygiene-$VERSION.zip"
	for f in META.json LICENSE pg_hygiene.control Makefile; do
		python3 -c 'import sys, zipfile; sys.exit(sys.argv[2] not in zipfile.ZipFile(sys.argv[1]).namelist())' \
			"$zip" "pg_hygiene-$VERSION/$f" || fail "$f is not at the root of $zip"
	done
	ok "make dist: pg_hygiene-$VERSION.zip has META.json, LICENSE, the control file and the Makefile at its root"
fi

echo "package test passed"
