# Query digest rules replicate: a rule added on the primary takes effect in the
# primary's open sessions at once and in a streaming hot standby's open sessions
# within about a second, without restart; removal too.  queryids are computed
# with compute_query_id = auto (the default).  Nothing on the standby writes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $primary = PostgreSQL::Test::Cluster->new('rules_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE TABLE t (id int PRIMARY KEY, v int);
	INSERT INTO t SELECT g, g * 10 FROM generate_series(1, 100) g;
	CREATE ROLE app LOGIN;
	GRANT SELECT ON t TO app;
});

$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('rules_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($primary->safe_psql('postgres', 'SHOW compute_query_id'), 'auto',
	'compute_query_id is left at auto');

# The queryid of a statement, from EXPLAIN (VERBOSE).
sub queryid
{
	my ($node, $sql) = @_;
	my $json = $node->safe_psql('postgres',
		"SET compute_query_id = on; EXPLAIN (VERBOSE, FORMAT JSON) $sql");
	$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid in $json";
	return $1;
}

my $q = queryid($primary, 'SELECT v FROM t WHERE id = 1');
isnt($q, '0', 'queryid computed on the primary');
is(queryid($standby, 'SELECT v FROM t WHERE id = 1'), $q,
	'the standby computes the same queryid');

# Open sessions as an ordinary role, started before any rule exists.
my $ps = $primary->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'app' ]);
my $ss = $standby->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'app' ]);

# Run one statement in a background session; return (output, stderr).
sub run
{
	my ($session, $sql) = @_;
	$session->{stderr} = '';
	my $out = $session->query($sql);
	return ($out, $session->{stderr});
}

# Poll an open session until a statement's stderr matches (or not), up to 30 s.
sub poll_session
{
	my ($session, $sql, $re, $want_match) = @_;
	my $start = time;
	while (time - $start < 30)
	{
		my ($out, $err) = run($session, $sql);
		return time - $start if (($err =~ $re) xor !$want_match);
		usleep(50_000);
	}
	return undef;
}

is((run($ps, 'SELECT v FROM t WHERE id = 1'))[0], '10', 'primary session runs the digest');
is((run($ss, 'SELECT v FROM t WHERE id = 1'))[0], '10', 'standby session runs the digest');

# Block on the primary.
$primary->safe_psql('postgres', "SELECT hygiene.block_query($q, 'tap: runaway query')");
my ($out, $err) = run($ps, 'SELECT v FROM t WHERE id = 2');
like($err, qr/pg_hygiene: statement blocked by a query rule/,
	'open primary session blocked at its next statement');
like($err, qr/tap: runaway query/, 'the error gives the reason');

$primary->wait_for_catchup($standby);
# Its first statement after the replay is checked: the commit's relcache
# invalidation reaches the open session (it used to pass for up to a second).
($out, $err) = run($ss, 'SELECT v FROM t WHERE id = 3');
like($err, qr/statement blocked/,
	'the first statement of an open standby session after replay is blocked');
my $took = poll_session($ss, 'SELECT v FROM t WHERE id = 3', qr/statement blocked/, 1);
ok(defined $took, 'open standby session blocked without restart');
my ($ret, $o, $e) = $standby->psql('postgres', 'SELECT v FROM t WHERE id = 4',
	extra_params => [ '-U', 'app' ]);
like($e, qr/statement blocked/, 'a new standby session is blocked too');
like($e, qr/53H10|blocked/, 'with the documented error');
is($standby->safe_psql('postgres', 'SELECT v FROM t WHERE id = 4'), '40',
	'superusers are exempt on the standby too');
is($standby->safe_psql('postgres',
		"SELECT blocked >= 2 AND exempted >= 1 FROM hygiene.query_rules WHERE queryid = $q"),
	't', 'the standby counts its own hits');

# pg_dump keeps the rule (the table is extension configuration).
my ($dump, $dump_err) = run_command(
	[ $primary->installed_command('pg_dump'), '-d', $primary->connstr('postgres') ]);
like($dump, qr/COPY hygiene\.query_rule .*\n\d+\t$q\t\\N\tblock\t/,
	'pg_dump writes the rule out');

# Rules cannot be changed on the standby.
($ret, $o, $e) = $standby->psql('postgres', "SELECT hygiene.block_query($q, 'from standby')");
like($e, qr/query rules cannot be changed on a standby/, 'changing rules on the standby is refused');

# Replace the block by a throttle (one statement per 100 s): the standby follows.
$primary->safe_psql('postgres',
	"SELECT hygiene.throttle_query($q, per_second => 0.01, reason => 'tap: slow down')");
$primary->wait_for_catchup($standby);
# The first statement after the replay takes the burst's one token, the second is over.
($out, $err) = run($ss, 'SELECT v FROM t WHERE id = 5');
($out, $err) = run($ss, 'SELECT v FROM t WHERE id = 5');
like($err, qr/statement throttled/, 'the replacing throttle applies at once after replay');
$took = poll_session($ss, 'SELECT v FROM t WHERE id = 5', qr/statement throttled/, 1);
ok(defined $took, 'the replacing throttle rule reaches the open standby session');

# Removal on the primary lifts the rule in the open sessions.
$primary->safe_psql('postgres', "SELECT hygiene.remove_query_rule($q)");
is((run($ps, 'SELECT v FROM t WHERE id = 6'))[0], '60', 'primary session runs again after removal');
$primary->wait_for_catchup($standby);
($out, $err) = run($ss, 'SELECT v FROM t WHERE id = 7');
is($out, '70', 'the first statement after the removal replayed runs');
$took = poll_session($ss, 'SELECT v FROM t WHERE id = 7', qr/ERROR/, 0);
ok(defined $took, 'standby session runs again after removal');
is((run($ss, 'SELECT v FROM t WHERE id = 8'))[0], '80', 'and returns the right rows');

# No rules now, and the standby has recorded that.  A rule arrives while no session
# reads the table: the first statement of a new standby session is checked (the
# "no rules" recorded before the replay is not taken over).
$primary->safe_psql('postgres', "SELECT hygiene.block_query($q, 'tap: again')");
$primary->wait_for_catchup($standby);
($ret, $o, $e) = $standby->psql('postgres', 'SELECT v FROM t WHERE id = 9',
	extra_params => [ '-U', 'app' ]);
like($e, qr/statement blocked/,
	'the first statement of a new standby session after replay is blocked');
($out, $err) = run($ss, 'SELECT v FROM t WHERE id = 9');
like($err, qr/statement blocked/, 'and so is the open session\'s');
$primary->safe_psql('postgres', "SELECT hygiene.remove_query_rule($q)");
$primary->wait_for_catchup($standby);
($ret, $o, $e) = $standby->psql('postgres', 'SELECT v FROM t WHERE id = 9',
	extra_params => [ '-U', 'app' ]);
is($o, '90', 'a new standby session runs once the removal is replayed');

$ps->quit;
$ss->quit;

# Nothing pg_hygiene does on a standby tries to write.
my $log = slurp_file($standby->logfile);
unlike($log, qr/read-only transaction|cannot execute .* during recovery/,
	'no write attempted on the standby');
unlike($log, qr/PANIC|server process .* was terminated/, 'no crash on the standby');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'still a standby');

$standby->stop;
$primary->stop;
done_testing();
