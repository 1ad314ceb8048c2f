# Soft index drop (issue 13, design section 6): hygiene.disable_index() on the primary
# changes the plans of sessions already open on the primary and on a streaming standby
# within a second (cached generic plans included), hygiene.enable_index() restores them,
# a disabled index is still maintained by writes (it grows, amcheck passes), the advice
# never recommends dropping an index only the standby uses, and the setting survives
# pg_dump and restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $primary = PostgreSQL::Test::Cluster->new('idx_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$primary->start;
$primary->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE EXTENSION amcheck;
	CREATE TABLE t (id int PRIMARY KEY, b int, pad text);
	CREATE INDEX t_b_idx ON t (b);
	INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 20000) g;
	ANALYZE t;
});

$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('idx_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

# Sessions open before the change, each with a cached generic plan.
my %s;
for my $node ($primary, $standby)
{
	my $sess = $node->background_psql('postgres', on_error_stop => 0);
	$sess->query_safe(q{SET plan_cache_mode = force_generic_plan;
		PREPARE q(int) AS SELECT count(*) FROM t WHERE b = $1});
	$s{ $node->name } = $sess;
}

sub plan_of
{
	my ($sess, $sql) = @_;
	return $sess->query("EXPLAIN (COSTS OFF) $sql");
}

for my $name (sort keys %s)
{
	like(plan_of($s{$name}, 'SELECT * FROM t WHERE b = 5'), qr/t_b_idx/,
		"$name: the index is used before");
	like(plan_of($s{$name}, 'EXECUTE q(5)'), qr/t_b_idx/,
		"$name: the prepared statement uses the index before");
}

# Wait (polling every 50 ms, up to 30 s) until every open session's plans match;
# return the seconds it took.
sub wait_plans
{
	my ($re, $start) = @_;
	my $deadline = time + 30;
	my %done;
	while (time < $deadline)
	{
		for my $name (sort keys %s)
		{
			next if $done{$name};
			my $p1 = plan_of($s{$name}, 'SELECT * FROM t WHERE b = 5');
			my $p2 = plan_of($s{$name}, 'EXECUTE q(5)');
			$done{$name} = time - $start if $p1 =~ $re && $p2 =~ $re;
		}
		last if keys %done == keys %s;
		usleep(50_000);
	}
	return \%done;
}

my $size_before = $primary->safe_psql('postgres', "SELECT pg_relation_size('t_b_idx')");

my $start = time;
$primary->safe_psql('postgres',
	"SELECT hygiene.disable_index('t_b_idx', 'unused on the primary; check standbys')");
my $done = wait_plans(qr/^(?!.*t_b_idx)(?=.*Seq Scan)/s, $start);
for my $name (sort keys %s)
{
	ok(defined $done->{$name} && $done->{$name} < 1.0,
		"$name: open session stops using the disabled index within 1 s")
	  or diag("took " . ($done->{$name} // 'more than 30') . " s");
	note("$name: plans changed after " . sprintf('%.3f', $done->{$name} // -1) . " s");
}
is($standby->safe_psql('postgres',
		'SELECT index_name, active FROM hygiene.disabled_indexes'),
	't_b_idx|t', 'the standby shows the disabled index');

# Writes still maintain it.
$primary->safe_psql('postgres',
	"INSERT INTO t SELECT g, g, 'y' FROM generate_series(20001, 60000) g; UPDATE t SET b = -b WHERE id <= 100");
cmp_ok($primary->safe_psql('postgres', "SELECT pg_relation_size('t_b_idx')"), '>', $size_before,
	'the disabled index grows with inserts');
is($primary->safe_psql('postgres',
		"SELECT count(*) FROM (SELECT bt_index_check('t_b_idx', true)) AS c"), '1',
	'amcheck: the disabled index is consistent with the table (heapallindexed)');
ok($primary->safe_psql('postgres',
		'SELECT index_writes_since_disabled >= 40000 FROM hygiene.disabled_indexes') eq 't',
	'the view counts the writes since disabled');
$primary->wait_for_catchup($standby);

$start = time;
$primary->safe_psql('postgres', "SELECT hygiene.enable_index('t_b_idx')");
$done = wait_plans(qr/t_b_idx/, $start);
for my $name (sort keys %s)
{
	ok(defined $done->{$name} && $done->{$name} < 1.0,
		"$name: open session uses the enabled index again within 1 s")
	  or diag("took " . ($done->{$name} // 'more than 30') . " s");
}
# The rows it received while disabled are found through it.
is($s{ $primary->name }->query('SELECT count(*) FROM t WHERE b = 50000'), '1',
	'rows written while disabled are found through the index');

$_->quit for values %s;

# An index only the standby's queries use is never advised for dropping on the primary:
# the advice recommends disabling it, with the query to run on each standby.
$primary->safe_psql('postgres', q{
	CREATE TABLE s (id int PRIMARY KEY, v int, w int);
	CREATE INDEX s_v ON s (v);
	CREATE INDEX s_w ON s (w);
	INSERT INTO s SELECT g, g, g FROM generate_series(1, 5000) g;
	ANALYZE s;
});
$primary->wait_for_catchup($standby);
# the primary's queries use s_v, the standby's s_w
$primary->safe_psql('postgres', 'SELECT count(*) FROM s WHERE v = ' . $_) for 1 .. 5;
$standby->safe_psql('postgres', 'SELECT count(*) FROM s WHERE w = ' . $_) for 1 .. 5;
cmp_ok($standby->safe_psql('postgres',
		"SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 's_w'"), '>=', 5,
	'the standby scans s_w');
my $adv_settings = 'SET pg_hygiene.advice_sample_interval = 0; SET pg_hygiene.advice_min_updates = 100;';
$primary->safe_psql('postgres', "$adv_settings SELECT count(*) FROM hygiene.table_health");
$primary->safe_psql('postgres',
	'SET pg_hygiene.noop_updates = observe; UPDATE s SET v = v + 1; SELECT pg_stat_force_next_flush()');
my $adv = $primary->safe_psql('postgres', qq{$adv_settings
	SELECT alter_sql || E'\n' || revert_sql || E'\n' || reason FROM hygiene.table_advice
	 WHERE relname = 's' AND rule = 'hot_blocked_by_index'});
like($adv, qr/^SELECT hygiene\.disable_index\('public\.s_w', 'never scanned on the primary since statistics/,
	'advice for the index only the standby uses: disable it');
like($adv, qr/run on each standby SELECT idx_scan.*pg_stat_user_indexes WHERE indexrelid = 'public\.s_w'::regclass/s,
	'with the query to run on each standby');
unlike($adv, qr/DROP INDEX/, 'never DROP INDEX');

# pg_dump and restore keep the setting (rows name the index; the restore creates indexes
# after the data).
$primary->safe_psql('postgres', "SELECT hygiene.disable_index('t_b_idx', 'kept by dump')");
my $dump = $primary->basedir . '/idx.sql';
command_ok([ 'pg_dump', '-d', $primary->connstr('postgres'), '-f', $dump ], 'pg_dump succeeds');
$primary->safe_psql('postgres', 'CREATE DATABASE dst');
command_ok([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-d', $primary->connstr('dst'), '-f', $dump ],
	'restore succeeds');
is($primary->safe_psql('dst',
		'SELECT index_name, reason, disabled_by, active FROM hygiene.disabled_indexes'),
	't_b_idx|kept by dump|postgres|t', 'disabled index restored as dumped');
$primary->safe_psql('dst', 'ANALYZE t');
unlike($primary->safe_psql('dst', 'EXPLAIN (COSTS OFF) SELECT * FROM t WHERE b = 5'),
	qr/t_b_idx/, 'restored database does not plan with it');

my $log = slurp_file($standby->logfile);
unlike($log, qr/read-only transaction|cannot execute .* during recovery/,
	'no write attempted on the standby');

$standby->stop;
$primary->stop;
done_testing();
