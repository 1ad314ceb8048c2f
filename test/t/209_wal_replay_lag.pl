# Write budgets that tighten with standby replay lag (finding O32,
# pg_hygiene.wal_budget_replay_lag): with the standby's replay paused, the replay lag
# grows, hygiene.limits_summary shows a scale below 1, a role with a write budget
# writes WAL more slowly than it did in the same run before the pause, its wait in
# hygiene.waiting shows the scale, turning the setting off gives the whole budget back
# at once, and after pg_wal_replay_resume() the scale returns to 1.  A logical
# subscriber that lags is not counted.  Rates are compared
# with each other (loosely), not with the machine's speed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $primary = PostgreSQL::Test::Cluster->new('lag_primary');
$primary->init(allows_streaming => 'logical');
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.wal_budget_replay_lag = '500ms'
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE lag_t (id int, pad text);
CREATE TABLE lag_noise (id int);
CREATE ROLE lag_writer LOGIN;
GRANT ALL ON lag_t TO lag_writer;
ALTER ROLE lag_writer SET pg_hygiene.max_wal_bytes_per_second = '1MB';
});
$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('lag_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->append_conf('postgresql.conf', "wal_receiver_status_interval = 1s");
$standby->start;
$primary->wait_for_catchup($standby, 'replay');

my $writer = $primary->connstr('postgres') . ' user=lag_writer';

# Write about 1MB of WAL as lag_writer in 4 statements (the last SELECT pays the
# debt left by the last INSERT); return the WAL rate in bytes per second.
sub write_rate
{
	my $lsn0 = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	my $t0 = time;
	$primary->safe_psql('postgres',
		"INSERT INTO lag_t SELECT g, repeat('x', 200) FROM generate_series(1, 1000) g;\n" x 4
		  . "SELECT 1;",
		connstr => $writer);
	my $t1 = time;
	my $bytes = $primary->safe_psql('postgres',
		"SELECT pg_current_wal_insert_lsn() - '$lsn0'::pg_lsn");
	return $bytes / ($t1 - $t0);
}

is($primary->safe_psql('postgres', 'SELECT wal_budget_scale FROM hygiene.limits_summary'),
	'1', 'no lag: the whole budget');

my $rate_before = write_rate();
note(sprintf('WAL rate with the whole budget: %.0f bytes/s', $rate_before));

# Pause replay; keep some WAL flowing so that the standby keeps replying.
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
ok( $primary->poll_query_until('postgres', q{
WITH w AS (INSERT INTO lag_noise VALUES (1) RETURNING 1)
SELECT wal_budget_scale < 0.5 AND replay_lag_s > 1 FROM hygiene.limits_summary, w}, 't'),
	'replay paused: the lag grows past twice the setting, the budget share falls below half');

my $rate_paused = write_rate();
note(sprintf('WAL rate while the standby lags: %.0f bytes/s', $rate_paused));
ok($rate_paused < 0.7 * $rate_before,
	'the role writes WAL more slowly while the standby lags');
my $scale = $primary->safe_psql('postgres', 'SELECT wal_budget_scale FROM hygiene.limits_summary');
ok($scale >= 0.1 && $scale < 0.5, "the share never falls below 0.1 (now $scale)");

# The wait shows the share in hygiene.waiting.
my $bg = $primary->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'lag_writer' ]);
$bg->query_until(qr/started/,
	"\\echo started\nINSERT INTO lag_t SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g;\n");
ok( $primary->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM hygiene.waiting
 WHERE waits_for = 'wal_budget' AND wal_budget_scale < 0.5 AND rolname = 'lag_writer'}, 't'),
	'hygiene.waiting shows the tightened share of a write budget wait');
$primary->safe_psql('postgres', q{
SELECT pg_cancel_backend(pid) FROM hygiene.waiting WHERE rolname = 'lag_writer'});
$bg->quit;

# Off (a reload): the whole budget at once, the lag still shown.
$primary->append_conf('postgresql.conf', "pg_hygiene.wal_budget_replay_lag = 0");
$primary->reload;
ok( $primary->poll_query_until('postgres',
		'SELECT wal_budget_scale = 1 AND replay_lag_s > 1 FROM hygiene.limits_summary', 't'),
	'setting off: the whole budget, while the lag is still shown');
$primary->append_conf('postgresql.conf', "pg_hygiene.wal_budget_replay_lag = '500ms'");
$primary->reload;
ok( $primary->poll_query_until('postgres',
		'SELECT wal_budget_scale < 1 FROM hygiene.limits_summary', 't'),
	'setting back on: tightened again');

# Resume: once the standby has replayed everything, the budget is whole again.
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->wait_for_catchup($standby, 'replay');
ok( $primary->poll_query_until('postgres',
		'SELECT wal_budget_scale = 1 FROM hygiene.limits_summary', 't'),
	'replay resumed: the whole budget again');
my $rate_after = write_rate();
note(sprintf('WAL rate after the standby caught up: %.0f bytes/s', $rate_after));
ok($rate_after > $rate_paused / 0.7, 'the role writes faster again');

# A logical walsender is not a standby: a subscriber whose apply is slow (a trigger
# sleeps 2 s per row there) lags, and the budget stays whole.
my $sub = PostgreSQL::Test::Cluster->new('lag_sub');
$sub->init;
$sub->append_conf('postgresql.conf', "wal_receiver_status_interval = 1s");
$sub->start;
$primary->safe_psql('postgres', q{
CREATE TABLE lag_slow (id int);
CREATE PUBLICATION lag_pub FOR TABLE lag_slow;
});
$sub->safe_psql('postgres', q{
CREATE TABLE lag_slow (id int);
CREATE FUNCTION lag_sleep() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN PERFORM pg_sleep(2); RETURN NEW; END$$;
CREATE TRIGGER lag_sleep BEFORE INSERT ON lag_slow FOR EACH ROW EXECUTE FUNCTION lag_sleep();
ALTER TABLE lag_slow ENABLE ALWAYS TRIGGER lag_sleep;
});
my $pub_connstr = $primary->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION lag_sub CONNECTION '$pub_connstr' PUBLICATION lag_pub");
$primary->wait_for_catchup('lag_sub');
$primary->safe_psql('postgres', "INSERT INTO lag_slow VALUES (1);\n" x 8);
ok( $primary->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_replication
 WHERE application_name = 'lag_sub' AND replay_lag > interval '1.5s'}, 't'),
	'the logical subscriber lags by more than three times the setting');
is($primary->safe_psql('postgres', q{
SELECT wal_budget_scale = 1 AND coalesce(replay_lag_s, 0) < 0.5 FROM hygiene.limits_summary}),
	't', 'a lagging logical subscriber does not tighten the budget');
$sub->stop('immediate');

# The standby itself: no walsenders stream from it, so no lag and the whole budget.
is($standby->safe_psql('postgres',
		'SELECT replay_lag_s IS NULL AND wal_budget_scale = 1 FROM hygiene.limits_summary'),
	't', 'on the standby: no lag, the whole budget');

done_testing();
