#!/usr/bin/env bash
# Make a private, relocated copy of the PostgreSQL 15 server tree (binaries, share, server
# headers) under DIR, so that several checkouts can build, install and test pg_hygiene at
# once without overwriting each other's installed files.  Prints the PG_CONFIG to use:
#
#   export PG_CONFIG=$(bash scripts/private-pg.sh /work/pg-mine)
#   bash scripts/test.sh
#
# PostgreSQL finds its share directory relative to its binaries, so the copy is complete.
set -euo pipefail
DIR=${1:?usage: private-pg.sh DIR}
MAJOR=${PG_MAJOR:-15}
if [ ! -x "$DIR/usr/lib/postgresql/$MAJOR/bin/pg_config" ]; then
	[ -f "/usr/include/postgresql/$MAJOR/server/postgres.h" ] ||
		{ echo "install postgresql-server-dev-$MAJOR first" >&2; exit 1; }
	mkdir -p "$DIR/usr/lib/postgresql" "$DIR/usr/share/postgresql" "$DIR/usr/include"
	cp -a "/usr/lib/postgresql/$MAJOR" "$DIR/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$MAJOR" "$DIR/usr/share/postgresql/"
	cp -a /usr/include/postgresql "$DIR/usr/include/"
	chmod -R a+rX "$DIR"
fi
echo "$DIR/usr/lib/postgresql/$MAJOR/bin/pg_config"
