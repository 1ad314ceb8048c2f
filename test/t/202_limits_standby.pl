# Per-role limits on a hot standby: the role's policy arrives through replication
# (ALTER ROLE ... SET is a catalog change), plan caps, ceilings and the concurrency
# cap apply to read-only sessions there, the views work, and nothing is written.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('lim_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE lim_sb (id int PRIMARY KEY, v int);
INSERT INTO lim_sb SELECT g, g FROM generate_series(1, 2000) g;
ANALYZE lim_sb;
CREATE ROLE lim_reader LOGIN;
GRANT SELECT ON lim_sb TO lim_reader;
ALTER ROLE lim_reader SET pg_hygiene.max_plan_cost = 100;
ALTER ROLE lim_reader SET pg_hygiene.statement_timeout_max = '300ms';
CREATE ROLE lim_reader2 LOGIN;
ALTER ROLE lim_reader2 SET pg_hygiene.max_active_statements = 1;
ALTER ROLE lim_reader2 SET pg_hygiene.queue_timeout = 0;
});
$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('lim_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

my $reader = $standby->connstr('postgres') . ' user=lim_reader';
is($standby->safe_psql('postgres', 'SELECT v FROM lim_sb WHERE id = 7', connstr => $reader),
	'7', 'a cheap query runs on the standby');
my ($ret, $out, $err) = $standby->psql('postgres',
	'SELECT count(*) FROM lim_sb a CROSS JOIN lim_sb b', connstr => $reader);
like($err, qr/pg_hygiene: plan cost \d+ exceeds the limit of 100/, 'plan cost cap applies on the standby');
($ret, $out, $err) = $standby->psql('postgres', 'SELECT pg_sleep(2)', connstr => $reader);
like($err, qr/canceling statement due to statement timeout/,
	'statement ceiling applies on the standby');

# The concurrency cap: one reader holds the only slot, a second one is rejected.
my $bg;
{
	local $ENV{PGUSER} = 'lim_reader2';
	$bg = $standby->background_psql('postgres', on_error_stop => 0);
}
$bg->{stdin} .= "SELECT pg_sleep(30);\n";
$bg->{run}->pump_nb;
$standby->poll_query_until('postgres',
	"SELECT active_now = 1 FROM hygiene.role_stats WHERE rolname = 'lim_reader2'")
  or die 'reader did not take the slot';
($ret, $out, $err) = $standby->psql('postgres', 'SELECT 1',
	connstr => $standby->connstr('postgres') . ' user=lim_reader2');
like($err, qr/pg_hygiene: too many active statements for role "lim_reader2"/,
	'concurrency cap applies on the standby');
$standby->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30);'");
$bg->quit;
$standby->poll_query_until('postgres',
	"SELECT active_now = 0 FROM hygiene.role_stats WHERE rolname = 'lim_reader2'")
  or die 'slot not released';
pass('slot released on the standby');

is( $standby->safe_psql('postgres',
		"SELECT sum(rejected_plan_cost), sum(rejected_active) FROM hygiene.role_stats WHERE rolname LIKE 'lim_reader%'"),
	'1|1', 'role_stats counts the standby rejections');
is($standby->safe_psql('postgres', 'SELECT hygiene.reset_role_stats() >= 0'),
	't', 'reset works on the standby (shared memory only)');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'still a standby');

# Nothing on the standby wrote WAL or failed a write.
unlike(slurp_file($standby->logfile), qr/cannot execute .* in a read-only transaction|PANIC|terminated by signal/,
	'no write attempt, no crash on the standby');

$standby->stop;
$primary->stop;
done_testing();
