# Differential test of no-op UPDATE suppression: test/differential/noop_diff.py runs a
# fixed set of generated statement sequences with pg_hygiene.noop_updates = off, lock
# and auto and asserts that every command tag, returned row, error, notice, trigger
# side effect and final table content is the same in the three modes.
# Longer runs by hand: scripts/noop-diff.sh.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $python = '/usr/bin/python3';
if (!-x $python || system("$python -c 'import psycopg2' >/dev/null 2>&1") != 0)
{
	plan skip_all => 'differential test skipped: /usr/bin/python3 with python3-psycopg2 is not installed';
}

my $script = File::Spec->rel2abs(
	File::Spec->catfile(dirname(__FILE__), '..', 'differential', 'noop_diff.py'));

# The CI seed set: sequences 1..40 of 12 blocks each, plus three seeds that found N1
# (writable CTEs: 2013, 2040) and N2 (MERGE on the trigger path: 2003) on a432ac9, before
# the fixes; seeds 1..40 found N3, N5 and N10 there.  About 2,000 statements per mode.
my @seeds = (1 .. 40, 2003, 2013, 2040);

my $node = PostgreSQL::Test::Cluster->new('noop_diff');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
autovacuum = off
max_parallel_workers_per_gather = 0
log_statement = none
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE noopdiff');
$node->safe_psql('noopdiff', 'CREATE EXTENSION pg_hygiene');

my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' dbname=noopdiff';
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[ $python, $script, '--dsn', $dsn, '--seeds', join(',', @seeds),
	  '--keep-going', '--max-shown', '5', '--minimize-seconds', '10' ],
	'>', \$stdout, '2>', \$stderr);
note($stdout);
ok($ok, scalar(@seeds) . ' sequences: off, lock and auto agree') or diag($stdout . $stderr);
like($stdout, qr/^noop_diff: .* 0 difference\(s\)/m, 'summary line reports no difference');
# The suppressor had work to do (the comparison compares something).
my ($suppressed) = $stdout =~ /(\d+) rows suppressed/;
cmp_ok($suppressed // 0, '>', 100, 'rows were suppressed during the run');

$node->stop;
done_testing();
