# A role cannot exceed its own max_active_statements with its own lock waits
# (finding L8): a queued statement is admitted past the cap when a backend waits for
# a lock it holds, but not for a backend of the same role that holds no slot (the
# role's own LOCK TABLE, which is not counted): that is no deadlock.  A slot holder
# waiting so is still answered by admission (test/specs/limits_deadlock.spec), and so
# is another role's lock wait (checked here too).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = PostgreSQL::Test::Cluster->new('own_lock');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
deadlock_timeout = 100ms
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE lim_q LOGIN;
CREATE ROLE lim_other LOGIN;
ALTER ROLE lim_q SET pg_hygiene.max_active_statements = 1;
ALTER ROLE lim_q SET pg_hygiene.queue_timeout = '20s';
CREATE TABLE lq (id int);
INSERT INTO lq VALUES (1);
GRANT ALL ON lq TO lim_q, lim_other;
});

# Run a statement in the background as a role.
sub bg
{
	my ($role, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr('postgres') . " user=$role", '-c', $sql ],
		'>', \$out, '2>', \$err);
	return [ $h, \$out, \$err ];
}

sub wait_for
{
	my ($sql, $what) = @_;
	$node->poll_query_until('postgres', $sql) or die "timed out waiting for $what";
}

foreach my $locker (qw(lim_q lim_other))
{
	$node->safe_psql('postgres', q{SELECT hygiene.reset_role_stats('lim_q')});
	my $holder = bg('lim_q', 'SELECT pg_sleep(4)');
	wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(4)' AND state = 'active'},
		'the slot holder');
	my $queued = bg('lim_q', q{SELECT 'B1', pg_sleep(0.1) FROM lq});
	wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT ''B1''%' AND wait_event IN ('Extension', 'PgHygieneActiveSlot')},
		'the queued statement');
	my $lock = bg($locker,
		q{SET lock_timeout = '2s'; BEGIN; LOCK TABLE lq IN ACCESS EXCLUSIVE MODE; COMMIT;});
	$_->[0]->finish for ($lock, $queued, $holder);
	my $over = $node->safe_psql('postgres',
		q{SELECT admitted_over_cap FROM hygiene.role_stats WHERE rolname = 'lim_q'});
	if ($locker eq 'lim_q')
	{
		is($over, '0', 'the role\'s own LOCK TABLE does not admit its queued statement past its cap');
		like(${ $lock->[2] }, qr/lock timeout/, 'the role\'s LOCK TABLE waits for its running statements');
	}
	else
	{
		is($over, '1', 'another role\'s lock wait still admits the queued statement at once');
		is(${ $lock->[2] }, '', 'and that role\'s LOCK TABLE gets its lock');
	}
}

$node->stop;
done_testing();
