# The advice views name what pins the xmin horizon: an open transaction in
# another session (its pid), then a standby's hot_standby_feedback; and they
# work on the standby without writing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.advice_sample_interval = 0
autovacuum = off
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE t (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off);
INSERT INTO t SELECT g, 0 FROM generate_series(1, 1000) g;
});

# Session 1 opens a transaction and keeps its snapshot.
my $bg = $primary->background_psql('postgres');
$bg->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$bg->query_safe('SELECT count(*) FROM t');
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
like($pid, qr/^\d+$/, 'blocker has a pid');

# Rows die after its snapshot; vacuum runs and cannot remove them.
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id <= 600');
$primary->safe_psql('postgres', 'VACUUM t');

my $adv = $primary->safe_psql('postgres',
	"SELECT rule || '|' || alter_sql || '|' || reason FROM hygiene.table_advice
	 WHERE relname = 't' AND rule = 'xmin_pinned'");
like($adv, qr/^xmin_pinned\|SELECT pg_terminate_backend\($pid\);\|/,
	'table_advice names the blocking backend and how to end it');
like($adv, qr/backend pid $pid \(user \S+, idle in transaction/,
	'the reason says who holds the horizon and in what state');
is($primary->safe_psql('postgres',
		"SELECT xmin_holder_pid, vacuum_pinned, n_dead_tup FROM hygiene.table_health WHERE relname = 't'"),
	"$pid|t|600", 'table_health carries the blocker pid and the dead rows it keeps');
is($primary->safe_psql('postgres',
		"SELECT kind || ' ' || pid FROM hygiene.xmin_holders"),
	"backend $pid", 'xmin_holders lists it');

# The blocker ends: after the next vacuum the advice is gone.
$bg->query_safe('COMMIT');
$primary->safe_psql('postgres', 'VACUUM t');
is($primary->safe_psql('postgres',
		"SELECT count(*) FROM hygiene.table_advice WHERE rule = 'xmin_pinned'"),
	'0', 'no xmin advice once the transaction ended');

# A standby with hot_standby_feedback and a long snapshot pins the primary.
$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->append_conf('postgresql.conf', qq{
hot_standby_feedback = on
wal_receiver_status_interval = 1
});
$standby->start;
$primary->wait_for_catchup($standby);

my $sbg = $standby->background_psql('postgres');
$sbg->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$sbg->query_safe('SELECT count(*) FROM t');
$primary->poll_query_until('postgres',
	'SELECT count(*) > 0 FROM pg_stat_replication WHERE backend_xmin IS NOT NULL')
  or die 'standby feedback never arrived';

$primary->safe_psql('postgres', 'DELETE FROM t WHERE id <= 800');
$primary->safe_psql('postgres', 'VACUUM t');
like($primary->safe_psql('postgres',
		"SELECT alter_sql || '|' || reason FROM hygiene.table_advice WHERE relname = 't' AND rule = 'xmin_pinned'"),
	qr/^-- on that standby: .*\|\d+ dead rows; .* ran while standby standby \(walsender pid \d+, hot_standby_feedback\) held the xmin horizon/,
	'table_advice names the standby whose feedback pins the horizon');

# The views work on the standby, and nothing there writes.
ok($standby->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_health') >= 1,
	'table_health answers on the standby');
$standby->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_advice');
$standby->safe_psql('postgres', 'SELECT count(*) FROM hygiene.database_advice');
ok($standby->safe_psql('postgres', 'SELECT tables FROM hygiene.advice_history') >= 1,
	'the standby keeps its own sample history');
$sbg->query_safe('COMMIT');
$sbg->quit;
$bg->quit;

my $log = slurp_file($standby->logfile);
unlike($log, qr/read-only transaction|cannot execute .* during recovery/,
	'no write attempted on the standby');

$standby->stop;
$primary->stop;
done_testing();
