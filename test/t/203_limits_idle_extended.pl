# Timeout ceilings through the extended query protocol (finding L3): a set_config()
# made by a Parse/Bind/Execute inside a transaction block is clamped before the
# session goes idle, although the statement's portal stays open (no ExecutorEnd)
# until the next Bind or the end of the transaction.  pgbench -M extended sends every
# statement that way.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('idle_ext');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE lim_idle LOGIN;
ALTER ROLE lim_idle SET pg_hygiene.idle_in_transaction_timeout_max = '1s';
});

my $script = $node->basedir . '/idle.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{BEGIN;
SELECT set_config('idle_in_transaction_session_timeout', '0', false);
\sleep 3 s
SELECT 1;
COMMIT;
});

foreach my $mode (qw(simple extended))
{
	my ($stdout, $stderr);
	my $start = time();
	my $ok = IPC::Run::run(
		[ 'pgbench', '-n', '-M', $mode, '-t', '1', '-f', $script,
		  '-U', 'lim_idle', '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$stdout, '2>', \$stderr);
	ok(!$ok, "$mode protocol: the transaction idle for 3 s under a 1 s ceiling fails");
	like($stderr, qr/idle-in-transaction timeout|closed the connection/,
		"$mode protocol: ended by the idle-in-transaction timeout");
}

# Without the ceiling the same script runs (the test is not failing for another reason).
$node->safe_psql('postgres', q{ALTER ROLE lim_idle RESET ALL;});
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[ 'pgbench', '-n', '-M', 'extended', '-t', '1', '-f', $script,
	  '-U', 'lim_idle', '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'without a ceiling the script runs') or diag($stderr);

$node->stop;
done_testing();
