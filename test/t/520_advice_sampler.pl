# The advice keeps itself current (issue 13, design section 7, O9): with
# pg_hygiene.advice_sample_interval = 2s and no call of hygiene.take_sample() (and no
# advice view read that could sample), the background sampler takes the samples, and the
# fillfactor advice for a HOT-starved table is there the first time a DBA looks.  On a
# standby the sampler runs too and writes nothing.  0 turns it off.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('sampler');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.advice_sample_interval = '2s'
pg_hygiene.noop_updates = observe
pg_hygiene.ddl_guard = off
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE TABLE hot_full (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = off);
	INSERT INTO hot_full SELECT g, 0, repeat('x', 100) FROM generate_series(1, 2000) g;
	ANALYZE hot_full;
	SELECT pg_stat_force_next_flush();
});
# A database without the extension is visited and left alone.
$node->safe_psql('postgres', 'CREATE DATABASE plain');

$node->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('sampler_standby');
$standby->init_from_backup($node, 'bkp', has_streaming => 1);
$standby->start;

# hygiene.advice_history has no sampling side effect: poll it until the sampler's
# last_sample passes a point in time.
sub wait_sample_after
{
	my ($n, $ts) = @_;
	return $n->poll_query_until('postgres',
		"SELECT last_sample > '$ts'::timestamptz FROM hygiene.advice_history");
}

my $t0 = $node->safe_psql('postgres', 'SELECT now()');
ok(wait_sample_after($node, $t0), 'the sampler took a sample by itself');

# The HOT-starved workload: full pages, only a non-indexed column changes.
$node->safe_psql('postgres', q{
	UPDATE hot_full SET pad = repeat('y', 100);
	SELECT pg_stat_force_next_flush();
});
my $t1 = $node->safe_psql('postgres', 'SELECT now()');
ok(wait_sample_after($node, $t1), 'another sample after the updates, without take_sample()');

# Look once, in a session that does not sample itself (interval one hour here).
my $advice = $node->safe_psql('postgres', q{
	SET pg_hygiene.advice_sample_interval = 3600;
	SELECT rule || ' ' || alter_sql FROM hygiene.table_advice
	 WHERE relname = 'hot_full' AND rule = 'fillfactor_lower'});
like($advice, qr/^fillfactor_lower ALTER TABLE public.hot_full SET \(fillfactor = \d+\);$/,
	'the fillfactor advice appears by itself');
like($node->safe_psql('postgres', q{
	SET pg_hygiene.advice_sample_interval = 3600;
	SELECT write_split || ' ' || history_samples FROM hygiene.table_health WHERE relname = 'hot_full'}),
	qr/^hook, window [2-6]$/, 'rates over a window of samples the sampler took');

# The standby samples its own history and writes nothing.
my $s0 = $standby->safe_psql('postgres', 'SELECT now()');
ok(wait_sample_after($standby, $s0), 'the sampler runs on the standby');

# 0 turns it off.
$node->append_conf('postgresql.conf', "pg_hygiene.advice_sample_interval = 0");
$node->reload;
sleep 1;
my $last = $node->safe_psql('postgres', 'SELECT last_sample FROM hygiene.advice_history');
sleep 5;
is($node->safe_psql('postgres', 'SELECT last_sample FROM hygiene.advice_history'), $last,
	'advice_sample_interval = 0: no background samples');

for my $n ($node, $standby)
{
	my $log = slurp_file($n->logfile);
	unlike($log, qr/read-only transaction|cannot execute .* during recovery/,
		$n->name . ': no write attempted');
	unlike($log, qr/pg_hygiene sampler.*exited with exit code [1-9]|ERROR/,
		$n->name . ': no sampler error');
}

$standby->stop;
$node->stop;
done_testing();
