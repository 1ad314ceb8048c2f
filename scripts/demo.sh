#!/usr/bin/env bash
# Build and install pg_hygiene, start a throwaway PostgreSQL 15 server with it preloaded,
# create the extension and show it working.  The server keeps running afterwards; the
# script prints how to connect and how to stop it.
#
#   bash scripts/demo.sh          (port: $PGPORT or 5499)
#   bash scripts/demo.sh stop
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

if [ "${1:-}" = stop ]; then
	stop_demo
	rm -rf "$DEMO"
	say "demo server stopped and $DEMO removed"
	exit 0
fi

ensure_packages
build_and_install

stop_demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
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
  stop:     bash scripts/demo.sh stop
MSG
