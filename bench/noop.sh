#!/usr/bin/env bash
# No-op UPDATE suppression benchmark: stock behaviour (pg_hygiene.noop_updates = off),
# the built-in suppress_redundant_updates_trigger, lock and auto, side by side in ONE
# run on the same data, alternating, on a throwaway server (port ${PORT:-5540}).
#
#   bash bench/noop.sh                  (as root or as a user with PostgreSQL 15)
#   ROUNDS=3 SECS=10 ROWS=100000 bash bench/noop.sh
#
# Prints, per variant (medians over ROUNDS alternating rounds):
#   1. WAL bytes per no-op row of a ROWS-row "UPDATE ... SET a = a + 0", right after a
#      CHECKPOINT and again in steady state (the same statement run a second time);
#   2. dead tuples (pgstattuple) and index growth after those ROWS no-op row updates;
#   1b. WAL bytes per row of a ROWS-row UPDATE that changes every row (decide before
#      locking: lock must cost what stock costs, the built-in trigger adds a lock);
#   3. TPS of a pgbench script of UPDATEs by primary key, 90% of them no-ops;
#   4. pgbench TPC-B-like (nothing is a no-op): TPS and WAL per transaction, lock vs off
#      (full_page_writes = off for this part, so that WAL per transaction is the
#      steady-state figure and not dominated by full-page images after a checkpoint).
# "stock" is the same server with pg_hygiene.noop_updates = off: the hook then returns
# before doing anything, which is the stock executor path.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

PORT=${PORT:-5540}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-10}
ROWS=${ROWS:-100000}
CLIENTS=${CLIENTS:-2}

ensure_packages
build_and_install
pick_server_user

DIR=$(mktemp -d /tmp/pg_hygiene-bench-noop.XXXXXX)
chown "$RUN_AS": "$DIR" 2>/dev/null || true
cleanup() { as_server_user "pg_ctl -D '$DIR/data' -m fast stop >/dev/null 2>&1" || true; rm -rf "$DIR"; }
trap cleanup EXIT

as_server_user "initdb -D '$DIR/data' >/dev/null 2>&1"
cat >>"$DIR/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_hygiene'
port = $PORT
unix_socket_directories = '$DIR'
listen_addresses = ''
shared_buffers = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum = off
CONF
as_server_user "pg_ctl -D '$DIR/data' -l '$DIR/log' -w start >/dev/null"

psqlc() { as_server_user "PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -h '$DIR' -p $PORT -d postgres -v ON_ERROR_STOP=1 -c \"$1\""; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4g\n", (a[NR/2]+a[NR/2+1])/2}'; }

psqlc "CREATE EXTENSION pg_hygiene; CREATE EXTENSION pgstattuple;"
psqlc "CREATE TABLE tmpl AS SELECT g AS id, g AS a, g % 1000 AS b, repeat('x', 60) AS filler FROM generate_series(1, $ROWS) g;"

VARIANTS="stock trigger lock auto"
PARTS=${PARTS:-"1 1b 3 4"}
want() { case " $PARTS " in *" $1 "*) return 0;; *) return 1;; esac; }
mode_of() { case $1 in stock|trigger) echo off;; *) echo "$1";; esac; }

# Fresh copy of the same data for one variant.
make_table()
{
	local v=$1
	psqlc "DROP TABLE IF EXISTS nb_$v; CREATE TABLE nb_$v (id int PRIMARY KEY, a int, b int, filler text);
	       INSERT INTO nb_$v SELECT * FROM tmpl ORDER BY id; CREATE INDEX ON nb_$v (b);"
	psqlc "VACUUM (FREEZE, ANALYZE) nb_$v"
	if [ "$v" = trigger ]; then
		psqlc "CREATE TRIGGER z_suppress BEFORE UPDATE ON nb_$v FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();"
	fi
}

# WAL bytes written by one statement, under a mode.
wal_of()
{
	local mode=$1 sql=$2
	as_server_user "PGOPTIONS='-c pg_hygiene.noop_updates=$mode' psql -X -q -A -t -h '$DIR' -p $PORT -d postgres -v ON_ERROR_STOP=1" <<SQL
SELECT pg_current_wal_lsn() AS l0 \gset
$sql;
SELECT pg_current_wal_lsn() - :'l0';
SQL
}

declare -A WAL_CKPT WAL_STEADY DEAD IDXGROW TPS90
if want 1; then
echo "==> 1-2: $ROWS-row no-op UPDATE, $ROUNDS rounds, variants alternate"
for r in $(seq 1 "$ROUNDS"); do
	# rotate the order every round
	order=$(echo $VARIANTS | tr ' ' '\n' | awk -v r="$r" '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r-1)%NR+1]}')
	for v in $order; do
		make_table "$v"
		idx0=$(psqlc "SELECT pg_relation_size('nb_${v}_pkey') + pg_relation_size('nb_${v}_b_idx')")
		psqlc "CHECKPOINT"
		w1=$(wal_of "$(mode_of "$v")" "UPDATE nb_$v SET a = a + 0")
		dead=$(psqlc "SELECT dead_tuple_count FROM pgstattuple('nb_$v')")
		idx1=$(psqlc "SELECT pg_relation_size('nb_${v}_pkey') + pg_relation_size('nb_${v}_b_idx')")
		w2=$(wal_of "$(mode_of "$v")" "UPDATE nb_$v SET a = a + 0")
		WAL_CKPT[$v]+="$(awk -v w="$w1" -v n="$ROWS" 'BEGIN {printf "%.2f", w/n}') "
		WAL_STEADY[$v]+="$(awk -v w="$w2" -v n="$ROWS" 'BEGIN {printf "%.2f", w/n}') "
		DEAD[$v]+="$dead "
		IDXGROW[$v]+="$((idx1 - idx0)) "
		psqlc "DROP TABLE nb_$v"
	done
done
printf '%-8s %18s %18s %12s %16s\n' variant "WAL B/row (ckpt)" "WAL B/row (steady)" "dead tuples" "index growth B"
for v in $VARIANTS; do
	printf '%-8s %18s %18s %12s %16s\n' "$v" \
		"$(echo ${WAL_CKPT[$v]} | tr ' ' '\n' | median)" \
		"$(echo ${WAL_STEADY[$v]} | tr ' ' '\n' | median)" \
		"$(echo ${DEAD[$v]} | tr ' ' '\n' | median)" \
		"$(echo ${IDXGROW[$v]} | tr ' ' '\n' | median)"
	echo "   rounds: ckpt [${WAL_CKPT[$v]}] steady [${WAL_STEADY[$v]}] dead [${DEAD[$v]}] idx [${IDXGROW[$v]}]"
done

fi

if want 1b; then
echo "==> 1b: $ROWS-row UPDATE that changes every row (a = a + 1), WAL B/row, $ROUNDS rounds"
# Pages are written once after the checkpoint (SELECT ... FOR UPDATE) so that the
# figure is the steady-state one, without full-page images.
declare -A WAL_REAL
for r in $(seq 1 "$ROUNDS"); do
	order=$(echo $VARIANTS | tr ' ' '\n' | awk -v r="$r" '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r-1)%NR+1]}')
	for v in $order; do
		make_table "$v"
		psqlc "CHECKPOINT"
		psqlc "SELECT count(*) FROM (SELECT 1 FROM nb_$v FOR UPDATE) s" >/dev/null
		w=$(wal_of "$(mode_of "$v")" "UPDATE nb_$v SET a = a + 1")
		WAL_REAL[$v]+="$(awk -v w="$w" -v n="$ROWS" 'BEGIN {printf "%.2f", w/n}') "
		psqlc "DROP TABLE nb_$v"
	done
done
for v in $VARIANTS; do
	printf '%-8s %10s B/row   [%s]\n' "$v" "$(echo ${WAL_REAL[$v]} | tr ' ' '\n' | median)" "${WAL_REAL[$v]}"
done

fi

if want 3; then
echo "==> 3: pgbench, UPDATE by primary key, 90% no-ops, $CLIENTS clients, ${SECS}s x $ROUNDS rounds"
for v in $VARIANTS; do
	make_table "$v"
	cat >"$DIR/upd_$v.sql" <<SQL
\set id random(1, $ROWS)
\set r random(1, 10)
UPDATE nb_$v SET a = a + :r / 10 WHERE id = :id;
SQL
	chown "$RUN_AS": "$DIR/upd_$v.sql" 2>/dev/null || true
done
for r in $(seq 1 "$ROUNDS"); do
	order=$(echo $VARIANTS | tr ' ' '\n' | awk -v r="$r" '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r-1)%NR+1]}')
	for v in $order; do
		psqlc "CHECKPOINT"
		tps=$(as_server_user "PGOPTIONS='-c pg_hygiene.noop_updates=$(mode_of "$v")' pgbench -n -h '$DIR' -p $PORT -c $CLIENTS -j $CLIENTS -T $SECS -f '$DIR/upd_$v.sql' postgres 2>&1" |
			awk '/^tps = / {printf "%.0f", $3}')
		TPS90[$v]+="$tps "
	done
done
printf '%-8s %10s %16s   %s\n' variant "TPS" "ratio to stock" "rounds"
for v in $VARIANTS; do
	ratio=$(paste <(echo ${TPS90[$v]} | tr ' ' '\n') <(echo ${TPS90[stock]} | tr ' ' '\n') |
		awk '{printf "%.3f\n", $1/$2}' | median)
	printf '%-8s %10s %16s   [%s]\n' "$v" "$(echo ${TPS90[$v]} | tr ' ' '\n' | median)" "$ratio" "${TPS90[$v]}"
done
echo "(ratio: median over rounds of the variant's TPS / stock's TPS in the same round)"

fi

if want 4; then
TPCB_ROUNDS=${TPCB_ROUNDS:-6}
echo "==> 4: pgbench TPC-B-like (scale 10, no no-ops), off vs lock, $CLIENTS clients, ${SECS}s x $TPCB_ROUNDS rounds"
as_server_user "pgbench -i -q -s 10 -h '$DIR' -p $PORT postgres >/dev/null 2>&1"
# Steady state: no full-page images (a few seconds after a checkpoint would be all FPIs).
psqlc "ALTER SYSTEM SET full_page_writes = off"
psqlc "SELECT pg_reload_conf()" >/dev/null
sleep 1
# warm-up, not measured
as_server_user "pgbench -n -h '$DIR' -p $PORT -c $CLIENTS -j $CLIENTS -T 3 postgres >/dev/null 2>&1"
declare -A TPCB_TPS TPCB_WAL
for r in $(seq 1 "$TPCB_ROUNDS"); do
	for m in $( [ $((r % 2)) -eq 1 ] && echo "off lock" || echo "lock off"); do
		l0=$(psqlc "SELECT pg_current_wal_lsn()")
		out=$(as_server_user "PGOPTIONS='-c pg_hygiene.noop_updates=$m' pgbench -n -h '$DIR' -p $PORT -c $CLIENTS -j $CLIENTS -T $SECS postgres 2>&1")
		wal=$(psqlc "SELECT pg_current_wal_lsn() - '$l0'")
		tx=$(echo "$out" | awk '/number of transactions actually processed/ {print $NF}' | cut -d/ -f1)
		tps=$(echo "$out" | awk '/^tps = / {printf "%.0f", $3}')
		TPCB_TPS[$m]+="$tps "
		TPCB_WAL[$m]+="$(awk -v w="$wal" -v n="$tx" 'BEGIN {printf "%.1f", w/n}') "
	done
done
printf '%-6s %10s %14s   %s\n' mode TPS "WAL B/tx" rounds
for m in off lock; do
	printf '%-6s %10s %14s   tps [%s] wal [%s]\n' "$m" \
		"$(echo ${TPCB_TPS[$m]} | tr ' ' '\n' | median)" \
		"$(echo ${TPCB_WAL[$m]} | tr ' ' '\n' | median)" "${TPCB_TPS[$m]}" "${TPCB_WAL[$m]}"
done
# per-round ratios (lock / off, same round) and their median
paste <(echo ${TPCB_TPS[lock]} | tr ' ' '\n') <(echo ${TPCB_TPS[off]} | tr ' ' '\n') |
	awk '{printf "%.3f\n", $1/$2}' | median | sed 's/^/TPC-B TPS ratio lock\/off (median of per-round ratios): /'
paste <(echo ${TPCB_WAL[lock]} | tr ' ' '\n') <(echo ${TPCB_WAL[off]} | tr ' ' '\n') |
	awk '{printf "%.4f\n", $1/$2}' | median | sed 's/^/TPC-B WAL per tx ratio lock\/off (median of per-round ratios): /'
fi
echo "machine: $(nproc) cores, $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC') (shared with other work)"
