# Every shared hash stays within the size chosen at start (M1): beyond it new
# entries are counted as dropped, and nothing is taken from the shared-memory
# slack that the lock tables grow into.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('bounds');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.table_stats_max = 100
pg_hygiene.advice_history_tables = 100
pg_hygiene.advice_sample_interval = 0
pg_hygiene.max_tracked_roles = 16
pg_hygiene.ddl_guard = off
autovacuum = off
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
DO $$ BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('CREATE TABLE ts_%s (id int)', i);
  END LOOP;
END $$;
});

my $free_sql = 'SELECT size FROM pg_shmem_allocations WHERE name IS NULL';
my $free_before = $node->safe_psql('postgres', $free_sql);

# table_stats: 300 tables updated, room for 100
$node->safe_psql('postgres', q{
DO $$ BEGIN
  FOR i IN 1..300 LOOP
    PERFORM hygiene._table_stats_feed(format('ts_%s', i)::regclass, 2, 1, 0, 0);
  END LOOP;
END $$;
});
is($node->safe_psql('postgres',
		'SELECT table_stats_entries || \'|\' || table_stats_max || \'|\' || table_stats_dropped FROM hygiene.status'),
	'100|100|400', 'table_stats keeps 100 tables and counts the rows of the other 200 as dropped');
is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_write_stats'),
	'100', 'table_write_stats shows the 100 tracked tables');

# advice history: every table of the database is sampled, room for 100
$node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_health');
$node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_health');
my ($tables, $max, $dropped) = split /\|/, $node->safe_psql('postgres',
	"SELECT tables || '|' || max_tables || '|' || dropped_samples FROM hygiene.advice_history");
is($max, '100', 'advice history capacity is 100 tables');
is($tables, '100', 'advice history keeps exactly 100 tables');
cmp_ok($dropped, '>=', 400, 'samples of the other tables are counted as dropped');

# per-role limits: 20 limited roles, room for 16
for my $i (1 .. 20)
{
	$node->safe_psql('postgres', "CREATE ROLE lim_$i LOGIN; "
		  . "ALTER ROLE lim_$i SET pg_hygiene.max_active_statements = 100");
	$node->safe_psql('postgres', 'SELECT 1', extra_params => [ '-U', "lim_$i" ]);
}
my ($tracked, $untracked) = split /\|/, $node->safe_psql('postgres',
	"SELECT tracked_roles || '|' || untracked_statements FROM hygiene.limits_summary");
cmp_ok($tracked, '<=', 16, 'at most 16 roles tracked');
cmp_ok($untracked, '>', 0, 'statements of the roles without room are counted');

# entries of dropped tables are forgotten when the statistics are read, and make
# room for live tables
$node->safe_psql('postgres', q{
DO $$ BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('DROP TABLE ts_%s', i);
  END LOOP;
  FOR i IN 1..50 LOOP
    EXECUTE format('CREATE TABLE tn_%s (id int)', i);
  END LOOP;
END $$;
});
is($node->safe_psql('postgres', 'SELECT table_stats_entries FROM hygiene.status'),
	'0', 'entries of dropped tables are gone once read');
$node->safe_psql('postgres', q{
DO $$ BEGIN
  FOR i IN 1..50 LOOP
    PERFORM hygiene._table_stats_feed(format('tn_%s', i)::regclass, 1, 0, 0, 0);
  END LOOP;
END $$;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM hygiene.table_write_stats'),
	'50', 'new tables are tracked again');

# none of it came out of the shared-memory slack
is($node->safe_psql('postgres', $free_sql), $free_before,
	'free shared memory unchanged by full hashes');

# the lock manager still has its slack: a transaction with 2,000 locks works
is($node->safe_psql('postgres', q{
BEGIN;
DO $$ BEGIN
  FOR i IN 1..2000 LOOP
    EXECUTE format('CREATE TEMP TABLE tmp_%s (id int)', i);
  END LOOP;
END $$;
SELECT count(*) >= 2000 FROM pg_locks WHERE pid = pg_backend_pid();
ROLLBACK;
}), 't', 'a lock-heavy transaction still fits');

$node->stop;
done_testing();
