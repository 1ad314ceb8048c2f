# A queued statement that another backend waits for is admitted after about
# deadlock_timeout even when many other backends wait for locks (finding L13): 0.2
# looked at the first 64 backends in a lock wait only (in PGPROC order), so with 70
# backends waiting for an unrelated advisory lock, the one waiting for the queued
# statement's table lock was never seen and the invisible wait lasted until
# queue_timeout.
#
# On PostgreSQL 15 a new backend takes the free PGPROC most recently pushed, and a
# fresh instance pushes them in ascending order, so backends that connect later get
# lower numbers: the lock waiter connects first and the crowd after it, which puts the
# crowd first in 0.2's scan.  (The current code reads the whole lock table, so the
# order does not matter to it.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep time);

my $crowd = 70;
my $node = PostgreSQL::Test::Cluster->new('many_waiters');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
max_connections = 100
deadlock_timeout = 100ms
log_statement = none
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE lim_q LOGIN;
ALTER ROLE lim_q SET pg_hygiene.max_active_statements = 1;
ALTER ROLE lim_q SET pg_hygiene.queue_timeout = '60s';
CREATE TABLE lq (id int);
INSERT INTO lq VALUES (1);
GRANT SELECT ON lq TO lim_q;
});

# A psql session fed through stdin, so that it connects now and runs later.
sub session
{
	my ($role, $app) = @_;
	my %s = (in => '', out => '', err => '');
	$s{h} = IPC::Run::start(
		[
			'psql', '-X', '-At', '-d',
			$node->connstr('postgres') . " user=$role application_name=$app",
			'-f', '-'
		],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err});
	return \%s;
}

sub send_sql
{
	my ($s, $sql) = @_;
	$s->{in} .= $sql;
	$s->{h}->pump_nb;
}

sub wait_for
{
	my ($sql, $what) = @_;
	$node->poll_query_until('postgres', $sql) or die "timed out waiting for $what";
}

# 1. The backend that will wait for the queued statement's lock connects first.
my $w = session('postgres', 'l13_w');
send_sql($w, "SELECT 'w connected';\n");
wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'l13_w' AND state = 'idle'},
	'the lock waiter to connect');

# 2. The crowd: one holder of advisory lock 1 and 70 backends waiting for it.
my $holder = session('postgres', 'l13_holder');
send_sql($holder, "SELECT pg_advisory_lock(1);\n");
wait_for(q{SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND granted},
	'the advisory lock holder');
my @crowd;
for my $i (1 .. $crowd)
{
	my $c = session('postgres', 'l13_crowd');
	send_sql($c, "SELECT pg_advisory_lock(1);\n");
	push @crowd, $c;
}
wait_for(qq{SELECT count(*) = $crowd FROM pg_stat_activity WHERE application_name = 'l13_crowd' AND wait_event_type = 'Lock'},
	'the crowd of lock waiters');

# 3. lim_q's slot holder, and a statement of lim_q queued behind it that holds
# ACCESS SHARE on lq.
my $slot = session('lim_q', 'l13_slot');
send_sql($slot, "SELECT pg_sleep(30);\n");
wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'l13_slot' AND wait_event = 'PgSleep'},
	'the slot holder');
my $q = session('lim_q', 'l13_q');
send_sql($q, "SELECT 'q ran' FROM lq;\n");
wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'l13_q' AND wait_event_type = 'Extension'},
	'the queued statement');

# 4. The first backend now waits for the queued statement's lock.
my $start = time;
send_sql($w, "BEGIN;\nLOCK TABLE lq IN ACCESS EXCLUSIVE MODE;\nSELECT 'w locked';\nCOMMIT;\n");
wait_for(q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'l13_w' AND wait_event_type = 'Lock'},
	'the LOCK TABLE to wait');

# The queued statement is admitted past the cap after about deadlock_timeout (0.2:
# only at queue_timeout, 60 s, and then refused).
my $admitted = 0;
while (time - $start < 15)
{
	$q->{h}->pump_nb;
	if ($q->{out} =~ /q ran/)
	{
		$admitted = 1;
		last;
	}
	usleep(50_000);
}
my $took = time - $start;
ok($admitted, "the queued statement is admitted although $crowd other backends wait for locks")
  or diag("after ${took}s: " . $q->{err});
note(sprintf('admitted after %.1f s', $took));
is($node->safe_psql('postgres',
		q{SELECT admitted_over_cap FROM hygiene.role_stats WHERE rolname = 'lim_q'}),
	'1', 'counted as admitted over the cap');
ok($node->log_contains(qr/admitting a queued statement of role "lim_q" past its cap because process \d+ waits for a lock it holds/),
	'and logged');

# Clean up: everything else ends when the sessions are terminated.
$node->safe_psql('postgres',
	q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'l13_%'});
# Their psql sees the end of its input and exits.
$_->{h}->finish for ($w, $holder, $slot, $q, @crowd);
$node->stop;
done_testing();
