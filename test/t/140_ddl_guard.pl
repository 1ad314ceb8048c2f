# DDL guard on a server configured like production (no test settings): the default
# warn mode reports without changing results, enforce set per database blocks with
# SQLSTATE PHD01, every event reaches the server log, the event ring starts empty
# after a restart, and a dump restores into a guarded database with the guard off.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ddl');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_hygiene');

is($node->safe_psql('postgres', 'SHOW pg_hygiene.ddl_guard'), 'warn', 'default is warn');

# CREATE TABLE draws no warning by default: new_table is opt-in.
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	'CREATE TABLE big (id int, n int); INSERT INTO big SELECT g, g FROM generate_series(1, 60000) g');
is($ret, 0, 'table created');
is($stderr, '', 'no warning for CREATE TABLE by default');

# warn: the index is built and the client is told the safe form.
($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE INDEX big_n ON big (n)');
is($ret, 0, 'warn mode: CREATE INDEX runs');
like($stderr, qr/WARNING:  pg_hygiene: ddl guard rule "index_not_concurrent"/, 'warning names the rule');
like($stderr, qr/HINT:  .*CREATE INDEX CONCURRENTLY big_n ON big \(n\)/, 'hint has the safe statement');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'big_n'"),
	'1', 'index exists');

# enforce per database: blocked with PHD01, nothing changed.
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET pg_hygiene.ddl_guard = enforce');
($ret, $stdout, $stderr) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nALTER TABLE big ALTER COLUMN id TYPE bigint");
isnt($ret, 0, 'enforce: rewrite refused');
like($stderr, qr/ERROR:  PHD01: pg_hygiene: ddl guard rule "table_rewrite"/, 'SQLSTATE PHD01');
is($node->safe_psql('postgres',
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'id'"),
	'integer', 'column type unchanged');

# an ordinary role cannot switch the guard off at connection time either
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN');
{
	local $ENV{PGOPTIONS} = '-c pg_hygiene.ddl_guard=off';
	($ret, $stdout, $stderr) = $node->psql('postgres', 'SHOW pg_hygiene.ddl_guard',
		extra_params => [ '-U', 'app' ]);
}
isnt($ret, 0, 'PGOPTIONS guard=off refused for an ordinary role');
like($stderr, qr/permission denied to set parameter "pg_hygiene.ddl_guard"/, 'with the reason');

# an override, logged
$node->safe_psql('postgres',
	"BEGIN; SELECT hygiene.allow_ddl('index_not_concurrent'); DROP INDEX big_n; COMMIT;");

is($node->safe_psql('postgres',
		"SELECT string_agg(action || ':' || rule, ',' ORDER BY event_id) FROM hygiene.ddl_events"),
	'warn:index_not_concurrent,block:table_rewrite,override:index_not_concurrent,allow:index_not_concurrent',
	'events recorded in order');

my $log = slurp_file($node->logfile);
like($log, qr/WARNING:  pg_hygiene: ddl guard rule "index_not_concurrent"/, 'warning in the server log');
like($log, qr/ERROR:  pg_hygiene: ddl guard rule "table_rewrite"/, 'block in the server log');
like($log, qr/LOG:  pg_hygiene: ddl guard override: hygiene.allow_ddl\('index_not_concurrent'\)/, 'override in the server log');
like($log, qr/LOG:  pg_hygiene: ddl guard rule "index_not_concurrent" allowed by override/, 'allowed hit in the server log');

# the ring lives in shared memory: empty after a restart
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.ddl_events'), '0',
	'events cleared by restart');

# restore a dump into a guarded database: refused as is, fine with the guard off
$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY big_n ON big (n)');
my $dump = $node->basedir . '/big.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-t', 'big', '-f', $dump ],
	'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->safe_psql('postgres', 'ALTER DATABASE restored SET pg_hygiene.ddl_guard = enforce');
($ret, $stdout, $stderr) = $node->psql('restored', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $dump ]);
isnt($ret, 0, 'restore into an enforcing database is refused');
like($stderr, qr/ddl guard rule "index_not_concurrent"/, 'by the index rule');
$node->safe_psql('postgres', 'DROP DATABASE restored');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->safe_psql('postgres', 'ALTER DATABASE restored SET pg_hygiene.ddl_guard = enforce');
{
	local $ENV{PGOPTIONS} = '-c pg_hygiene.ddl_guard=off';
	($ret, $stdout, $stderr) = $node->psql('restored', undef,
		extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', $dump ]);
}
is($ret, 0, 'restore with the guard off for the session succeeds');
is($node->safe_psql('restored', 'SELECT count(*) FROM big'), '60000', 'all rows restored');

$node->stop;
done_testing();
