# The operations docs as a test, so that docs and code cannot drift (finding O32):
#
# 1. docs/postgresql.conf.pg_hygiene, included from postgresql.conf, starts a server,
#    and every setting it writes is in force with the value as written (from that file),
#    with the safe defaults (guards observe/warn, no limit).
# 2. With pg_hygiene.ddl_guard = enforce added, every fenced block of docs/rollout.md,
#    docs/runbook.md and docs/migrations.md whose info string is
#    "sql rollout|runbook|migrations [attributes]" (or "sh migrations ...") is run, in
#    document order, and must succeed, or fail with the SQLSTATE it names. Attributes:
#      role=NAME       run as that role (default: the superuser)
#      node=standby    run on a hot standby of the primary (after replay)
#      tx              run in one transaction (psql -1), as a migration tool would
#      sqlstate=XXXXX  must fail with this SQLSTATE
#      hold=TABLE[:N]  a session of role reporting holds ACCESS SHARE on TABLE while the
#                      block runs (for N seconds, else until the block ends)
#      storm=ROLE      first, ROLE sends the runbook's retry-storm statement 400 times
#      log             (sh) the Debian log path is the server's log file; runs once a
#                      "similar messages suppressed" line is there, and must list it
#    and a "-- shows: x" comment in a block must match a line of its output.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Copy;
use File::Basename;
use Time::HiRes qw(usleep);

my $template = 'docs/postgresql.conf.pg_hygiene';
my $primary = PostgreSQL::Test::Cluster->new('docs_primary');
$primary->init(allows_streaming => 1);
copy($template, $primary->data_dir . '/postgresql.conf.pg_hygiene')
  or die "copy $template: $!";
$primary->append_conf('postgresql.conf', "include 'postgresql.conf.pg_hygiene'\n");
$primary->start;

# --- 1. the template -------------------------------------------------------------------
my %conf;
open(my $fh, '<', $template) or die "$template: $!";
while (my $line = <$fh>)
{
	next unless $line =~ /^\s*([a-z_.]+)\s*=\s*('[^']*'|[^\s#]+)/;
	my ($name, $value) = ($1, $2);
	$value =~ s/^'(.*)'$/$1/;
	$conf{$name} = $value;
}
close $fh;
cmp_ok(scalar(keys %conf), '>=', 15, 'the template sets its settings');
ok(exists $conf{shared_preload_libraries}, 'the template preloads the library');
for my $name (sort keys %conf)
{
	my ($value, $file) = split /\|/, $primary->safe_psql('postgres',
		"SELECT current_setting('$name'), sourcefile FROM pg_settings WHERE name = '$name'");
	is($value, $conf{$name}, "template: $name = $conf{$name} in force");
	like($file // '', qr/postgresql\.conf\.pg_hygiene$/, "template: $name comes from the template");
}
is($conf{'pg_hygiene.ddl_guard'}, 'warn', 'template starts the DDL guard in warn mode');
is($conf{'pg_hygiene.noop_updates'}, 'observe', 'template starts no-op updates in observe mode');
my @limits = grep { /^pg_hygiene\.(max_active_|max_statements_|max_wal_|statement_timeout_max|idle_in_|max_join|max_plan|priority|on_)/ } keys %conf;
is(join(',', @limits), '', 'template sets no limit');

# --- 2. the recipes, against ddl_guard = enforce -----------------------------------------
$primary->append_conf('postgresql.conf', qq{
pg_hygiene.ddl_guard = enforce
pg_hygiene.ddl_lock_timeout = '1s'
});
$primary->reload;

# The names the docs use.
$primary->safe_psql('postgres', q{
SET pg_hygiene.ddl_guard = off;
CREATE ROLE webapp LOGIN;
CREATE ROLE reporting LOGIN;
CREATE ROLE backfill LOGIN;
CREATE ROLE migrator LOGIN;
CREATE DATABASE app OWNER migrator;
});
$primary->safe_psql('app', q{
SET pg_hygiene.ddl_guard = off;
CREATE EXTENSION pg_hygiene;
CREATE EXTENSION pg_stat_statements;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, created_at timestamptz, total numeric);
INSERT INTO orders SELECT g, g % 500, now() - g * interval '1 minute', g
  FROM generate_series(1, 30000) g;
ALTER TABLE orders OWNER TO migrator;
GRANT SELECT, INSERT, UPDATE ON orders TO webapp, reporting, backfill;
});
is($primary->safe_psql('app', 'SELECT shared_memory FROM hygiene.status'), 't',
	'the server of the template has pg_hygiene loaded');
cmp_ok($primary->safe_psql('app', q{SELECT pg_relation_size('orders')}), '>', 1024 * 1024,
	'orders is larger than ddl_small_table_size');

$primary->backup('docs_backup');
my $standby = PostgreSQL::Test::Cluster->new('docs_standby');
$standby->init_from_backup($primary, 'docs_backup', has_streaming => 1);
$standby->start;

my $psql = $primary->installed_command('psql');
my $tmp = PostgreSQL::Test::Utils::tempdir;

# Start a session of role reporting that holds ACCESS SHARE on a table.
sub start_holder
{
	my ($table, $seconds) = @_;
	my $in = "BEGIN;\nLOCK TABLE $table IN ACCESS SHARE MODE;\n";
	$in .= defined $seconds ? "SELECT pg_sleep($seconds);\nCOMMIT;\n" : '';
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ $psql, '-X', '-q', '-d', $primary->connstr('app') . ' user=reporting' ],
		'<', \$in, '>', \$out, '2>', \$err);
	$h->pump while length $in;
	$primary->poll_query_until('app', qq{
SELECT count(*) > 0 FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
 WHERE a.usename = 'reporting' AND l.relation = '$table'::regclass AND l.granted})
	  or die "the holder did not get its lock";
	return ($h, \$in);
}

my $blocks = 0;
for my $doc (qw(docs/rollout.md docs/runbook.md docs/migrations.md))
{
	my $text = slurp_file($doc);
	while ($text =~ /^```(sql|sh) (rollout|runbook|migrations)([^\n]*)\n(.*?)^```$/msg)
	{
		my ($lang, $attrs, $code) = ($1, $3, $4);
		$blocks++;
		my %a = map { /^(\w+)=(.*)$/ ? ($1 => $2) : ($_ => 1) } split ' ', $attrs;
		my $role = $a{role} // 'postgres';
		my $node = ($a{node} // '') eq 'standby' ? $standby : $primary;
		my $line = 1 + (() = substr($text, 0, $-[0]) =~ /\n/g);
		my $name = "$doc:$line ($lang$attrs)";

		$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'))
		  if $node == $standby;

		my ($holder, $holder_in);
		if ($a{hold})
		{
			my ($table, $seconds) = split /:/, $a{hold};
			($holder, $holder_in) = start_holder($table, $seconds);
		}

		if ($a{storm})
		{
			my $storm = "PREPARE q AS SELECT * FROM orders WHERE customer_id = \$1;\n"
			  . ("EXECUTE q(1);\n" x 400);
			my ($o, $e) = ('', '');
			IPC::Run::run([ $psql, '-X', '-q', '-v', 'VERBOSITY=verbose',
				'-d', $node->connstr('app') . " user=$a{storm}" ], '<', \$storm, '>', \$o, '2>', \$e);
			my $rejected = () = $e =~ /ERROR:  53(H11|R03):/g;
			cmp_ok($rejected, '>', 100, "$name: the storm of $a{storm} is throttled ($rejected rejected)");
		}
		if ($a{log})
		{
			my $logfile = $node->logfile;
			$code =~ s{/var/log/postgresql/postgresql-15-main\.log}{$logfile}g;
			for (1 .. 200)
			{
				last if slurp_file($logfile) =~ /similar messages? suppressed/;
				usleep(100_000);
			}
		}

		my $file = "$tmp/block$blocks.$lang";
		PostgreSQL::Test::Utils::append_to_file($file, $code);
		my ($out, $err) = ('', '');
		my $ok;
		if ($lang eq 'sql')
		{
			$ok = IPC::Run::run([ $psql, '-X', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
				($a{tx} ? ('-1') : ()), '-f', $file,
				'-d', $node->connstr('app') . " user=$role" ], '>', \$out, '2>', \$err);
		}
		else
		{
			local $ENV{PGHOST} = $node->host;
			local $ENV{PGPORT} = $node->port;
			local $ENV{PGDATABASE} = 'app';
			local $ENV{PGUSER} = $role;
			local $ENV{PATH} = ($psql =~ m{/} ? dirname($psql) . ':' : '') . $ENV{PATH};
			$ok = IPC::Run::run([ 'bash', $file ], '>', \$out, '2>', \$err);
		}

		if ($holder)
		{
			$$holder_in .= "COMMIT;\n" unless $a{hold} =~ /:/;
			$holder->finish;
		}

		if ($a{sqlstate})
		{
			ok(!$ok && $err =~ /ERROR:  $a{sqlstate}:/, "$name fails with $a{sqlstate}")
			  or diag("stdout: $out\nstderr: $err");
		}
		else
		{
			# a retry loop shows the errors it retried on
			ok($ok && (($a{hold} // '') =~ /:/ || $err !~ /ERROR:/), "$name runs")
			  or diag("stdout: $out\nstderr: $err");
		}
		# A "-- shows: x" comment: x is a line of the output.
		for my $want ($code =~ /-- shows: (.*?)\s*$/mg)
		{
			like($out, qr/^\s*\Q$want\E\s*$/m, "$name shows $want");
		}
		if ($a{log})
		{
			like($out, qr/LOG:  pg_hygiene: \d+ similar messages? suppressed in the last \d+ s \(.*, role "webapp"\)/,
				"$name finds the suppressed counts of the storm");
		}
		# What the docs promise around those blocks.
		if (($a{sqlstate} // '') eq '55P03')
		{
			like($err, qr/held by pid \d+ \(role reporting\)/,
				"$name: the error names the session that held the lock");
		}
		if (($a{hold} // '') =~ /:/)
		{
			like($err, qr/55P03|lock timeout, attempt 1/,
				"$name: the first attempt timed out and the loop retried");
		}
	}
}
cmp_ok($blocks, '>=', 40, "the docs have their runnable blocks ($blocks)");

# What the recipes left behind.
is($primary->safe_psql('app', q{
SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attname IN ('note', 'discount', 'shipped_at')}),
	'discount,shipped_at', 'the retried steps added their columns, the timed-out one did not');
is($primary->safe_psql('app', q{
SELECT count(*) FROM pg_index WHERE indrelid = 'orders'::regclass AND NOT indisvalid}),
	'0', 'no invalid index left');
is($primary->safe_psql('app', q{SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'orders'::regclass AND attname = 'total'}),
	'numeric(14,2)', 'the allowed rewrites ran');
is($primary->safe_psql('app', q{SELECT count(*) FROM pg_db_role_setting}), '0',
	'the docs lift every setting they make');
is($primary->safe_psql('app', q{SELECT count(*) FROM hygiene.query_rule}), '0',
	'the docs lift every query rule they make');

$standby->stop;
$primary->stop;
done_testing();
