# A statement whose no-op set-up fails half-way leaves nothing behind (finding M2).
# The set-up registers each ModifyTable node's state in a backend-local registry;
# 0.2 registered the query's cleanup only after the last node, so an error while
# setting up the second node left the first node's entry pointing into the aborted
# query's freed memory, and every later trigger-path row of the session read it.
#
# The error here: an override exists, so the mode of a partition is looked up through
# its ancestors (a scan of pg_inherits), and another session holds pg_inherits
# locked: the writable CTE's partitioned UPDATE (set up second) hits lock_timeout
# after the outer UPDATE (set up first) is registered.  The debug NOTICE shows the
# first node's set-up before the error.  The outer UPDATE's plan is made large (a
# CASE of many branches) so that its node state lies in a large block of the
# executor's memory, which malloc gives back to the system at the abort: on 0.2 the
# next trigger-path UPDATE then reads unmapped memory and the backend crashes (under
# valgrind, scripts/sanitize.sh, an invalid read in noop_rel_is_live).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('setup_error');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.ddl_guard = off
log_statement = none
# an autoanalyze would invalidate the partitions' relcache entries, and their rebuild
# would wait for pg_inherits already at planning
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE m2_plain (id int PRIMARY KEY, v int);
CREATE TABLE m2_part (id int, v int) PARTITION BY RANGE (id);
CREATE TABLE m2_part_1 PARTITION OF m2_part FOR VALUES FROM (0) TO (1000);
CREATE TABLE m2_trig (id int PRIMARY KEY, v int);
CREATE FUNCTION m2_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER m2_keep BEFORE UPDATE ON m2_trig FOR EACH ROW EXECUTE FUNCTION m2_keep();
CREATE TABLE m2_other (id int);
INSERT INTO m2_plain SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO m2_part SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO m2_trig SELECT g, g FROM generate_series(1, 100) g;
SELECT hygiene.set_noop_updates('m2_other', 'lock');
});

# A psql session fed through stdin.
sub session
{
	my ($app) = @_;
	my %s = (in => '', out => '', err => '');
	$s{h} = IPC::Run::start(
		[
			'psql', '-X', '-At', '-d',
			$node->connstr('postgres') . " application_name=$app",
			'-f', '-'
		],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err});
	return \%s;
}

# Send SQL and wait until the line "marker" appears in its output; false (with the
# reason in $s->{why}) if the session ends first.
sub run_until
{
	my ($s, $sql, $marker) = @_;
	$s->{in} .= $sql . "SELECT '$marker';\n";
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	my $ok = eval {
		while ($s->{out} !~ /^\Q$marker\E$/m)
		{
			die "timed out\n" if time > $deadline;
			$s->{h}->pump_nb;
			die "session ended\n" unless $s->{h}->pumpable;
			usleep(20_000);
		}
		1;
	};
	$s->{why} = substr($@ // '', 0, 200) . $s->{err} unless $ok;
	return $ok;
}

# The outer UPDATE: v = v through a CASE of many branches, all false.
my $case = 'CASE ' . join(' ', map { "WHEN v = -$_ THEN $_" } 1 .. 3000) . ' ELSE v END';
my $stmt = "WITH u AS (UPDATE m2_part SET v = v WHERE id <= 50)\n"
  . "UPDATE m2_plain SET v = $case WHERE id <= 50;\n";

my $b = session('m2_b');
run_until($b, "SET pg_hygiene.noop_updates = lock;\n" . $stmt . $stmt, 'warm')
  or die "warm-up: $b->{why}";

my $a = session('m2_a');
run_until($a, "BEGIN;\nLOCK TABLE pg_catalog.pg_inherits IN ACCESS EXCLUSIVE MODE;\n", 'locked')
  or die "lock: $a->{why}";

$b->{err} = '';
run_until($b,
	"SET lock_timeout = '2s';\nSET pg_hygiene.debug = on;\n" . $stmt
	  . "RESET pg_hygiene.debug;\nRESET lock_timeout;\n",
	'failed') or die "failing statement: $b->{why}";
like($b->{err}, qr/noop_updates: m2_plain: mode lock, wrapper path.*\n(.*\n)*.*canceling statement due to lock timeout/,
	'the first node is set up, then the second node\'s set-up fails');
unlike($b->{err}, qr/noop_updates: m2_part_1: mode/, 'the second node\'s set-up did not finish');

run_until($a, "COMMIT;\n", 'unlocked') or die "unlock: $a->{why}";

# Later statements of the same session: trigger path, wrapper path, both in one
# statement, and the failed statement itself.
$b->{err} = '';
my $alive = run_until($b, q{
UPDATE m2_trig SET v = v WHERE id <= 10;
UPDATE m2_trig SET v = v + 1 WHERE id <= 10;
UPDATE m2_plain SET v = v WHERE id <= 10;
WITH u AS (UPDATE m2_trig SET v = v + 1 WHERE id <= 20)
UPDATE m2_plain SET v = v + 1 WHERE id <= 20;
} . $stmt . q{
SELECT 'sums', (SELECT sum(v) FROM m2_trig), (SELECT sum(v) FROM m2_plain), (SELECT sum(v) FROM m2_part);
}, 'later');
ok($alive, 'the session survives its later statements') or diag($b->{why});
like($b->{out}, qr/^sums\|5080\|5070\|5050$/m, 'later statements of the session leave what stock leaves');
is($b->{err}, '', 'and raise no error');

$_->{in} .= "\\q\n" for ($a, $b);
eval { $_->{h}->finish } for ($a, $b);
my $crashed = $node->log_contains(qr/terminated by signal/);
ok(!$crashed, 'no backend crashed');
$node->stop('fast', fail_ok => $crashed);
done_testing();
