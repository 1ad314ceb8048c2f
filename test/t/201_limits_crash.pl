# Per-role limits across a backend killed with SIGKILL: the postmaster reinitialises
# shared memory, the limiter starts from clean counts and admits statements again.
# Also: the idle-in-transaction ceiling ends a session that switched its own timeout off,
# and a write-budgeted statement shows its wait in pg_stat_activity and can be cancelled.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE crash_a LOGIN;
ALTER ROLE crash_a SET pg_hygiene.max_active_statements = 1;
ALTER ROLE crash_a SET pg_hygiene.queue_timeout = 0;
CREATE ROLE wal_a LOGIN;
ALTER ROLE wal_a SET pg_hygiene.max_wal_bytes_per_second = '64kB';
CREATE TABLE wal_t (id int, pad text);
GRANT INSERT ON wal_t TO wal_a;
CREATE ROLE idle_a LOGIN;
ALTER ROLE idle_a SET pg_hygiene.idle_in_transaction_timeout_max = '500ms';
ALTER ROLE idle_a SET idle_in_transaction_session_timeout = 0;
});
my $connstr_a = $node->connstr('postgres') . ' user=crash_a';

# A background psql session logged in as crash_a.
sub psql_as_a
{
	local $ENV{PGUSER} = 'crash_a';
	return $node->background_psql('postgres', on_error_stop => 0);
}

# A session of crash_a holds the role's only slot.
my $holder = psql_as_a();
my $pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->{stdin} .= "SELECT pg_sleep(300);\n";
$holder->{run}->pump_nb;
$node->poll_query_until('postgres',
	"SELECT active_now = 1 FROM hygiene.role_stats WHERE rolname = 'crash_a'")
  or die 'holder did not take the slot';

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', connstr => $connstr_a);
like($err, qr/pg_hygiene: too many active statements for role "crash_a"/,
	'the slot is taken: a second statement is rejected');

# SIGKILL the holder: the postmaster resets every backend and shared memory.
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
$holder->{run}->kill_kill;
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'server did not come back';
ok( $node->log_contains(qr/terminated by signal 9/, $log_offset),
	'postmaster saw the killed backend');
ok( $node->log_contains(qr/all server processes terminated; reinitializing/, $log_offset),
	'shared memory was reinitialised');

is( $node->safe_psql('postgres',
		"SELECT coalesce(sum(active_now), 0) FROM hygiene.role_stats WHERE rolname = 'crash_a'"),
	'0', 'no leftover active count for the role');
is($node->safe_psql('postgres', 'SELECT waiting FROM hygiene.limits_summary'),
	'0', 'nobody queued');

# The role is admitted again, one statement at a time, and its cap still holds.
for my $i (1 .. 3)
{
	is($node->safe_psql('postgres', "SELECT $i", connstr => $connstr_a),
		$i, "statement $i of crash_a admitted after recovery");
}
my $holder2 = psql_as_a();
$holder2->{stdin} .= "SELECT pg_sleep(300);\n";
$holder2->{run}->pump_nb;
$node->poll_query_until('postgres',
	"SELECT active_now = 1 FROM hygiene.role_stats WHERE rolname = 'crash_a'")
  or die 'second holder did not take the slot';
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', connstr => $connstr_a);
like($err, qr/pg_hygiene: too many active statements for role "crash_a"/, 'the cap holds after recovery');
$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(300);'");
$node->poll_query_until('postgres',
	"SELECT active_now = 0 FROM hygiene.role_stats WHERE rolname = 'crash_a'")
  or die 'cancel did not release the slot';
pass('a cancelled statement gives its slot back');
$holder2->quit;

# idle_in_transaction_timeout_max: the role switched the timeout off for itself, the
# ceiling still ends the idle transaction.
my $script = $node->basedir . '/idle.sql';
open my $fh, '>', $script or die;
print $fh "SET idle_in_transaction_session_timeout = 0;\nBEGIN;\nSELECT 1;\n\\! sleep 2\nSELECT 2;\n";
close $fh;
($ret, $out, $err) = $node->psql('postgres', undef,
	connstr => $node->connstr('postgres') . ' user=idle_a',
	extra_params => [ '-f', $script ]);
like($err, qr/terminating connection due to idle-in-transaction timeout/,
	'the idle-in-transaction ceiling applies although the session set 0');

# Write budget: a long INSERT of wal_a is slowed inside the statement; the wait is
# visible (wait event Extension) and cancellable.
my $writer;
{
	local $ENV{PGUSER} = 'wal_a';
	$writer = $node->background_psql('postgres', on_error_stop => 0);
}
$writer->{stdin} .=
  "INSERT INTO wal_t SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g;\n";
$writer->{run}->pump_nb;
ok( $node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	WHERE usename = 'wal_a' AND wait_event_type = 'Extension'
	  AND wait_event IN ('Extension', 'PgHygieneWalBudget')}),
	'the throttled INSERT waits with wait event Extension');
is($node->safe_psql('postgres',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'wal_a' AND state = 'active'"),
	't', 'cancel sent');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'wal_a' AND state = 'active'"),
	'the throttled INSERT is cancellable');
$writer->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM wal_t'), '0', 'the cancelled INSERT left no rows');
cmp_ok($node->safe_psql('postgres',
		"SELECT throttled_s * 1000 FROM hygiene.role_stats WHERE rolname = 'wal_a'"),
	'>', 0, 'role_stats shows the time throttled');

$node->stop;
done_testing();
