# Concurrency slots of a query rule always come back: a storm of over 2,000
# statements with errors, statement timeouts (also while waiting for a slot),
# random pg_cancel_backend and pg_terminate_backend ends with no slot held; a
# backend killed with SIGKILL while holding a slot leads to a clean recovery.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('rules_slots');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
max_connections = 40
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE ROLE storm LOGIN;
	ALTER ROLE storm SET statement_timeout = '100ms';
	ALTER ROLE storm SET pg_hygiene.query_rule_wait_timeout = '30ms';
	CREATE FUNCTION rules_storm(r int) RETURNS int LANGUAGE plpgsql AS $$
	BEGIN
	  IF r < 0 THEN PERFORM pg_sleep(60); END IF;
	  IF r % 10 = 0 THEN RAISE EXCEPTION 'storm error %', r; END IF;
	  IF r % 10 = 1 THEN PERFORM pg_sleep(0.2); END IF;  -- hits statement_timeout
	  PERFORM pg_sleep(0.002);
	  RETURN r;
	END $$;
});
my $json = $node->safe_psql('postgres',
	'SET compute_query_id = on; EXPLAIN (VERBOSE, FORMAT JSON) SELECT rules_storm(1)');
$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid";
my $q = $1;
$node->safe_psql('postgres',
	"SELECT hygiene.throttle_query($q, max_concurrent => 3, reason => 'tap storm')");

# Ten clients, 250 statements each, run as separate psql processes that carry
# on after errors.
my $clients = 10;
my $per_client = 250;
my @runs;
for my $c (1 .. $clients)
{
	my $file = $node->basedir . "/storm_$c.sql";
	open my $fh, '>', $file or die $!;
	print $fh "SELECT rules_storm(" . int(rand(1000)) . ");\n" for 1 .. $per_client;
	close $fh;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[
			$node->installed_command('psql'), '-X', '-q', '-d',
			$node->connstr('postgres') . ' user=storm',
			'-f', $file
		],
		'>', \$out, '2>', \$err);
	push @runs, { h => $h, out => \$out, err => \$err };
}

# Cancel random running statements of the storm while it lasts; terminate two
# sessions halfway through.
my $terminated = 0;
my $cancels = 0;
my $start = time;
while (grep { $_->{h}->pumpable } @runs)
{
	for my $r (@runs) { eval { $r->{h}->pump_nb if $r->{h}->pumpable; }; }
	my $matched = $node->safe_psql('postgres',
		"SELECT matched FROM hygiene.query_rules WHERE queryid = $q");
	if ($terminated < 2 && $matched > ($clients * $per_client) / 2)
	{
		$terminated += $node->safe_psql('postgres', q{
			SELECT count(pg_terminate_backend(pid)) FROM (
			  SELECT pid FROM pg_stat_activity
			  WHERE usename = 'storm' AND state = 'active' LIMIT 1) s});
	}
	$cancels += $node->safe_psql('postgres', q{
		SELECT count(pg_cancel_backend(pid)) FROM (
		  SELECT pid FROM pg_stat_activity
		  WHERE usename = 'storm' AND state = 'active'
		  ORDER BY random() LIMIT 1) s});
	usleep(20_000);
	last if time - $start > 240;
}
$_->{h}->finish for @runs;
my $errors = join '', map { ${ $_->{err} } } @runs;
note "storm took " . sprintf('%.1f', time - $start) . " s, $cancels cancels, $terminated terminations";

like($errors, qr/storm error/, 'statements failed with errors');
like($errors, qr/statement timeout/, 'statements hit statement_timeout');
like($errors, qr/canceling statement due to user request/, 'statements were cancelled');
like($errors, qr/pg_hygiene: statement throttled by a query rule/, 'statements were throttled');
is($terminated, 2, 'two sessions were terminated mid-storm');

$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'storm'")
  or die 'storm sessions did not end';
my $stats = $node->safe_psql('postgres',
	"SELECT matched, throttled, waited, active FROM hygiene.query_rules WHERE queryid = $q");
note "matched|throttled|waited|active: $stats";
my ($matched, $throttled, $waited, $active) = split /\|/, $stats;
cmp_ok($matched, '>=', 2000, 'at least 2,000 statements of the digest');
cmp_ok($waited, '>', 0, 'some statements waited for a slot and then ran');
is($active, '0', 'every slot came back after the storm');

# SIGKILL a backend that holds a slot: the server restarts cleanly, the rule
# still applies and no slot is held.
my $holder = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'storm' ]);
$holder->query_safe("SET statement_timeout = 0");
$holder->{stdin} .= "SELECT rules_storm(-1);\n";
$holder->{run}->pump_nb;
ok($node->poll_query_until('postgres',
	"SELECT active = 1 FROM hygiene.query_rules WHERE queryid = $q"),
	'a session holds a slot');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE usename = 'storm' AND state = 'active'");

# A statement waiting for the slot shows the wait in pg_stat_activity.
$node->safe_psql('postgres',
	"SELECT hygiene.throttle_query($q, max_concurrent => 1, reason => 'tap storm')");
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
$waiter->query_safe("SET pg_hygiene.query_rules_exempt_superuser = off");
$waiter->query_safe("SET pg_hygiene.query_rule_wait_timeout = '60s'");
my $waiter_pid = $waiter->query_safe('SELECT pg_backend_pid()');
$waiter->{stdin} .= "SELECT rules_storm(2);\n";
$waiter->{run}->pump_nb;
ok($node->poll_query_until('postgres',
	"SELECT wait_event_type = 'Extension' AND state = 'active' FROM pg_stat_activity WHERE pid = $waiter_pid"),
	'the waiting statement shows wait_event_type Extension');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$node->wait_for_log(qr/database system is ready to accept connections/, $log_offset);
eval { $holder->quit };
eval { $waiter->quit };

is($node->safe_psql('postgres',
		"SELECT action || '/' || max_concurrent || '/' || active FROM hygiene.query_rules WHERE queryid = $q"),
	'throttle/1/0', 'after crash recovery the rule is there and no slot is held');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT rules_storm(3)',
	extra_params => [ '-U', 'storm' ]);
is($out, '3', 'the digest runs again after recovery');
like(slurp_file($node->logfile), qr/terminated by signal 9/, 'the SIGKILL was seen');

$node->stop;
done_testing();
