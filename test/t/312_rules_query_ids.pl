# Query ids are computed only once a database has a query rule (with the default
# compute_query_id = auto and no other module asking for them): a backend that ran
# before the first rule picks the rule up for new statements at once, and for plans it
# cached before (prepared statements) from their second use on; a new session is
# covered from its first statement.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('rules_ids');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_hygiene;
	CREATE ROLE app LOGIN;
	CREATE TABLE qt (id int);
	INSERT INTO qt VALUES (1), (2), (3);
	GRANT SELECT ON qt TO app;
});
is($node->safe_psql('postgres', 'SHOW compute_query_id'), 'auto', 'compute_query_id is auto');

# A session of "app" from before the first rule, with a prepared statement.
local $ENV{PGUSER} = 'app';
my $a = $node->background_psql('postgres', on_error_stop => 0);
$a->query_safe('PREPARE p AS SELECT count(*) FROM qt');
is($a->query_safe('EXECUTE p'), '3', 'prepared statement runs');
is($a->query_safe(
		'SELECT query_id IS NULL FROM pg_stat_activity WHERE pid = pg_backend_pid()'),
	't', 'no rule: no query id is computed');
delete $ENV{PGUSER};

# The id of the statement, as an operator finds it.
my $json = $node->safe_psql('postgres',
	'SET compute_query_id = on; EXPLAIN (VERBOSE, FORMAT JSON) SELECT count(*) FROM qt');
$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid";
my $q = $1;
$node->safe_psql('postgres', "SELECT hygiene.block_query($q, 'tap: lazy query ids')");

# The old session: a statement parsed now is blocked at once ...
$a->query('SELECT count(*) FROM qt');
like($a->{stderr}, qr/pg_hygiene: statement blocked by a query rule/,
	'old session, new statement: blocked');
$a->{stderr} = '';
is($a->query_safe(
		'SELECT query_id IS NOT NULL FROM pg_stat_activity WHERE pid = pg_backend_pid()'),
	't', 'with a rule, the session computes query ids');
# ... and the plan it cached before the rule from its next use on (this use may slip).
$a->query('EXECUTE p');
$a->{stderr} = '';
$a->query('EXECUTE p');
like($a->{stderr}, qr/pg_hygiene: statement blocked by a query rule/,
	'old session, prepared before the rule: blocked from its second use on');
$a->{stderr} = '';

# A new session is covered from its first statement.
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM qt',
	connstr => $node->connstr('postgres') . ' user=app');
like($err, qr/pg_hygiene: statement blocked by a query rule/,
	'new session, first statement: blocked');

# Removing the rule lets the statement run again.
$node->safe_psql('postgres', "SELECT hygiene.remove_query_rule($q)");
is($a->query_safe('EXECUTE p'), '3', 'rule removed: prepared statement runs again');
$a->quit;

$node->stop;
done_testing();
