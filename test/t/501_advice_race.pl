# Rules that need autovacuum to act, end to end.  vacuum_losing_race: autovacuum runs on
# two tables but is throttled so hard (per-table cost limit 1) that their dead rows stay
# above the trigger sample after sample; table_advice recommends a higher cost limit for
# each, database_advice the instance-wide one.  vacuum_trigger_early: a tiny trigger makes
# autovacuum run several times within the sample window.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('race');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.advice_sample_interval = 0
autovacuum_naptime = 1s
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_hygiene');
for my $t ('r1', 'r2')
{
	$node->safe_psql('postgres', qq{
CREATE TABLE $t (id int PRIMARY KEY, v int)
  WITH (autovacuum_enabled = off, autovacuum_vacuum_cost_limit = 1, autovacuum_vacuum_cost_delay = 100);
INSERT INTO $t SELECT g, 0 FROM generate_series(1, 60000) g;
});
	$node->safe_psql('postgres', "VACUUM ANALYZE $t");
	$node->safe_psql('postgres', "UPDATE $t SET v = 1");
}
# Dead rows (60000) are far above the trigger (12050); a throttled vacuum needs
# well over 30 s for them. Now let autovacuum at them.
$node->safe_psql('postgres', 'ALTER TABLE r1 RESET (autovacuum_enabled); ALTER TABLE r2 RESET (autovacuum_enabled)');
$node->poll_query_until('postgres',
	"SELECT count(DISTINCT relid) = 2 FROM pg_stat_progress_vacuum")
  or die 'autovacuum never started on both tables';

# Three samples while the throttled vacuums crawl.
my $streak;
for my $i (1 .. 3)
{
	$streak = $node->safe_psql('postgres',
		"SELECT string_agg(relname || ':' || above_trigger_samples || ':' || vacuum_running, ' ' ORDER BY relname)
		 FROM hygiene.table_health WHERE relname IN ('r1', 'r2')");
	sleep 1;
}
like($streak, qr/^r1:[3-9]:true r2:[3-9]:true$/, 'dead rows above the trigger for 3+ samples while vacuum runs');

is($node->safe_psql('postgres',
		"SELECT string_agg(relname || ' ' || alter_sql, '; ' ORDER BY relname) FROM hygiene.table_advice
		 WHERE rule = 'vacuum_losing_race'"),
	'r1 ALTER TABLE public.r1 SET (autovacuum_vacuum_cost_limit = 4);; '
	  . 'r2 ALTER TABLE public.r2 SET (autovacuum_vacuum_cost_limit = 4);',
	'each table gets four times its effective cost limit');
like($node->safe_psql('postgres',
		"SELECT alter_sql || ' ' || reason FROM hygiene.database_advice WHERE rule = 'autovacuum_cost_limit'"),
	qr/^ALTER SYSTEM SET autovacuum_vacuum_cost_limit = 4; .* 2 tables stay above their vacuum trigger/,
	'database_advice sees two tables losing the race');

# The near neighbour: the same dead rows with autovacuum off is not a race.
$node->safe_psql('postgres', 'ALTER TABLE r2 SET (autovacuum_enabled = off)');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM hygiene.table_advice WHERE rule = 'vacuum_losing_race' AND relname = 'r2'"),
	'0', 'no race advice where autovacuum is off');

# vacuum_trigger_early: a trigger of a few rows makes autovacuum run again and again.
$node->safe_psql('postgres', qq{
CREATE TABLE early (id int PRIMARY KEY, v int)
  WITH (autovacuum_vacuum_threshold = 5, autovacuum_vacuum_scale_factor = 0,
        autovacuum_analyze_threshold = 1000000000);
INSERT INTO early SELECT g, 0 FROM generate_series(1, 1000) g;
});
$node->safe_psql('postgres', 'VACUUM ANALYZE early');
$node->safe_psql('postgres', "SELECT count(*) FROM hygiene.table_health WHERE relname = 'early'");
my $c0 = $node->safe_psql('postgres', "SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'early'");
for my $i (1 .. 60)
{
	$node->safe_psql('postgres', "UPDATE early SET v = v + 1 WHERE id <= 20");
	last if $node->safe_psql('postgres',
		"SELECT autovacuum_count >= $c0 + 2 FROM pg_stat_user_tables WHERE relname = 'early'") eq 't';
	sleep 1;
}
my $early = "SET pg_hygiene.advice_min_table_size = 0;
	SELECT rule || ' ' || alter_sql FROM hygiene.table_advice WHERE relname = 'early' AND rule LIKE 'vacuum_trigger_%'";
like($node->safe_psql('postgres', $early),
	qr/^vacuum_trigger_early ALTER TABLE public.early SET \(autovacuum_vacuum_threshold = \d+\);$/,
	'frequent autovacuum runs on a small trigger: raise the threshold');
# Its neighbour: the same table under the default 8MB floor is too small to matter.
is($node->safe_psql('postgres',
		"SELECT count(*) FROM hygiene.table_advice WHERE relname = 'early' AND rule = 'vacuum_trigger_early'"),
	'0', 'not for a table below pg_hygiene.advice_min_table_size');

$node->stop('immediate');
done_testing();
