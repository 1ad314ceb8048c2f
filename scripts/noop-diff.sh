#!/usr/bin/env bash
# Run the differential test of no-op UPDATE suppression (test/differential/noop_diff.py)
# for longer than CI does, on a temporary instance with pg_hygiene preloaded.
#
#   bash scripts/noop-diff.sh [noop_diff.py options]
#   bash scripts/noop-diff.sh --seed 1000 --count 2000 --keep-going
#
# Defaults: --seed 1 --count 1000 --keep-going.  Differences are printed as minimized
# psql scripts; the schema of a difference: noop_diff.py --schema-sql FLAGS.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages test
build_and_install
pick_server_user

WORK=/tmp/pg_hygiene-noop-diff.$RUN_AS
rm -rf "$WORK"
mkdir -p "$WORK"
chown "$RUN_AS": "$WORK"
PORT=${PORT:-54329}
as_server_user "initdb -D '$WORK/data' -A trust -U postgres >'$WORK/initdb.log' 2>&1"
cat >>"$WORK/data/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$WORK'
shared_preload_libraries = 'pg_hygiene'
autovacuum = off
fsync = off
max_parallel_workers_per_gather = 0
CONF
as_server_user "pg_ctl -D '$WORK/data' -l '$WORK/server.log' -w start >/dev/null"
trap 'as_server_user "pg_ctl -D '"'$WORK/data'"' -m fast stop >/dev/null"' EXIT
as_server_user "psql -X -q -h '$WORK' -p $PORT -U postgres -d postgres -c 'CREATE DATABASE noopdiff'"
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--seed 1 --count 1000 --keep-going)
as_server_user "/usr/bin/python3 '$TOP/test/differential/noop_diff.py' \
	--dsn 'host=$WORK port=$PORT dbname=noopdiff user=postgres' $(printf "'%s' " "${args[@]}")"
