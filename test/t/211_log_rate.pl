# Rejection logging is rate-limited (O4): a storm of 2,000 rejected statements (a limit
# and a query rule, four clients each) writes at most pg_hygiene.log_rejections_per_second
# entries a second for each (kind, rule, role), every client still receives the whole
# error, and the number of entries not written appears in the log in summary lines,
# also after the storm ended with no further rejection: logged + suppressed = rejected.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use POSIX qw(ceil);

my $per_s = 2;
my $node = PostgreSQL::Test::Cluster->new('log_rate');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
pg_hygiene.log_rejections_per_second = $per_s
log_line_prefix = '%m [%p] %e '
log_min_error_statement = error
log_statement = none
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE lr_t (id int);
CREATE ROLE lr_join LOGIN;
CREATE ROLE lr_rule LOGIN;
GRANT SELECT ON lr_t TO lr_join, lr_rule;
ALTER ROLE lr_join SET pg_hygiene.max_join_rels = 1;
CREATE ROLE lr_ddl LOGIN;
CREATE TABLE lr_big (id int);
INSERT INTO lr_big SELECT g FROM generate_series(1, 60000) g;
ALTER TABLE lr_big OWNER TO lr_ddl;
ALTER ROLE lr_ddl SET pg_hygiene.ddl_guard = enforce;
});
my $json = $node->safe_psql('postgres',
	'SET compute_query_id = on; EXPLAIN (VERBOSE, FORMAT JSON) SELECT count(*) FROM lr_t');
$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid";
my $rule_id = $node->safe_psql('postgres',
	"SELECT hygiene.block_query($1, 'tap: log rate')");

# Start $clients psql processes that each run $n copies of $sql as $role, with a
# pause of $pause s after each (so that the storm lasts long enough for its one-second
# windows to roll over); return the handles and a reference to their stderr.
sub storm_start
{
	my ($role, $sql, $clients, $n, $pause) = @_;
	my (@h, @err);
	my $script = "$PostgreSQL::Test::Utils::tmp_check/storm_$role.sql";
	open(my $fh, '>', $script) or die;
	print $fh ($pause ? "$sql\nSELECT pg_sleep($pause);\n" : "$sql\n") x $n;
	close $fh;
	for my $i (0 .. $clients - 1)
	{
		$err[$i] = '';
		push @h, IPC::Run::start(
			[ 'psql', '-X', '-q', '-o', '/dev/null', '-d', $node->connstr('postgres'),
			  '-U', $role, '-f', $script ],
			'2>', \$err[$i]);
	}
	return (\@h, \@err);
}

sub storm
{
	my ($h, $err) = storm_start(@_);
	$_->finish for @$h;
	return @$err;
}

sub count_of
{
	my ($text, $re) = @_;
	my $n = () = $text =~ /$re/g;
	return $n;
}

my $offset = -s $node->logfile;
my $t0 = time;
# 2,000 rejected statements from 8 clients in about 2 s: 4 clients of a role whose
# queries join too many relations (a limit), 4 of a role whose statement is blocked by
# a query rule.
my ($hj, $ej) = storm_start('lr_join', 'SELECT count(*) FROM lr_t a, lr_t b;', 4, 250, 0.007);
my ($hr, $er) = storm_start('lr_rule', 'SELECT count(*) FROM lr_t;', 4, 250, 0.007);
$_->finish for @$hj, @$hr;
my $t1 = time;
my $t2 = $t1;
my @join_err = @$ej;
my @rule_err = @$er;
note sprintf('the storms took %.2f s', $t1 - $t0);

# The clients received every error in full.
my $join_rejected = 0;
my $rule_rejected = 0;
$join_rejected += count_of($_, qr/ERROR:  pg_hygiene: query joins 2 relations/) for @join_err;
$rule_rejected += count_of($_, qr/ERROR:  pg_hygiene: statement blocked by a query rule/)
  for @rule_err;
is($join_rejected, 1000, 'every join statement was rejected');
is($rule_rejected, 1000, 'every blocked statement was rejected');
is(count_of(join('', @join_err), qr/HINT:  Split the query/), 1000,
	'every client error carries its HINT');
is(count_of(join('', @rule_err), qr/DETAIL:  Query rule/), 1000,
	'every client error carries its DETAIL');

# Wait for the last summaries (no rejection follows: the launcher writes them).
my $sum_re = sub {
	my ($what, $role) = @_;
	return qr/LOG:  pg_hygiene: (\d+) similar messages? suppressed in the last \d+ s \(\Q$what\E, role "\Q$role\E"\)/;
};
my $join_sum = $sum_re->('limit max_join_rels', 'lr_join');
my $rule_sum = $sum_re->("query rule $rule_id", 'lr_rule');
my ($log, $join_logged, $join_suppressed, $rule_logged, $rule_suppressed);
my $deadline = time + 30;
while (1)
{
	$log = slurp_file($node->logfile, $offset);
	$join_logged = count_of($log, qr/ERROR:  pg_hygiene: query joins 2 relations/);
	$rule_logged = count_of($log, qr/ERROR:  pg_hygiene: statement blocked by a query rule/);
	$join_suppressed = 0;
	$join_suppressed += $1 while $log =~ /$join_sum/g;
	$rule_suppressed = 0;
	$rule_suppressed += $1 while $log =~ /$rule_sum/g;
	last if ($join_logged + $join_suppressed >= 1000 && $rule_logged + $rule_suppressed >= 1000)
	  || time > $deadline;
	sleep 1;
}
my $waited = time - $t2;
note "join: $join_logged logged, $join_suppressed suppressed; "
  . "rule: $rule_logged logged, $rule_suppressed suppressed; summaries complete "
  . sprintf('%.1f s after the storm', $waited);

# At most per_s entries in each second the storm of the key lasted (+1 for a window
# that straddles the start).
cmp_ok($join_logged, '<=', $per_s * (ceil($t1 - $t0) + 1), 'join rejections logged within the rate');
cmp_ok($rule_logged, '<=', $per_s * (ceil($t1 - $t0) + 1), 'rule rejections logged within the rate');
cmp_ok($join_logged, '>=', 1, 'the first join rejection is logged');
cmp_ok($rule_logged, '>=', 1, 'the first rule rejection is logged');
is($join_logged + $join_suppressed, 1000, 'join: logged + suppressed = rejected');
is($rule_logged + $rule_suppressed, 1000, 'rule: logged + suppressed = rejected');
# The whole log of the storms: a bounded number of lines, not 4 per rejection.
my $lines = count_of($log, qr/\n/);
cmp_ok($lines, '<', 200, "the log grew by $lines lines for 2,000 rejections");
like($log, qr/\[\d+\] 54R02 LOG:  pg_hygiene: \d+ similar messages suppressed/,
	'a summary carries the SQLSTATE of its rejections (%e)');
cmp_ok($waited, '<', 15, 'the last summaries reach the log without a further rejection');

# DDL guard refusals: the same, per guard rule and role.
$offset = -s $node->logfile;
$t0 = time;
my @ddl_err = storm('lr_ddl', 'ALTER TABLE lr_big ALTER COLUMN id TYPE bigint;', 2, 100, 0.01);
$t1 = time;
is(count_of(join('', @ddl_err), qr/ERROR:  pg_hygiene: ddl guard rule "table_rewrite"/), 200,
	'every DDL statement was refused');
my $ddl_sum = $sum_re->('ddl guard rule "table_rewrite"', 'lr_ddl');
my ($ddl_logged, $ddl_suppressed);
$deadline = time + 30;
while (1)
{
	$log = slurp_file($node->logfile, $offset);
	$ddl_logged = count_of($log, qr/ERROR:  pg_hygiene: ddl guard rule "table_rewrite"/);
	$ddl_suppressed = 0;
	$ddl_suppressed += $1 while $log =~ /$ddl_sum/g;
	last if $ddl_logged + $ddl_suppressed >= 200 || time > $deadline;
	sleep 1;
}
cmp_ok($ddl_logged, '<=', $per_s * (ceil($t1 - $t0) + 1), "DDL refusals logged within the rate ($ddl_logged)");
is($ddl_logged + $ddl_suppressed, 200, 'DDL: logged + suppressed = refused');

# More keys than the table's 128 slots: 140 query rules of one role, each hit 3 times.
# Slots are reused (least recently used of the 8 probed), and the count of a reused slot
# is written at once: nothing is lost.
$node->safe_psql('postgres', q{
CREATE ROLE lr_many LOGIN;
GRANT SELECT ON lr_t TO lr_many;
SET compute_query_id = on;
DO $$
DECLARE j json;
BEGIN
  FOR n IN 1 .. 140 LOOP
    EXECUTE 'EXPLAIN (VERBOSE, FORMAT JSON) SELECT ' ||
      array_to_string(array_fill('1'::text, ARRAY[n]), ',') || ' FROM lr_t' INTO j;
    PERFORM hygiene.block_query((j->0->>'Query Identifier')::bigint, 'tap: many keys',
                                role => 'lr_many');
  END LOOP;
END $$;
});
my $many_sql = '';
for my $round (1 .. 3)
{
	$many_sql .= 'SELECT ' . join(',', ('1') x $_) . " FROM lr_t;\n" for 1 .. 140;
}
$offset = -s $node->logfile;
my @many_err = storm('lr_many', $many_sql, 1, 1, 0);
is(count_of($many_err[0], qr/ERROR:  pg_hygiene: statement blocked by a query rule/), 420,
	'140 rules: every statement was blocked');
my $many_sum = qr/LOG:  pg_hygiene: (\d+) similar messages? suppressed in the last \d+ s \(query rule \d+, role "lr_many"\)/;
my ($many_logged, $many_suppressed, $many_lines);
$deadline = time + 30;
while (1)
{
	$log = slurp_file($node->logfile, $offset);
	$many_logged = count_of($log, qr/ERROR:  pg_hygiene: statement blocked by a query rule/);
	$many_suppressed = 0;
	$many_suppressed += $1 while $log =~ /$many_sum/g;
	last if $many_logged + $many_suppressed >= 420 || time > $deadline;
	sleep 1;
}
note "140 rules: $many_logged logged, $many_suppressed suppressed";
is($many_logged + $many_suppressed, 420, '140 rules: logged + suppressed = rejected');
cmp_ok($many_suppressed, '>', 0, '140 rules: some were suppressed');

# -1: every rejection is logged; 0: none, only the count.
$node->safe_psql('postgres', 'ALTER ROLE lr_join SET pg_hygiene.log_rejections_per_second = -1');
$offset = -s $node->logfile;
storm('lr_join', 'SELECT count(*) FROM lr_t a, lr_t b;', 1, 30);
$log = slurp_file($node->logfile, $offset);
is(count_of($log, qr/ERROR:  pg_hygiene: query joins 2 relations/), 30, '-1 logs every rejection');

$node->safe_psql('postgres', 'ALTER ROLE lr_join SET pg_hygiene.log_rejections_per_second = 0');
$offset = -s $node->logfile;
storm('lr_join', 'SELECT count(*) FROM lr_t a, lr_t b;', 1, 30);
$deadline = time + 30;
my $sum = 0;
while (1)
{
	$log = slurp_file($node->logfile, $offset);
	$sum = 0;
	$sum += $1 while $log =~ /$join_sum/g;
	last if $sum >= 30 || time > $deadline;
	sleep 1;
}
is(count_of($log, qr/ERROR:  pg_hygiene: query joins 2 relations/), 0, '0 logs no rejection');
is($sum, 30, '0 still logs the count');

# Unrelated errors are never suppressed.
$offset = -s $node->logfile;
storm('lr_join', 'SELECT 1/0;', 1, 20);
$log = slurp_file($node->logfile, $offset);
is(count_of($log, qr/ERROR:  division by zero/), 20, 'other errors are all logged');

$node->stop;
done_testing();
