# Retry hints (finding O7): a role whose statements are all still running (none has
# finished since the server started) must not be told to retry after 100 ms.  Two slot
# holders run pg_sleep(6); a third statement queues for queue_timeout (2 s) and times
# out, and a fourth, which may not queue (inside a transaction block that already
# created a table), is rejected at once: both hints are at least the holders' run time so
# far, not 100 ms.  The same holds for the instance-wide cap.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('retry_hint');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE hint_r LOGIN;
ALTER ROLE hint_r SET pg_hygiene.max_active_statements = 2;
ALTER ROLE hint_r SET pg_hygiene.queue_timeout = '2s';
CREATE ROLE hint_t LOGIN;
ALTER ROLE hint_t SET pg_hygiene.max_active_total = 2;
ALTER ROLE hint_t SET pg_hygiene.queue_timeout = '1s';
});

# Start two long slot holders of a role; return the sessions.
sub holders
{
	my ($role) = @_;
	my @s;
	for my $i (1 .. 2)
	{
		my $h = $node->background_psql('postgres', on_error_stop => 0,
			extra_params => [ '-U', $role ]);
		$h->query_until(qr/started/, "\\echo started\nSELECT pg_sleep(6);\n");
		push @s, $h;
	}
	# both hold their slot
	$node->poll_query_until('postgres', qq{
		SELECT count(*) = 2 FROM pg_stat_activity
		WHERE usename = '$role' AND query = 'SELECT pg_sleep(6);' AND state = 'active'})
	  or die "holders did not start";
	return @s;
}

# The retry hint of a statement's error, in ms.
sub hint_ms
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-U', $role ]);
	return ($err =~ /HINT:  Retry after (\d+) ms\./) ? ($1, $err) : (undef, $err);
}

my @s = holders('hint_r');
is($node->safe_psql('postgres',
		"SELECT admitted_limited - active_now FROM hygiene.role_stats WHERE rolname = 'hint_r'"),
	'0', 'no statement of the role has finished yet');

my ($ms, $err) = hint_ms('hint_r', 'SELECT 1');
like($err, qr/timed out waiting for an active statement slot/, 'the third statement times out');
ok(defined $ms && $ms >= 1500,
	'after a queue timeout the hint is at least the holders\' run time, not 100 ms')
  or diag($err);

($ms, $err) = hint_ms('hint_r', 'BEGIN; CREATE TEMP TABLE hint_tmp (i int); SELECT 1; COMMIT;');
like($err, qr/too many active statements for role/, 'a statement that may not queue is rejected');
ok(defined $ms && $ms >= 1500, 'its hint is at least the holders\' run time too')
  or diag($err);
$_->quit for @s;

# The instance-wide cap: the hint comes from the running statements, whatever their role.
@s = holders('hint_t');
($ms, $err) = hint_ms('hint_t', 'SELECT 1');
like($err, qr/timed out waiting for an active statement slot in the instance/,
	'the instance cap times out');
ok(defined $ms && $ms >= 900, 'the instance cap\'s hint is not 100 ms either') or diag($err);
$_->quit for @s;

# Once statements have finished, their average run time is the hint, as before.
$node->safe_psql('postgres', 'SELECT 1');
($ms, $err) = hint_ms('hint_r', 'BEGIN; CREATE TEMP TABLE hint_tmp (i int); SELECT 1; COMMIT;');
is($ms, undef, 'no rejection once the holders are gone');

$node->stop;
done_testing();
