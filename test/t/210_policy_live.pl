# Role and database settings reach sessions that are already open (issue 12, O1, O10):
# a session of role r opened before ALTER ROLE r SET pg_hygiene.* obeys the new value at
# its next statement, also a pooled server connection behind a real PgBouncer in
# transaction mode, and a session on a hot standby once the change is replayed.  A
# superuser's own SET is not overridden; RESET goes back to postgresql.conf; the
# pg_hygiene.on_primary / on_standby scopes give different limits on each server.
use strict;
use warnings;
use File::Path qw(rmtree);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $primary = PostgreSQL::Test::Cluster->new('pol_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.max_join_rels = 50
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE pol_r LOGIN;
CREATE ROLE pol_pool LOGIN;
CREATE ROLE pol_s LOGIN;
CREATE TABLE pol_t (id int);
GRANT SELECT ON pol_t TO pol_r, pol_pool, pol_s;
});
$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('pol_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
$standby->start;

# A session of $role on $node, opened now.
# A PgBouncer daemon started below is stopped however the test ends.
my $bouncer_pidfile;
END
{
	if (defined $bouncer_pidfile && -f $bouncer_pidfile)
	{
		my $pid = slurp_file($bouncer_pidfile);
		chomp $pid;
		kill 'TERM', $pid if $pid =~ /^\d+$/;
	}
}

sub session
{
	my ($node, $role, $db) = @_;
	local $ENV{PGUSER} = $role;
	return $node->background_psql($db // 'postgres', on_error_stop => 0);
}

# Run $sql in a session: its output and its stderr (BackgroundPsql of 15 keeps stderr).
sub qe
{
	my ($s, $sql) = @_;
	$s->{stderr} = '';
	my $out = $s->query($sql);
	return ($out, $s->{stderr});
}

# The same, dying on an error or warning.
sub qs
{
	my ($s, $sql) = @_;
	my ($out, $err) = qe($s, $sql);
	die "query failed: $sql: $err" if $err ne '';
	return $out;
}

# Run $sql in a session until its output matches $want; the seconds it took, or undef.
sub seconds_until
{
	my ($s, $sql, $want, $limit) = @_;
	my $t0 = time;
	while (time - $t0 < $limit)
	{
		my ($out) = qe($s, $sql);
		return time - $t0 if defined $out && $out eq $want;
		usleep(20_000);
	}
	return undef;
}

my $join3 = 'SELECT count(*) FROM pol_t a, pol_t b, pol_t c';

# ---- an open session of role r, on the primary ----
my $r = session($primary, 'pol_r');
is(qs($r, 'SHOW pg_hygiene.max_join_rels'), '50', 'session starts with postgresql.conf');
is(qs($r, $join3), '0', 'a 3-table join runs');

$primary->safe_psql('postgres', 'ALTER ROLE pol_r SET pg_hygiene.max_join_rels = 2');
my $took = seconds_until($r, 'SHOW pg_hygiene.max_join_rels', '2', 1);
ok(defined $took, 'ALTER ROLE SET reaches the open session within 1 s');
note(sprintf('took %.3f s', $took // -1));
is((qe($r, 'SHOW pg_hygiene.max_join_rels'))[0], '2', 'SHOW tells the value in force at the next statement');
like((qe($r, $join3))[1], qr/joins 3 relations, more than the 2 allowed/, 'the open session obeys the new cap');
is( qs($r, 
		"SELECT source || ':' || reset_val FROM pg_settings WHERE name = 'pg_hygiene.max_join_rels'"),
	'user:2', 'pg_settings: source user, reset value the role value');

# ALTER DATABASE and IN DATABASE, with the priorities core gives them at login
$primary->safe_psql('postgres', 'ALTER DATABASE postgres SET pg_hygiene.max_plan_cost = 1e9');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r IN DATABASE postgres SET pg_hygiene.max_join_rels = 5');
is(qs($r, "SELECT current_setting('pg_hygiene.max_join_rels') || ' ' || current_setting('pg_hygiene.max_plan_cost')"),
	'5 1e+09', 'IN DATABASE wins over the role level; ALTER DATABASE reaches the session');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r IN DATABASE postgres RESET pg_hygiene.max_join_rels');
is(qs($r, 'SHOW pg_hygiene.max_join_rels'), '2', 'RESET IN DATABASE falls back to the role level');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r RESET ALL');
$primary->safe_psql('postgres', 'ALTER DATABASE postgres RESET pg_hygiene.max_plan_cost');
is( qs($r, 
		"SELECT setting || ':' || source || ':' || reset_val FROM pg_settings WHERE name = 'pg_hygiene.max_join_rels'"),
	'50:configuration file:50', 'RESET ALL goes back to postgresql.conf (value, source, reset value)');
is(qs($r, 'SHOW pg_hygiene.max_plan_cost'), '0', 'database RESET goes back to the default');
is(qs($r, $join3), '0', 'the join runs again');

# the invalidation of the shared catalog reaches sessions in every database
$primary->safe_psql('postgres', 'CREATE DATABASE pol_other');
my $other = session($primary, 'pol_r', 'pol_other');
is(qs($other, 'SHOW pg_hygiene.max_join_rels'), '50', 'session in another database: postgresql.conf value');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r SET pg_hygiene.max_join_rels = 3');
is(qs($other, 'SHOW pg_hygiene.max_join_rels'), '3', 'ALTER ROLE run in database postgres reaches it');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r IN DATABASE pol_other SET pg_hygiene.max_join_rels = 4');
is(qs($other, 'SHOW pg_hygiene.max_join_rels') . ' ' . qs($r, 'SHOW pg_hygiene.max_join_rels'), '4 3',
	'IN DATABASE applies only in that database');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r RESET ALL; ALTER ROLE pol_r IN DATABASE pol_other RESET ALL');
is(qs($other, 'SHOW pg_hygiene.max_join_rels'), '50', 'RESET reaches it too');
$other->quit;

# a rolled-back ALTER ROLE changes nothing, also in the session that ran it
my $a = $primary->background_psql('postgres', on_error_stop => 0);
my $me = qs($a, 'SELECT current_user');
qs($a, qq{BEGIN; ALTER ROLE "$me" SET pg_hygiene.max_join_rels = 1});
qs($a, 'ROLLBACK');
is(qs($a, 'SHOW pg_hygiene.max_join_rels'), '50', 'a rolled-back ALTER ROLE applies nowhere');

# ---- a superuser's own SET wins; RESET returns to the new role value ----
qs($a, 'SET pg_hygiene.max_plan_cost = 5000');
$primary->safe_psql('postgres', qq{ALTER ROLE "$me" SET pg_hygiene.max_plan_cost = 77});
is(qs($a, 'SHOW pg_hygiene.max_plan_cost'), '5000', "a superuser's session SET is not overridden");
qs($a, 'RESET pg_hygiene.max_plan_cost');
is(qs($a, 'SHOW pg_hygiene.max_plan_cost'), '77', 'RESET in the session gives the new role value');
qs($a, 'BEGIN; SET LOCAL pg_hygiene.max_plan_cost = 6000');
$primary->safe_psql('postgres', qq{ALTER ROLE "$me" SET pg_hygiene.max_plan_cost = 88});
is(qs($a, 'SHOW pg_hygiene.max_plan_cost'), '6000', 'SET LOCAL is not overridden either');
qs($a, 'COMMIT');
is(qs($a, 'SHOW pg_hygiene.max_plan_cost'), '88', 'after the transaction: the new role value');
$primary->safe_psql('postgres', qq{ALTER ROLE "$me" RESET pg_hygiene.max_plan_cost});
is(qs($a, 'SHOW pg_hygiene.max_plan_cost'), '0', 'role RESET reaches the superuser session');

# ---- a ceiling that arrives and leaves gives the session its own value back ----
qs($r, q{SET statement_timeout = '10min'});
$primary->safe_psql('postgres', q{ALTER ROLE pol_r SET pg_hygiene.statement_timeout_max = '2s'});
qs($r, 'SELECT 1');
is(qs($r, 'SHOW statement_timeout'), '2s', 'a new ceiling clamps the open session after its next statement');
like((qe($r, 'SELECT pg_sleep(3)'))[1], qr/canceling statement due to statement timeout/,
	'and cancels at the ceiling');
$primary->safe_psql('postgres', q{ALTER ROLE pol_r SET pg_hygiene.statement_timeout_max = '5s'});
qs($r, 'SELECT 1');
is(qs($r, 'SHOW statement_timeout'), '5s', 'a raised ceiling: clamped to the new one, from the session value');
$primary->safe_psql('postgres', q{ALTER ROLE pol_r RESET pg_hygiene.statement_timeout_max});
qs($r, 'SELECT 1');
is(qs($r, 'SHOW statement_timeout'), '10min', 'ceiling removed: the session has its own statement_timeout again');
qs($r, 'RESET statement_timeout');

# ---- the limit that matters in an incident: max_active_statements ----
my $blocker = session($primary, 'pol_r');
$primary->safe_psql('postgres', q{
ALTER ROLE pol_r SET pg_hygiene.max_active_statements = 1;
ALTER ROLE pol_r SET pg_hygiene.queue_timeout = 0;
});
$blocker->{stdin} .= "SELECT pg_sleep(60);\n";
$blocker->{run}->pump_nb;
$primary->poll_query_until('postgres',
	"SELECT active_now = 1 FROM hygiene.role_stats WHERE rolname = 'pol_r'")
  or die 'blocker did not take the slot';
like((qe($r, 'SELECT 1'))[1], qr/too many active statements for role "pol_r"/,
	'a session opened before ALTER ROLE SET max_active_statements obeys it');

# ---- through a real PgBouncer in transaction mode ----
SKIP:
{
	my $pgbouncer = '/usr/sbin/pgbouncer';
	skip 'pgbouncer is not installed (apt-get install pgbouncer)', 5 unless -x $pgbouncer;

	my $dir = $PostgreSQL::Test::Utils::tmp_check . '/pgbouncer';
	rmtree($dir);
	mkdir $dir or die "mkdir $dir: $!";
	my $bport = PostgreSQL::Test::Cluster::get_free_port();
	my $host = $primary->host;
	my $port = $primary->port;
	append_to_file("$dir/userlist.txt", qq{"pol_pool" ""\n});
	append_to_file("$dir/pgbouncer.ini", qq{
[databases]
postgres = host=$host port=$port dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 1
server_lifetime = 3600
server_idle_timeout = 3600
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
});
	# Started in the background (-d); say why when it does not come up (its log).
	# The exit status of the starting process is not a verdict: seen non-zero (under load,
	# PgBouncer 1.24) with the daemon up.  Whether it answers, below, is.
	IPC::Run::run([ $pgbouncer, '-d', "$dir/pgbouncer.ini" ], '>', "$dir/start.out", '2>&1')
	  or note "pgbouncer -d exited with $?: " . slurp_file("$dir/start.out");
	$bouncer_pidfile = "$dir/pgbouncer.pid";
	my $bconn = "host=127.0.0.1 port=$bport dbname=postgres user=pol_pool";
	my $pooled = sub {
		my ($sql) = @_;
		my ($ret, $out, $err) = $primary->psql('postgres', $sql, connstr => $bconn);
		return ($out, $err);
	};
	my $ready = 0;
	for (1 .. 100)
	{
		my ($out) = $pooled->('SELECT 1');
		if (defined $out && $out eq '1') { $ready = 1; last; }
		usleep(100_000);
	}
	die 'pgbouncer does not answer: '
	  . (-f "$dir/pgbouncer.log" ? slurp_file("$dir/pgbouncer.log") : 'no log')
	  unless $ready;

	my ($pid1) = $pooled->('SELECT pg_backend_pid()');
	is(($pooled->('SHOW pg_hygiene.max_active_statements'))[0], '0', 'pooled connection: no limit yet');

	# the limit arrives; the pooled server connection opened before sees it at once
	$primary->safe_psql('postgres', q{
ALTER ROLE pol_pool SET pg_hygiene.queue_timeout = 0;
ALTER ROLE pol_pool SET pg_hygiene.max_active_statements = 1;
});
	my $t0 = time;
	my ($out, $err) = $pooled->("SELECT pg_backend_pid() || ' ' || current_setting('pg_hygiene.max_active_statements')");
	my $el = time - $t0;
	is($out, "$pid1 1", 'the same pooled server connection shows the new limit');
	ok($el < 1, sprintf('within 1 s (%.3f s)', $el));

	# a statement admitted under the limit holds the role's only slot
	my $pblock = session($primary, 'pol_pool');
	$pblock->{stdin} .= "SELECT pg_sleep(60);\n";
	$pblock->{run}->pump_nb;
	$primary->poll_query_until('postgres',
		"SELECT active_now = 1 FROM hygiene.role_stats WHERE rolname = 'pol_pool'")
	  or die 'pool blocker did not take the slot';
	($out, $err) = $pooled->('SELECT 1');
	like($err, qr/too many active statements for role "pol_pool"/,
		'the pooled server connection obeys the new limit');
	$primary->safe_psql('postgres', 'ALTER ROLE pol_pool RESET pg_hygiene.max_active_statements');
	($out, $err) = $pooled->('SELECT pg_backend_pid()');
	is($out, $pid1, 'after RESET the same pooled server connection runs again');
	$primary->safe_psql('postgres',
		"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'pol_pool' AND query LIKE 'SELECT pg_sleep%'");
	$pblock->quit;
	my $bpid = slurp_file("$dir/pgbouncer.pid");
	chomp $bpid;
	kill 'TERM', $bpid;
}

$primary->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'pol_r' AND query = 'SELECT pg_sleep(60);'");
$blocker->quit;
$primary->safe_psql('postgres', 'ALTER ROLE pol_r RESET ALL; ALTER ROLE pol_pool RESET ALL');

# ---- O28: restoring under enforce, the guard relaxed for the restoring role ----
$primary->safe_psql('postgres', q{
CREATE ROLE pol_restore LOGIN;
GRANT CREATE ON SCHEMA public TO pol_restore;
SET ROLE pol_restore;
CREATE TABLE pol_big AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 30000) g;
RESET ROLE;
ALTER DATABASE postgres SET pg_hygiene.ddl_guard = 'enforce';
});
my $rs = session($primary, 'pol_restore');
like((qe($rs, 'CREATE INDEX pol_big_id ON pol_big (id)'))[1], qr/ERROR:.*CONCURRENTLY/,
	'under enforce (database setting, reached the open session) a restore-style CREATE INDEX is refused');
$primary->safe_psql('postgres', q{ALTER ROLE pol_restore SET pg_hygiene.ddl_guard = 'warn'});
my ($o28, $e28) = qe($rs, 'CREATE INDEX pol_big_id ON pol_big (id)');
like($e28, qr/WARNING:/, 'ALTER ROLE restorer SET ddl_guard = warn: the open session builds the index, with a warning');
unlike($e28, qr/ERROR:/, 'and no error');
$primary->safe_psql('postgres', q{
ALTER ROLE pol_restore RESET pg_hygiene.ddl_guard;
ALTER DATABASE postgres RESET pg_hygiene.ddl_guard;
});
$rs->quit;

# ---- on a hot standby, after replay ----
$primary->wait_for_catchup($standby);
my $sr = session($standby, 'pol_r');
is(qs($sr, 'SHOW pg_hygiene.max_join_rels'), '50', 'standby session: postgresql.conf value');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r SET pg_hygiene.max_join_rels = 2');
my $tc = time;
$primary->wait_for_catchup($standby);
$took = seconds_until($sr, 'SHOW pg_hygiene.max_join_rels', '2', 1);
ok(defined $took, 'the change reaches an open standby session within 1 s of replay');
note(sprintf('%.3f s after replay, %.3f s after commit', $took // -1, time - $tc));
like((qe($sr, $join3))[1], qr/joins 3 relations, more than the 2 allowed/, 'the standby session obeys it');
$primary->safe_psql('postgres', 'ALTER ROLE pol_r RESET pg_hygiene.max_join_rels');
$primary->wait_for_catchup($standby);
is(qs($sr, 'SHOW pg_hygiene.max_join_rels'), '50', 'RESET reaches the standby session');

# ---- primary-only and standby-only limits ----
my $ps = session($primary, 'pol_s');
my $ss = session($standby, 'pol_s');
$primary->safe_psql('postgres', q{
ALTER ROLE pol_s SET pg_hygiene.max_active_statements = 1;
ALTER ROLE pol_s SET pg_hygiene.on_standby = 'max_active_statements=8, priority=low';
ALTER ROLE pol_s SET pg_hygiene.on_primary = 'pg_hygiene.max_join_rels = 4';
});
$primary->wait_for_catchup($standby);
my $show = "SELECT current_setting('pg_hygiene.max_active_statements') || ' ' || current_setting('pg_hygiene.priority') || ' ' || current_setting('pg_hygiene.max_join_rels')";
is(qs($ps, $show), '1 normal 4', 'open primary session: plain value and on_primary');
is(qs($ss, $show), '8 low 50', 'open standby session: on_standby replaces the plain value');
my $ss2 = session($standby, 'pol_s');
is(qs($ss2, $show), '8 low 50', 'new standby session: the same from its first statement');
my $ps2 = session($primary, 'pol_s');
is(qs($ps2, $show), '1 normal 4', 'new primary session: the same');
$primary->safe_psql('postgres', 'ALTER ROLE pol_s RESET pg_hygiene.on_standby');
$primary->wait_for_catchup($standby);
is(qs($ss, $show), '1 normal 50', 'RESET of on_standby: the standby session falls back to the plain value');

# ---- O10: recovery flag, standby errors and hints ----
is($primary->safe_psql('postgres', 'SELECT in_recovery FROM hygiene.status'), 'f',
	'hygiene.status: the primary is not in recovery');
is($standby->safe_psql('postgres', 'SELECT in_recovery FROM hygiene.status'), 't',
	'hygiene.status: the standby is');
$primary->safe_psql('postgres', 'CREATE INDEX pol_t_id ON pol_t (id)');
my $json = $primary->safe_psql('postgres',
	'SET compute_query_id = on; EXPLAIN (VERBOSE, FORMAT JSON) SELECT id FROM pol_t WHERE id = 42');
$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid in $json";
my $qid = $1;
$primary->safe_psql('postgres', "SELECT hygiene.block_query($qid, 'tap: policy')");
$primary->wait_for_catchup($standby);
for my $call ("hygiene.set_noop_updates('pol_t', 'lock')",
	"hygiene.disable_index('pol_t_id', 'tap')", "hygiene.enable_index('pol_t_id')")
{
	my ($ret, $o, $e) = $standby->psql('postgres', "\\set VERBOSITY verbose\nSELECT $call");
	like($e, qr/ERROR:  25006: pg_hygiene: .* cannot be changed on a standby.*HINT:  Run hygiene\.\w+\(\) on the primary/s,
		"$call on a standby: 25006 with a hint to run it on the primary");
}
my $blocked;
for (1 .. 50)
{
	my ($ret, $o, $e) = $standby->psql('postgres', 'SELECT id FROM pol_t WHERE id = 42',
		connstr => $standby->connstr('postgres') . ' user=pol_r');
	if ($e =~ /HINT/) { $blocked = $e; last; }
	usleep(100_000);
}
like($blocked // '', qr/HINT:  A DBA can lift the rule with SELECT hygiene\.remove_query_rule\($qid\) on the primary\./,
	'a blocked statement on a standby is told to remove the rule on the primary');
$primary->safe_psql('postgres', "SELECT hygiene.remove_query_rule($qid)");

# ---- a promotion: the former standby's open sessions switch to on_primary ----
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby not promoted';
is(qs($ss, $show), '1 normal 4', 'after promotion an open session applies on_primary');

$_->quit for ($r, $a, $sr, $ps, $ss, $ss2, $ps2);
unlike(slurp_file($standby->logfile), qr/cannot execute .* in a read-only transaction|PANIC|terminated by signal/,
	'nothing written on the standby, no crash');
$standby->stop;
$primary->stop;
done_testing();
