# Updating to 0.3 gives the stored query rules the name of their role (finding O20): a
# rule of a role that exists keeps applying; a rule whose role was dropped before the
# update (kept by 0.2 with a bare OID) is orphaned for good, so that a role that later
# gets that OID (simulated by pointing the row at another role) is not matched.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('rules_update');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
compute_query_id = on
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene VERSION '0.2';
CREATE TABLE t (id int PRIMARY KEY, v int);
INSERT INTO t VALUES (1, 10), (2, 20);
CREATE ROLE keep LOGIN;
CREATE ROLE gone LOGIN;
CREATE ROLE heir LOGIN;
GRANT SELECT ON t TO keep, heir;
});
my $json = $node->safe_psql('postgres',
	'EXPLAIN (VERBOSE, FORMAT JSON) SELECT v FROM t WHERE id = 1');
$json =~ /"Query Identifier": (-?\d+)/ or die "no queryid";
my $q = $1;
$node->safe_psql('postgres', qq{
SELECT hygiene.block_query($q, 'for keep', role => 'keep');
SELECT hygiene.block_query($q, 'for gone', role => 'gone');
DROP ROLE gone;
});

$node->safe_psql('postgres', "ALTER EXTENSION pg_hygiene UPDATE TO '0.3'");
is($node->safe_psql('postgres',
		"SELECT reason || ':' || coalesce(rolname, 'NULL') || ':' || orphaned
		 FROM hygiene.query_rules ORDER BY reason"),
	"for gone::true\nfor keep:keep:false",
	'the update names the rules\' roles; the dropped role\'s rule is orphaned');

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT v FROM t WHERE id = 2',
	extra_params => [ '-U', 'keep' ]);
like($err, qr/statement blocked/, 'the rule of an existing role still applies');

# The dropped role's OID now belongs to "heir": not matched.
$node->safe_psql('postgres', q{
	UPDATE hygiene.query_rule SET role = 'heir'::regrole WHERE reason = 'for gone'});
($ret, $out, $err) = $node->psql('postgres', 'SELECT v FROM t WHERE id = 2',
	extra_params => [ '-U', 'heir' ]);
is($out, '20', 'a role that gets the dropped role\'s OID is not matched');
is($node->safe_psql('postgres', 'SELECT hygiene.purge_orphaned_query_rules()'), '1',
	'the orphaned rule is purged');

$node->stop;
done_testing();
