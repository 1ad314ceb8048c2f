# A streaming hot standby loads pg_hygiene, receives the extension's objects
# through replication and never attempts a write.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION pg_hygiene');

$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres',
	'CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, 0 FROM generate_series(1, 100) g');
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
is($standby->safe_psql('postgres', 'SELECT shared_memory FROM hygiene.status'),
	't', 'library loaded and attached on the standby');
is($standby->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_hygiene'"),
	$primary->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_hygiene'"),
	'extension replicated to the standby');

# Read traffic on the standby goes through every hook.
for my $i (1 .. 20)
{
	$standby->safe_psql('postgres', "SELECT sum(v) FROM t WHERE id <= $i");
}
ok($standby->safe_psql('postgres', 'SELECT statements_seen FROM hygiene.status') >= 20,
	'standby counts its own statements');

# Nothing pg_hygiene does on a standby tries to write.
my $log = slurp_file($standby->logfile);
unlike($log, qr/read-only transaction|cannot execute .* during recovery/,
	'no write attempted on the standby');
unlike($log, qr/PANIC|server process .* was terminated/, 'no crash on the standby');

$standby->stop;
$primary->stop;
done_testing();
