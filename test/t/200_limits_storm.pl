# Per-role limits under a storm: more than 2,000 statements from several sessions of
# limited roles, with random pg_cancel_backend, statement timeouts, errors, aborted
# transactions, cursors, terminated backends and the write budget.  Afterwards every
# role's active count is exactly 0 and nothing is left queued.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('storm');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
max_connections = 40
# every session takes part in the instance-wide count
pg_hygiene.max_active_total = 4
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE storm_t (id int);
CREATE ROLE storm_a LOGIN;
CREATE ROLE storm_b LOGIN;
CREATE ROLE storm_c LOGIN;
CREATE ROLE storm_v LOGIN;
GRANT ALL ON storm_t TO storm_a, storm_b, storm_c;
ALTER ROLE storm_v SET pg_hygiene.max_active_statements = 1;
ALTER ROLE storm_v SET pg_hygiene.queue_timeout = '60s';
ALTER ROLE storm_a SET pg_hygiene.max_active_statements = 2;
ALTER ROLE storm_a SET pg_hygiene.queue_timeout = '500ms';
ALTER ROLE storm_b SET pg_hygiene.priority = low;
ALTER ROLE storm_b SET pg_hygiene.max_statements_per_second = 300;
ALTER ROLE storm_b SET pg_hygiene.max_active_statements = 1;
ALTER ROLE storm_b SET pg_hygiene.queue_timeout = '200ms';
ALTER ROLE storm_c SET pg_hygiene.max_wal_bytes_per_second = '4MB';
ALTER ROLE storm_c SET pg_hygiene.statement_timeout_max = '2s';
ALTER ROLE storm_c SET pg_hygiene.priority = high;
});

# One script per worker: a random mix of statements that succeed, wait, fail, time
# out, or run in transactions that fail.
my @kinds = (
	"SELECT pg_sleep(random() * 0.01);\n",
	"SELECT 1 / 0;\n",
	"SET statement_timeout = '5ms'; SELECT pg_sleep(0.05); RESET statement_timeout;\n",
	"BEGIN; INSERT INTO storm_t VALUES (1); SELECT 1 / 0; ROLLBACK;\n",
	"BEGIN; SELECT count(*) FROM storm_t; SELECT pg_sleep(0.002); COMMIT;\n",
	"INSERT INTO storm_t SELECT g FROM generate_series(1, 50) g;\n",
	"BEGIN; DECLARE c CURSOR FOR SELECT * FROM storm_t; FETCH 3 FROM c; CLOSE c; COMMIT;\n",
	"DO \$\$ BEGIN PERFORM 1 / 0; EXCEPTION WHEN division_by_zero THEN PERFORM pg_sleep(0.001); END \$\$;\n",
	"SELECT count(*) FROM storm_t;\n",
	"SELECT no_such_column FROM storm_t;\n",
);
my $per_worker = 360;
my @roles = qw(storm_a storm_a storm_b storm_b storm_c storm_c);
my $sent = 0;
my (@h, @out, @err);
srand(20261121);
for my $i (0 .. $#roles)
{
	my $file = $node->basedir . "/storm_$i.sql";
	open my $fh, '>', $file or die;
	for (1 .. $per_worker)
	{
		print $fh $kinds[ int(rand(@kinds)) ];
		$sent++;
	}
	close $fh;
	$out[$i] = '';
	$err[$i] = '';
	push @h,
	  IPC::Run::start(
		[
			'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d',
			$node->connstr('postgres') . " user=$roles[$i]", '-f', $file
		],
		'>', \$out[$i], '2>', \$err[$i]);
}
cmp_ok($sent, '>=', 2000, "storm sends $sent statements");

# Victims: two long statements of storm_v (one slot): one holds the slot, the other
# is queued; both are ended by pg_terminate_backend (backend exit must give the slot
# back and leave the queue).  A queued statement shows as wait event Extension while it
# sleeps, or as the limits LWLock while it re-checks its place in a busy queue.
my @victims;
for my $r (qw(storm_v storm_v))
{
	my ($vo, $ve) = ('', '');
	push @victims,
	  IPC::Run::start(
		[
			'psql', '-X', '-q', '-d', $node->connstr('postgres') . " user=$r",
			'-c', 'SELECT pg_sleep(5)'
		],
		'>', \$vo, '2>', \$ve);
}

# Meanwhile cancel random active statements of the storm roles.
my $cancels = 0;
my $terminated = 0;
for my $round (1 .. 120)
{
	$cancels += $node->safe_psql('postgres', q{
		SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))
		FROM (SELECT pid FROM pg_stat_activity
		      WHERE usename LIKE 'storm_%' AND state = 'active'
		        AND query NOT LIKE 'SELECT pg_sleep(5)%'
		      ORDER BY random() LIMIT 1) s});
	if ($round == 10)
	{
		$terminated = $node->safe_psql('postgres', q{
			SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) || ' terminated, '
			       || count(*) FILTER (WHERE wait_event_type = 'Extension'
			                             OR wait_event = 'pg_hygiene_limits') || ' queued'
			FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(5)%'
			  AND usename LIKE 'storm_%'});
	}
	usleep(20_000);
}
$_->finish for @h;
$_->finish for @victims;

my $all_err = join('', @err);
cmp_ok($cancels, '>', 0, "issued $cancels cancels");
like($all_err, qr/canceling statement due to user request/, 'some statements were cancelled');
like($all_err, qr/canceling statement due to statement timeout/, 'some statements timed out');
like($all_err, qr/division by zero/, 'some statements failed');
is($terminated, '2 terminated, 1 queued',
	'the slot-holding and the queued backend were terminated');

# Backends of finished sessions exit asynchronously: wait until they are gone, then
# the counts must be exactly zero.
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename LIKE 'storm_%'")
  or die 'storm sessions did not exit';
is( $node->safe_psql('postgres',
		"SELECT string_agg(rolname || '=' || active_now, ',' ORDER BY rolname)
		 FROM hygiene.role_stats WHERE rolname LIKE 'storm_%'"),
	'storm_a=0,storm_b=0,storm_c=0,storm_v=0',
	'every role is back to exactly 0 active statements');
# the query itself is counted against max_active_total (superusers: counted, exempt)
is($node->safe_psql('postgres', 'SELECT active_total, waiting FROM hygiene.limits_summary'),
	'1|0', 'instance count holds only the observing statement, nobody queued');

my $stats = $node->safe_psql('postgres', q{
	SELECT sum(admitted_limited), sum(queued), sum(rejected_active + rejected_total + rejected_rate),
	       sum(charged_wal_bytes)
	FROM hygiene.role_stats WHERE rolname LIKE 'storm_%'});
my ($admitted, $queued, $rejected, $wal) = split /\|/, $stats;
diag("admitted $admitted, queued $queued, rejected $rejected, WAL charged $wal");
cmp_ok($admitted + $rejected, '>=', 1000, 'the limiter saw the storm');
cmp_ok($queued, '>', 0, 'some statements queued');
cmp_ok($wal, '>', 0, 'the write budget was charged');

# Retry hints carry a figure.
like($all_err, qr/HINT:  Retry after \d+ ms\./, 'rejections carry a retry-after hint')
  if $all_err =~ /too many active statements|rate limit exceeded|timed out waiting/;

# The limits still work after the storm: two statements of storm_a at once fill its
# slots, a third one with queue_timeout 0 is rejected with 53R01.
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(77)');
my @holders;
for (1 .. 2)
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_safe('SET pg_hygiene.max_active_statements = 2');
	$bg->query_safe('SET SESSION AUTHORIZATION storm_a');
	$bg->{stdin} .= "SELECT pg_advisory_lock_shared(77);\n";
	$bg->{run}->pump_nb;
	push @holders, $bg;
}
$node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'holders not blocked';
my ($ret, $o, $e) = $node->psql('postgres', q{
	SET pg_hygiene.max_active_statements = 2;
	SET pg_hygiene.queue_timeout = 0;
	SET SESSION AUTHORIZATION storm_a;
	SELECT 'third';});
like($e, qr/pg_hygiene: too many active statements for role "storm_a"/, 'third statement rejected');
like($e, qr/DETAIL:  pg_hygiene.max_active_statements is 2 for this role and 2 of its statements are running/,
	'detail names the limit and its value');
$locker->query_safe('SELECT pg_advisory_unlock(77)');
$locker->quit;
$_->quit for @holders;
$node->poll_query_until('postgres',
	"SELECT active_now = 0 FROM hygiene.role_stats WHERE rolname = 'storm_a'")
  or die 'slots not released';
pass('slots released after the holders quit');

# The server survived: no backend crashed.
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no backend crashed');
unlike($log, qr/buffer refcount leak|lock .* leaked/, 'no resource leak warnings');

$node->stop;
done_testing();
