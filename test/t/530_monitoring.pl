# Monitoring that plugs in (issue 13, O16): Debian's prometheus-postgres-exporter with
# monitoring/pg_hygiene_queries.yaml, connected as a pg_monitor role (not a superuser),
# exposes pg_hygiene's metrics and no query fails.  Skipped when the exporter is not
# installed (apt-get install prometheus-postgres-exporter).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(usleep);
use IPC::Run;
use File::Basename;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => 'prometheus-postgres-exporter not installed' unless -x $exporter;

my $queries = dirname(__FILE__) . '/../../monitoring/pg_hygiene_queries.yaml';
ok(-f $queries, 'queries file exists');

my $node = PostgreSQL::Test::Cluster->new('monitoring');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.noop_updates = observe
pg_hygiene.ddl_guard = warn
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE ROLE exporter LOGIN IN ROLE pg_monitor;
	CREATE TABLE m (id int PRIMARY KEY, v int);
	CREATE INDEX m_v ON m (v);
	INSERT INTO m SELECT g, 0 FROM generate_series(1, 100) g;
	UPDATE m SET v = v;
	ALTER TABLE m ADD CONSTRAINT m_v_check CHECK (v >= 0);   -- a DDL guard warning
	SELECT hygiene.disable_index('m_v', 'monitoring test');
	SELECT hygiene.block_query(12345, 'monitoring test');
	SELECT hygiene.take_sample();
	CREATE ROLE limited LOGIN;
	ALTER ROLE limited SET pg_hygiene.max_active_statements = 5;
	GRANT SELECT ON m TO limited;
});
# a statement under a role limit: role_stats has a row, so the role metrics appear
$node->safe_psql('postgres', 'SELECT count(*) FROM m', extra_params => [ '-U', 'limited' ]);

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = 'postgresql://exporter@:' . $node->port . '/postgres?host=' . $node->host . '&sslmode=disable';
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ $exporter, "--extend.query-path=$queries", "--web.listen-address=127.0.0.1:$port",
	  '--disable-settings-metrics' ],
	'>', \$out, '2>', \$err, init => sub { $ENV{DATA_SOURCE_NAME} = $dsn });

my $metrics = '';
for (1 .. 100)
{
	my $r = HTTP::Tiny->new(timeout => 5)->get("http://127.0.0.1:$port/metrics");
	if ($r->{success} && $r->{content} =~ /pg_hygiene_status_statements_seen_total/)
	{
		$metrics = $r->{content};
		last;
	}
	usleep(200_000);
}
$h->kill_kill;
note($err) if $metrics eq '';

like($metrics, qr/^# TYPE pg_hygiene_status_statements_seen_total counter$/m, 'status counter with its type');
like($metrics, qr/^# HELP pg_hygiene_status_statements_seen_total Statements pg_hygiene/m, 'with its help text');
like($metrics, qr/^pg_hygiene_limits_active_total(\{[^}]*\})? \d/m, 'limits summary');
like($metrics, qr/^pg_hygiene_role_admitted_limited_total\{.*rolname="limited".*\} [1-9]/m, 'role counters (pg_monitor reads them)');
like($metrics, qr/^pg_hygiene_advice_recommendations\{.*rule="hot_blocked_by_index".*\} \d/m, 'advice counts');
like($metrics, qr/^pg_hygiene_rule_matched_total\{.*queryid="12345".*\} 0$/m, 'query rule counters (pg_monitor reads them)');
like($metrics, qr/^pg_hygiene_table_writes_rows_updated_total\{.*relname="m".*\} 100$/m, 'table write counters');
like($metrics, qr/^pg_hygiene_disabled_index_active\{.*index_name="m_v".*\} 1$/m, 'disabled index');
like($metrics, qr/^pg_hygiene_advice_history_tables(\{[^}]*\})? [1-9]/m, 'advice history');
like($metrics, qr/^pg_hygiene_ddl_events_events\{action="warn",rule="full_scan_constraint"[^}]*\} [1-9]/m, 'DDL guard events');
# every metric the Grafana dashboard uses is exposed (test/t/531_grafana.pl checks the
# names against the queries file)
my $dashboard = slurp_file(dirname(__FILE__) . '/../../monitoring/grafana/pg_hygiene.json');
my %used;
# the names in the queries ("expr": "...")
while ($dashboard =~ /"(?:expr|definition)":\s*"((?:[^"\\]|\\.)*)"/g)
{
	my $q = $1;
	$used{$1} = 1 while $q =~ /\b(pg_hygiene_[a-z0-9_]+)/g;
}
my @missing = grep { $metrics !~ /^\Q$_\E[{ ]/m } sort keys %used;
is_deeply(\@missing, [], 'the exporter exposes every metric of the Grafana dashboard (' . scalar(keys %used) . ')');
unlike($metrics, qr/^pg_exporter_user_queries_load_error\{[^}]*\} 1$/m, 'queries file loads');
like($metrics, qr/^pg_exporter_last_scrape_error(\{[^}]*\})? 0$/m, 'no scrape error');
unlike($err, qr/level=error/, 'exporter logged no error') or diag($err);

$node->stop;
done_testing();
