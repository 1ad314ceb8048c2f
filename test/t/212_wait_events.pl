# The waits a statement is put in show in pg_stat_activity (O26). From PostgreSQL 17 each
# has its own custom wait event name (PgHygieneActiveSlot, PgHygieneRateToken,
# PgHygieneWalBudget, PgHygieneRuleToken, PgHygieneRuleSlot, PgHygieneLauncher); on 15
# every extension's wait is wait_event 'Extension'.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('wait_events');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.advice_sample_interval = 0
});
$node->start;
my $v17 = $node->safe_psql('postgres', 'SHOW server_version_num') >= 170000;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE we_slot LOGIN;
ALTER ROLE we_slot SET pg_hygiene.max_active_statements = 1;
ALTER ROLE we_slot SET pg_hygiene.queue_timeout = '20s';
CREATE ROLE we_rate LOGIN;
ALTER ROLE we_rate SET pg_hygiene.max_statements_per_second = 1;
ALTER ROLE we_rate SET pg_hygiene.queue_timeout = '20s';
});

# Run the statements @sql as $role in the background, each on its own.
sub bg
{
	my ($role, @sql) = @_;
	my ($out, $err) = ('', '');
	return IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-U', $role,
		  map { ('-c', $_) } @sql ],
		'>', \$out, '2>', \$err);
}

# The wait event of a statement of $role that waits (not the one running pg_sleep).
sub wait_event_of
{
	my ($role) = @_;
	my $sql = qq{SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity
		WHERE usename = '$role' AND query NOT LIKE '%pg_sleep%' AND wait_event IS NOT NULL
		  AND state = 'active'};
	my $ev = '';
	for (1 .. 100)
	{
		$ev = $node->safe_psql('postgres', $sql);
		last if $ev ne '';
		select(undef, undef, undef, 0.1);
	}
	return $ev;
}

# A statement queued for its role's slot.
my $holder = bg('we_slot', 'SELECT pg_sleep(3)');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = 'we_slot' AND query LIKE '%pg_sleep%'")
  or die;
my $queued = bg('we_slot', 'SELECT 1');
is(wait_event_of('we_slot'), $v17 ? 'Extension/PgHygieneActiveSlot' : 'Extension/Extension',
	'a statement queued for a slot');
$_->finish for $holder, $queued;

# A statement waiting for a rate token: the bucket holds one token, the second
# statement waits about a second for the next.
my $rate = bg('we_rate', 'SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4');
is(wait_event_of('we_rate'), $v17 ? 'Extension/PgHygieneRateToken' : 'Extension/Extension',
	'a statement waiting for a rate token');
$rate->finish;

# The advice launcher between rounds.
my $launcher = '';
for (1 .. 50)
{
	$launcher = $node->safe_psql('postgres',
		"SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE backend_type = 'pg_hygiene advice launcher'");
	last if $launcher ne '';
	select(undef, undef, undef, 0.1);
}
is($launcher, $v17 ? 'Extension/PgHygieneLauncher' : 'Extension/Extension', 'the advice launcher');

$node->stop;
done_testing();
