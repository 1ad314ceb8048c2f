# hygiene.waiting (finding O32): a statement queued for a role slot, one waiting for a
# rate token, one waiting for a query rule's slot and one slowed by the write budget
# each show up with what they wait for, and their row is gone once the wait is over,
# also when it ends by a cancel.  Only monitoring roles read the view; a role the view
# is granted to sees only its own role's rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('waiting');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE w_t (id int, pad text);
CREATE ROLE w_slot LOGIN;
ALTER ROLE w_slot SET pg_hygiene.max_active_statements = 1;
ALTER ROLE w_slot SET pg_hygiene.queue_timeout = '60s';
CREATE ROLE w_rate LOGIN;
ALTER ROLE w_rate SET pg_hygiene.max_statements_per_second = 1;
ALTER ROLE w_rate SET pg_hygiene.queue_timeout = '60s';
CREATE ROLE w_rule LOGIN;
ALTER ROLE w_rule SET pg_hygiene.query_rule_wait_timeout = '60s';
CREATE ROLE w_wal LOGIN;
ALTER ROLE w_wal SET pg_hygiene.max_wal_bytes_per_second = '8kB';
GRANT ALL ON w_t TO w_wal;
CREATE ROLE w_mon LOGIN IN ROLE pg_monitor;
CREATE ROLE w_plain LOGIN;
});

# Poll hygiene.waiting (as w_mon) until a query returns 't'.
sub wait_for
{
	my ($cond, $what) = @_;
	my $ok = $node->poll_query_until('postgres',
		"SELECT $cond FROM hygiene.waiting", 't');
	ok($ok, $what);
	return $ok;
}

sub bg
{
	my ($role, $sql) = @_;
	my $h = $node->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', $role ]);
	$h->query_until(qr/started/, "\\echo started\n$sql\n") if defined $sql;
	return $h;
}

is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.waiting'), '0',
	'nobody waits at first');

# A role slot: the holder waits for an advisory lock the test holds.
my $lock = bg('postgres');
$lock->query_safe('SELECT pg_advisory_lock(77)');
my $holder = bg('w_slot', 'SELECT pg_advisory_lock_shared(77);');
my $queued = bg('w_slot', 'SELECT 1 AS queued_ran;');
wait_for(q{count(*) = 1 AND bool_and(rolname = 'w_slot' AND waits_for = 'role_slot'
           AND limit_name = 'pg_hygiene.max_active_statements' AND datname = 'postgres'
           AND rule_id IS NULL AND wait_s >= 0 AND since <= now()
           AND wait_until > now() + interval '50 s')},
	'a queued statement shows as waiting for a role slot');
my $qpid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query = 'SELECT 1 AS queued_ran;'");
is($node->safe_psql('postgres', 'SELECT pid FROM hygiene.waiting'), $qpid,
	'with the pid of the queued backend');

# Visibility: not readable by PUBLIC; a grantee sees only its own role's rows.
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM hygiene.waiting',
	extra_params => [ '-U', 'w_plain' ]);
like($err, qr/permission denied/, 'an ordinary role may not read the view');
$node->safe_psql('postgres', q{
	GRANT SELECT ON hygiene.waiting TO w_plain, w_slot;
	GRANT EXECUTE ON FUNCTION hygiene._waiting() TO w_plain, w_slot});
is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.waiting',
		extra_params => [ '-U', 'w_plain' ]), '0',
	'a grantee does not see other roles\' waits');
is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.waiting',
		extra_params => [ '-U', 'w_mon' ]), '1', 'pg_monitor sees them');

$lock->query_safe('SELECT pg_advisory_unlock(77)');
wait_for('count(*) = 0', 'the row is gone once the queued statement got its slot');
$holder->quit;
$queued->quit;

# A rate token: one statement a second; the second of a burst sleeps for its token.
my $rate = bg('w_rate');
$rate->query_until(qr/started/,
	"\\echo started\nSELECT 1;\nSELECT 2;\nSELECT 3;\nSELECT 4;\nSELECT 5;\n");
wait_for(q{bool_or(rolname = 'w_rate' AND waits_for = 'rate_token'
           AND limit_name = 'pg_hygiene.max_statements_per_second'
           AND wait_until > since)},
	'a statement waiting for a rate token is shown');
$rate->quit;
wait_for('count(*) = 0', 'and gone after it');

# A query rule's concurrency slot.
my $q = $node->safe_psql('postgres', q{
	SET compute_query_id = on;
	EXPLAIN (VERBOSE, FORMAT JSON) SELECT pg_advisory_lock_shared(78)});
$q =~ /"Query Identifier": (-?\d+)/ or die "no queryid";
$q = $1;
my $rule = $node->safe_psql('postgres',
	"SELECT hygiene.throttle_query($q, max_concurrent => 1, reason => 'tap: one at a time')");
$lock->query_safe('SELECT pg_advisory_lock(78)');
$holder = bg('w_rule', 'SELECT pg_advisory_lock_shared(78);');
$node->poll_query_until('postgres',
	"SELECT active = 1 FROM hygiene.query_rules WHERE rule_id = $rule", 't');
$queued = bg('w_rule', 'SELECT pg_advisory_lock_shared(78);');
wait_for(qq{count(*) = 1 AND bool_and(rolname = 'w_rule' AND waits_for = 'rule_slot'
           AND limit_name = 'max_concurrent' AND rule_id = $rule AND queryid = $q)},
	'a statement waiting for a query rule\'s slot is shown, with the rule and queryid');
$lock->query_safe('SELECT pg_advisory_unlock(78)');
wait_for('count(*) = 0', 'and gone once it runs');
$holder->quit;
$queued->quit;

# The write budget: 8kB/s, a 400kB insert sleeps row after row; a cancel ends it.
my $wal = bg('w_wal',
	"INSERT INTO w_t SELECT g, repeat('x', 1000) FROM generate_series(1, 400) g;");
wait_for(q{bool_or(rolname = 'w_wal' AND waits_for = 'wal_budget'
           AND limit_name = 'pg_hygiene.max_wal_bytes_per_second')},
	'a statement slowed by the write budget is shown');
$node->safe_psql('postgres', q{
	SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'w_wal'});
wait_for('count(*) = 0', 'the row is gone after a cancel during the sleep');
$wal->quit;

is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.waiting'), '0',
	'nobody waits at the end');
$lock->quit;
$node->stop;
done_testing();
