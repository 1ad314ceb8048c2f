# Without shared_preload_libraries, pg_hygiene refuses clearly and nothing crashes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->start;

my ($ret, $stdout, $stderr) =
  $node->psql('postgres', 'CREATE EXTENSION pg_hygiene');
isnt($ret, 0, 'CREATE EXTENSION fails without preload');
like($stderr, qr/pg_hygiene(:| must be loaded| the library must be loaded).*shared_preload_libraries/,
	'error names the requirement');
like($stderr, qr/HINT:.*shared_preload_libraries/, 'error carries a hint');

($ret, $stdout, $stderr) = $node->psql('postgres', "LOAD 'pg_hygiene'");
isnt($ret, 0, 'LOAD refuses');
like($stderr, qr/must be loaded via shared_preload_libraries/, 'LOAD says why');

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still serves queries');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'hygiene'"),
	'0', 'failed CREATE EXTENSION left nothing behind');

# With preload, after a restart, it installs and reports itself.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->restart;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_hygiene');
is($node->safe_psql('postgres', 'SELECT shared_memory FROM hygiene.status'),
	't', 'preloaded library attached to shared memory');

$node->stop;
done_testing();
