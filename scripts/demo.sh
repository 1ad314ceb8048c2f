#!/usr/bin/env bash
# Build and install pg_hygiene, start a throwaway PostgreSQL server with it preloaded,
# create the extension and show it working.  The server keeps running afterwards; the
# script prints how to connect and how to stop it.
#
#   bash scripts/demo.sh          (port: $PGPORT or 5499)
#   bash scripts/demo.sh stop     stop the server and remove its directory; if the demo
#                                 was what installed pg_hygiene into the PostgreSQL tree,
#                                 also "make uninstall" and "make clean" (packages it
#                                 installed with apt-get stay)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT=${PGPORT:-5499}
pick_server_user

# The data directory lives in the checkout when the server user can reach it there
# (a checkout under /root is not reachable by "postgres"), else under /tmp.
DEMO=$TOP/.demo
if [ "$(id -u)" -eq 0 ] && ! su "$RUN_AS" -s /bin/sh -c "test -x '$TOP'"; then
	DEMO=/tmp/pg_hygiene-demo
fi

stop_demo()
{
	if [ -f "$DEMO/data/postmaster.pid" ]; then
		as_server_user "pg_ctl -D '$DEMO/data' -m fast stop" >/dev/null || true
	fi
}

# Run make as build_and_install does: directly when the tree is writable, else with sudo.
make_as_installer()
{
	if [ -w "$($PG_CONFIG --pkglibdir)" ] && [ -w "$($PG_CONFIG --sharedir)/extension" ]; then
		make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" "$@" >/dev/null
	else
		sudo -n make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" "$@" >/dev/null
	fi
}

if [ "${1:-}" = stop ]; then
	stop_demo
	installed_by_demo=no
	[ -f "$DEMO/installed-by-demo" ] && installed_by_demo=yes
	rm -rf "$DEMO"
	say "demo server stopped and $DEMO removed"
	if [ "$installed_by_demo" = yes ]; then
		make_as_installer uninstall
		make -C "$TOP" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
		say "pg_hygiene removed from $($PG_CONFIG --pkglibdir) and $($PG_CONFIG --sharedir)/extension (make uninstall), build outputs removed (make clean)"
	else
		say "pg_hygiene was installed before the demo started: left installed (make uninstall removes it)"
	fi
	exit 0
fi

ensure_packages
# Was pg_hygiene installed before?  Then "stop" leaves the installation alone.
preinstalled=no
[ -f "$($PG_CONFIG --pkglibdir)/pg_hygiene.so" ] && preinstalled=yes
[ -f "$DEMO/installed-by-demo" ] && preinstalled=no	# a demo run before this one
build_and_install

stop_demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
[ "$preinstalled" = no ] && echo "make install of $TOP by scripts/demo.sh" >"$DEMO/installed-by-demo"
chown "$RUN_AS": "$DEMO" 2>/dev/null || true

say "starting a throwaway server in $DEMO/data on port $PORT (as $RUN_AS)"
as_server_user "initdb -D '$DEMO/data' -U postgres --auth=trust >'$DEMO/initdb.log' 2>&1"
cat >>"$DEMO/data/postgresql.conf" <<CONF
# pg_hygiene demo
shared_preload_libraries = 'pg_hygiene'
compute_query_id = on
listen_addresses = ''
unix_socket_directories = '$DEMO'
port = $PORT
CONF
as_server_user "pg_ctl -D '$DEMO/data' -l '$DEMO/server.log' -w start" >/dev/null

PSQL=("$PG_BINDIR/psql" -X -h "$DEMO" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
"${PSQL[@]}" -q -c 'CREATE EXTENSION pg_hygiene'
# One short scene per feature, in order: scripts/demo/NN-topic.sql.
for scene in "$TOP"/scripts/demo/*.sql; do
	say "demo: $(basename "$scene" .sql)"
	"${PSQL[@]}" -e -f "$scene"
done

cat <<MSG

The demo server is running with pg_hygiene preloaded.
  connect:  $PG_BINDIR/psql -h $DEMO -p $PORT -U postgres postgres
  log:      $DEMO/server.log
  stop:     bash scripts/demo.sh stop$( [ "$preinstalled" = no ] && echo ' (also uninstalls pg_hygiene and removes the build outputs)')
MSG
