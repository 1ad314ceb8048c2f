#!/usr/bin/env bash
# Run the whole pg_hygiene suite (scripts/test.sh) on another PostgreSQL major version, in a
# minimal Debian chroot, as root.
#
#   bash scripts/chroot-test.sh SUITE MAJOR [test.sh arguments]
#   bash scripts/chroot-test.sh trixie 17          # PostgreSQL 17 (Debian 13)
#   bash scripts/chroot-test.sh sid 18             # PostgreSQL 18 (Debian unstable)
#   PG_HYGIENE_CHROOT_CMD='bash bench/instructions.sh' bash scripts/chroot-test.sh sid 18
#
# The first run builds a base image (debootstrap from the Debian mirror this machine uses,
# plus postgresql-MAJOR and what the suite needs) and caches it as a tarball in
# $PG_HYGIENE_CI_CACHE (default /var/cache/pg_hygiene-ci), outside the clone; later runs
# only unpack it.  Each run unpacks a fresh copy, copies the checkout's working tree into
# it (without .git), runs the suite there and removes the copy.  The last line printed is
# that run's "N passed, M failed".  Exits like the suite.
set -euo pipefail

suite=${1:?usage: chroot-test.sh SUITE MAJOR [test.sh arguments]}
major=${2:?usage: chroot-test.sh SUITE MAJOR [test.sh arguments]}
shift 2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PG_HYGIENE_CI_CACHE:-/var/cache/pg_hygiene-ci}
base=$cache/$suite-pg$major.tar
say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "chroot-test.sh needs root (debootstrap, chroot, mounts)"
mkdir -p "$cache"

# Build the base image once; a lock keeps two runs from building it at the same time.
build_base()
{
	local b mirror pkgs rc=0
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || die "no Debian mirror configured in /etc/apt"
	command -v debootstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	b=$(mktemp -d "$cache/build.XXXXXX")
	say "building the $suite base image with PostgreSQL $major (once; cached in $base)"
	debootstrap --variant=minbase "$suite" "$b" "$mirror" >"$b.log" 2>&1 ||
		{ tail -5 "$b.log"; rm -rf "$b"; die "debootstrap $suite failed (log $b.log)"; }
	# The mirror's copy of Debian unstable can be past its Valid-Until date.
	echo 'Acquire::Check-Valid-Until "false";' >"$b/etc/apt/apt.conf.d/99no-valid-until"
	pkgs="postgresql-$major postgresql-server-dev-$major gcc make perl libipc-run-perl"
	pkgs="$pkgs python3 python3-psycopg2 python3-django ca-certificates"
	mount -t proc proc "$b/proc"
	chroot "$b" bash -c "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends $pkgs && apt-get clean" >>"$b.log" 2>&1 || rc=$?
	umount "$b/proc"
	[ $rc -eq 0 ] || { tail -5 "$b.log"; rm -rf "$b"; die "installing $pkgs in $suite failed"; }
	# Debian's postgresql-common created a cluster on install: the suite does not use it.
	chmod 755 "$b"
	tar -C "$b" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$b" "$b.log"
}

exec 8>"$base.lock"
flock 8
[ -s "$base" ] || build_base
flock -u 8

r=$(mktemp -d /tmp/pg_hygiene-chroot.XXXXXX)
cleanup()
{
	for m in dev/shm dev/pts dev sys proc; do
		mountpoint -q "$r/$m" 2>/dev/null && umount "$r/$m"
	done
	rm -rf "$r"
}
trap cleanup EXIT
tar -C "$r" -xf "$base"
chmod 755 "$r"			# mktemp made it 0700: the server user must reach /
for m in proc sys dev dev/pts; do mount --bind "/$m" "$r/$m"; done
mount -t tmpfs tmpfs "$r/dev/shm"
cp /etc/resolv.conf "$r/etc/" 2>/dev/null || true
mkdir -p "$r/root/p"
# Without build products: objects built here for another major version must not be linked.
# (tar exits 1 when a file changed while read, e.g. a build running in the checkout.)
{ tar -C "$TOP" --exclude=./.git --exclude='./tmp_check*' --exclude=./.demo \
	--exclude='*.o' --exclude='*.so' --exclude='*.bc' --warning=no-file-changed -cf - . ||
	[ $? -eq 1 ]; } | tar -C "$r/root/p" -xf -

say "running the suite on PostgreSQL $major in a $suite chroot"
cmd=${PG_HYGIENE_CHROOT_CMD:-bash scripts/test.sh}
rc=0
# PG_HYGIENE_IN_CHROOT tells .ci/run not to start further chroots from inside this one.
chroot "$r" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 PG_MAJOR="$major" PG_HYGIENE_IN_CHROOT=1 \
	bash -c "cd /root/p && $cmd $*" || rc=$?
exit $rc
