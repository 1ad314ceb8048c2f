# The per-table no-op UPDATE override survives pg_dump and restore (it lives in an
# extension configuration table keyed by regclass), and is effective after restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('noop_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION pg_hygiene;
	CREATE TABLE keep_off (id int PRIMARY KEY, a int);
	CREATE TABLE keep_observe (id int PRIMARY KEY, a int);
	INSERT INTO keep_off VALUES (1, 1);
	SELECT hygiene.set_noop_updates('keep_off', 'off');
	SELECT hygiene.set_noop_updates('keep_observe', 'observe');
});

my $dump = $node->basedir . '/src.sql';
command_ok([ 'pg_dump', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump succeeds');

$node->safe_psql('postgres', 'CREATE DATABASE dst');
command_ok([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-d', $node->connstr('dst'), '-f', $dump ],
	'restore succeeds');

is($node->safe_psql('dst',
		'SELECT relid::text, mode FROM hygiene.noop_update_settings ORDER BY 1'),
	"keep_observe|observe\nkeep_off|off", 'overrides restored');

# The restored OIDs differ; the override applies to the restored table.
isnt($node->safe_psql('dst', "SELECT 'keep_off'::regclass::oid"),
	$node->safe_psql('src', "SELECT 'keep_off'::regclass::oid"), 'table got a new OID');
my $before = $node->safe_psql('dst', 'SELECT ctid FROM keep_off');
$node->safe_psql('dst', 'SET pg_hygiene.noop_updates = lock; UPDATE keep_off SET a = a + 0');
isnt($node->safe_psql('dst', 'SELECT ctid FROM keep_off'), $before,
	'override "off" is effective after restore: the no-op row was written');

# Without the override the same no-op is suppressed.
$node->safe_psql('dst', "SELECT hygiene.set_noop_updates('keep_off', NULL)");
$before = $node->safe_psql('dst', 'SELECT ctid FROM keep_off');
$node->safe_psql('dst', 'SET pg_hygiene.noop_updates = lock; UPDATE keep_off SET a = a + 0');
is($node->safe_psql('dst', 'SELECT ctid FROM keep_off'), $before,
	'after removing the override the no-op row is suppressed');

$node->stop;
done_testing();
