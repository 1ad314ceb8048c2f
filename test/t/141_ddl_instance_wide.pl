# DDL guard instance-wide: with pg_hygiene.ddl_guard = enforce in postgresql.conf,
# every kind of table rewrite is refused in a database without CREATE EXTENSION
# exactly as (same message, detail and hint) in a database with it; the safe
# neighbours pass in both; and once the library is removed from
# shared_preload_libraries (extension still installed, server restarted), ALTER
# TABLE works again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my ($ret, $stdout, $stderr);

my $node = PostgreSQL::Test::Cluster->new('ddl_wide');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.ddl_guard = enforce
pg_hygiene.ddl_small_table_size = '16kB'
allow_in_place_tablespaces = on
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE with_ext');
$node->safe_psql('postgres', 'CREATE DATABASE without_ext');
$node->safe_psql('with_ext', 'CREATE EXTENSION pg_hygiene');
$node->safe_psql('postgres', "CREATE TABLESPACE wide_space LOCATION ''");

# The same tables in both databases, created with the guard off for the session.
my $setup = q{
SET pg_hygiene.ddl_guard = off;
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE big (id int, v varchar(10), n int, t text);
CREATE INDEX big_n ON big (n);
INSERT INTO big SELECT g, 'x', g, 'row ' || g FROM generate_series(1, 3000) g;
CREATE UNLOGGED TABLE big_unlogged AS SELECT * FROM big;
CREATE TABLE parted (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100000);
INSERT INTO parted SELECT g, g FROM generate_series(1, 3000) g;
CREATE MATERIALIZED VIEW mv AS SELECT g, 'row ' || g AS t FROM generate_series(1, 3000) g;
CREATE TABLE empty_t (id int, n int);
};
$node->safe_psql($_, $setup) for qw(with_ext without_ext);

# Every rewrite kind: ALTER TABLE / ALTER TYPE forms (the object access hook),
# VACUUM FULL, CLUSTER, REFRESH and SET TABLESPACE (ProcessUtility).
my @rewrites = (
	'ALTER TABLE big ALTER COLUMN id TYPE bigint',
	'ALTER TABLE big ALTER COLUMN v TYPE varchar(5)',
	'ALTER TABLE big ALTER COLUMN n TYPE text USING n::text',
	'ALTER TABLE big ADD COLUMN r float8 DEFAULT random()',
	'ALTER TABLE big ADD COLUMN i bigint GENERATED ALWAYS AS IDENTITY',
	'ALTER TABLE big ADD COLUMN g int GENERATED ALWAYS AS (n * 2) STORED',
	'ALTER TABLE big ADD COLUMN d posint DEFAULT 1',
	'ALTER TABLE big ADD COLUMN s serial',
	'ALTER TABLE big ADD COLUMN s bigserial',
	'ALTER TABLE big SET UNLOGGED',
	'ALTER TABLE big_unlogged SET LOGGED',
	'ALTER TABLE parted ALTER COLUMN v TYPE bigint',
	'VACUUM FULL big',
	'CLUSTER big USING big_n',
	'REFRESH MATERIALIZED VIEW mv',
	'ALTER TABLE big SET TABLESPACE wide_space',
);

# Safe neighbours: metadata-only changes, empty tables, new and temporary tables.
my @safe = (
	'ALTER TABLE big ALTER COLUMN v TYPE varchar(20)',
	'ALTER TABLE big ALTER COLUMN t TYPE text',
	'ALTER TABLE big ADD COLUMN c int DEFAULT 5',
	'ALTER TABLE big ADD COLUMN ts timestamptz DEFAULT now()',
	'ALTER TABLE big ALTER COLUMN c SET DEFAULT 7',
	'ALTER TABLE big DROP COLUMN c',
	'VACUUM big',
	'ALTER TABLE big SET ACCESS METHOD heap',
	'ALTER TABLE big SET TABLESPACE pg_default',
	'ALTER TABLE empty_t ALTER COLUMN id TYPE bigint',
	'ALTER TABLE empty_t ADD COLUMN r float8 DEFAULT random()',
	'ALTER TABLE empty_t SET UNLOGGED',
	'VACUUM FULL empty_t',
	'ALTER TABLE empty_t SET TABLESPACE wide_space',
	'BEGIN; CREATE TABLE fresh AS SELECT g AS id FROM generate_series(1, 3000) g; ALTER TABLE fresh ALTER COLUMN id TYPE bigint; ROLLBACK',
	'CREATE TEMP TABLE tmp AS SELECT g AS id FROM generate_series(1, 3000) g; ALTER TABLE tmp ALTER COLUMN id TYPE bigint; VACUUM FULL tmp',
);

for my $sql (@rewrites)
{
	my %err;
	for my $db (qw(with_ext without_ext))
	{
		my ($ret, $stdout, $stderr) =
		  $node->psql($db, "\\set VERBOSITY verbose\n$sql");
		isnt($ret, 0, "$db: refused: $sql");
		like($stderr, qr/ERROR:  PHD01: pg_hygiene: ddl guard rule "table_rewrite"/,
			"$db: by rule table_rewrite: $sql");
		$stderr =~ s/^LOCATION:.*\n//mg;
		$err{$db} = $stderr;
	}
	is($err{without_ext}, $err{with_ext},
		"same message, detail and hint with and without the extension: $sql");
	like($err{without_ext}, qr/HINT:  \S/, "with a hint: $sql");
}

for my $sql (@safe)
{
	for my $db (qw(with_ext without_ext))
	{
		my ($ret, $stdout, $stderr) = $node->psql($db, $sql);
		is($ret, 0, "$db: passes: $sql");
		unlike($stderr, qr/ddl guard/, "$db: no guard message: $sql");
	}
}

# Nothing was rewritten: the column types are unchanged.
for my $db (qw(with_ext without_ext))
{
	is($node->safe_psql($db,
			"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'id'"),
		'integer', "$db: big.id still integer");
	is($node->safe_psql($db, "SELECT relpersistence FROM pg_class WHERE relname = 'big'"),
		'p', "$db: big still logged");
}

# The blocks were recorded in the shared ring, for both databases.
is($node->safe_psql('with_ext',
		"SELECT count(DISTINCT datname) FROM hygiene.ddl_events WHERE action = 'block' AND rule = 'table_rewrite'"),
	'2', 'events of both databases recorded');

# The extension no longer depends on an event trigger.
is($node->safe_psql('with_ext',
		"SELECT count(*) FROM pg_event_trigger WHERE evtname = 'hygiene_ddl_table_rewrite'"),
	'0', 'no table_rewrite event trigger');

# A block caught by an exception block never reaches the log as an ERROR: it is
# logged as LOG, so the log keeps every event that the bounded ring may lose (with
# every rejection logged: by default the LOG line is rate-limited with the ERRORs of its
# rule and role, and counted, see docs/logging.md).
my $log_offset = -s $node->logfile;
$node->safe_psql('without_ext', q{
SET pg_hygiene.log_rejections_per_second = -1;
DO $$ BEGIN
  ALTER TABLE big ALTER COLUMN id TYPE bigint;
EXCEPTION WHEN others THEN NULL;
END $$});
like(slurp_file($node->logfile, $log_offset),
	qr/LOG:  pg_hygiene: ddl guard rule "table_rewrite" blocked a statement inside a subtransaction: ALTER TABLE rewrites "public.big"/,
	'a caught block is in the server log');

# ddl_timeout: the lock-wait error names the table and who held the lock, also in a
# database without the extension.
my $holder = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('without_ext'), '-c',
	  'BEGIN; SELECT count(*) FROM big; SELECT pg_sleep(30); COMMIT;' ],
	'>', \my $hout, '2>', \my $herr);
$node->poll_query_until('without_ext',
	"SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.relation = 'big'::regclass AND a.query LIKE '%pg_sleep(30)%'")
  or die 'holder did not start';
my $holder_pid = $node->safe_psql('without_ext',
	"SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()");
($ret, $stdout, $stderr) = $node->psql('without_ext',
	"SET pg_hygiene.ddl_lock_timeout = '300ms'; ALTER TABLE big ADD COLUMN x int");
like($stderr, qr/ERROR:  pg_hygiene: ddl guard rule "ddl_timeout": gave up waiting for a lock on "public.big" after pg_hygiene.ddl_lock_timeout \(300 ms\)/,
	'lock wait error names the table');
like($stderr, qr/DETAIL:  The AccessExclusiveLock it asked for was held by pid $holder_pid \(role \w+, active: BEGIN; SELECT count\(\*\) FROM big; SELECT pg_sleep\(30\); COMMIT;\)/,
	'and the holder: pid, role, state and query');
$node->safe_psql('without_ext', "SELECT pg_terminate_backend($holder_pid)");
$holder->finish;

# Library removed from the preload list, extension still installed: ALTER TABLE works.
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
($ret, $stdout, $stderr) = $node->psql('with_ext',
	'ALTER TABLE big ALTER COLUMN id TYPE bigint; ALTER TABLE big ADD COLUMN r float8 DEFAULT random(); ALTER TABLE big SET UNLOGGED');
is($ret, 0, 'without the library, rewriting ALTER TABLE works in the database with the extension');
is($stderr, '', 'with no message');
is($node->safe_psql('with_ext',
		"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attname = 'id'"),
	'bigint', 'and the column was changed');

$node->stop;
done_testing();
