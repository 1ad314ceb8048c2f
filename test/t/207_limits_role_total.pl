# A statement refused by the instance cap never raises its role's count, not even for
# a moment (finding L12): 0.2's lim_take_slot raised the role count, then failed the
# instance cap and took it back, so a concurrent statement of the same role that may
# not queue was refused with 53R01 ("too many active statements for role") although
# none of the role's statements ran.
#
# The window is a few instructions wide.  On 0.2 a statistical run (three sessions
# refused by the instance cap, one session of the same role outside it, 20 s on both
# cores) hit it once: far too rare for a test.  The developer setting
# pg_hygiene.test_slot_pause holds a raised role count for a while before the
# instance slot is taken, so the test is deterministic: with the total checked
# first, the refused statement never gets there; with 0.2's order it pauses holding
# the role's only slot, and the other statement is refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('role_total');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
});
$node->start;

# r may run one statement at a time; in database a its statements also start only
# while fewer than 2 counted statements run in the instance (a per-database
# max_active_total), and they pause in the window.  In database b they have no
# instance cap.  Two sessions of "filler" keep the instance count at 2.
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE DATABASE a;
CREATE DATABASE b;
CREATE ROLE filler LOGIN;
CREATE ROLE r LOGIN;
ALTER ROLE filler SET pg_hygiene.max_active_total = 100;
ALTER ROLE r SET pg_hygiene.max_active_statements = 1;
ALTER ROLE r SET pg_hygiene.queue_timeout = 0;
ALTER ROLE r IN DATABASE a SET pg_hygiene.max_active_total = 2;
ALTER ROLE r IN DATABASE a SET pg_hygiene.test_slot_pause = '3s';
});
is($node->safe_psql('postgres', q{SHOW pg_hygiene.test_slot_pause}), '0',
	'the developer setting is off by default');

sub bg
{
	my ($db, $role, $app, $sql, $errfile) = @_;
	my $out = '';
	my $h = IPC::Run::start(
		[
			'psql', '-X', '-At', '-d',
			$node->connstr($db) . " user=$role application_name=$app",
			'-c', $sql
		],
		'>', \$out, '2>', $errfile);
	return [ $h, \$out ];
}

my @fill = map {
	bg('postgres', 'filler', 'filler', 'SELECT pg_sleep(60)', $node->basedir . "/filler$_.err")
} 1 .. 2;
$node->poll_query_until('postgres',
	q{SELECT count(*) = 2 FROM pg_stat_activity WHERE application_name = 'filler' AND wait_event = 'PgSleep'})
  or die 'timed out waiting for the fillers';

# The refused statement: on 0.2's order it sleeps in the window (wait event
# Extension) holding r's count at 1; with the total checked first it fails at once.
my $aerr = $node->basedir . '/a.err';
my $a = bg('a', 'r', 'l12_a', 'SELECT 1', $aerr);
my $paused = 0;
for (1 .. 300)
{
	last if -s $aerr;
	if ($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'l12_a' AND wait_event_type = 'Extension'}) eq '1')
	{
		$paused = 1;
		last;
	}
	usleep(50_000);
}
note($paused ? 'the refused statement holds a raised role count' : 'the refused statement did not pause');

# Meanwhile a statement of r outside the instance cap: none of r's statements runs,
# so it must run.
my $berr = $node->basedir . '/b.err';
my $b = bg('b', 'r', 'l12_b', q{SELECT 'b ran'}, $berr);
$b->[0]->finish;
chomp(my $bout = ${ $b->[1] });
is($bout, 'b ran', 'a statement of the role outside the instance cap runs');
is(slurp_file($berr), '', 'and is not refused by the role cap');

$a->[0]->finish;
like(slurp_file($aerr), qr/too many active statements in the instance/,
	'the statement in database a is refused by the instance cap');

is($node->safe_psql('postgres',
		q{SELECT rejected_active FROM hygiene.role_stats WHERE rolname = 'r'}),
	'0', 'no role-cap rejection counted for r');

$node->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'filler'});
$_->[0]->finish for @fill;
$node->stop;
done_testing();
