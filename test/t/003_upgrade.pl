# ALTER EXTENSION pg_hygiene UPDATE: a database installed at an older version keeps
# working with the new library before the update, and after it has exactly the objects,
# definitions, privileges and comments of a fresh install.  (While the current version
# has no base script of its own, a fresh install runs the same update scripts; the
# comparison matters once a release ships a full pg_hygiene--X.sql.)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;

my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_hygiene'");
my @older = split /\n/, $node->safe_psql('postgres',
	"SELECT version FROM pg_available_extension_versions
	 WHERE name = 'pg_hygiene' AND version <> '$current' ORDER BY version");
ok(scalar(@older) >= 1, "older versions to update from: @older (current $current)");

# What an install consists of, as text that must match between two databases.
my $describe = q{
SELECT 'member ' || pg_describe_object(classid, objid, objsubid)
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_hygiene')
UNION ALL
SELECT format('function %s returns %s volatility %s secdef %s config %s acl %s comment %s',
              p.oid::regprocedure, pg_get_function_result(p.oid), p.provolatile,
              p.prosecdef, p.proconfig, p.proacl, obj_description(p.oid, 'pg_proc'))
  FROM pg_proc p WHERE p.pronamespace = 'hygiene'::regnamespace
UNION ALL
SELECT format('relation %s kind %s acl %s comment %s def %s',
              c.relname, c.relkind, c.relacl, obj_description(c.oid, 'pg_class'),
              CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END)
  FROM pg_class c WHERE c.relnamespace = 'hygiene'::regnamespace
UNION ALL
SELECT format('column %s.%s %s notnull %s default %s comment %s',
              c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
              pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum))
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'hygiene'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT format('constraint %s on %s: %s', conname, conrelid::regclass,
              pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'hygiene'::regnamespace
UNION ALL
SELECT format('event trigger %s on %s enabled %s', evtname, evtevent, evtenabled)
  FROM pg_event_trigger
ORDER BY 1
};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_hygiene');
my $fresh = $node->safe_psql('fresh', $describe);
like($fresh, qr/column role_stats\.admitted_over_cap bigint/,
	'a fresh install has the current role_stats');

foreach my $from (@older)
{
	my $db = "from_" . ($from =~ s/\W/_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION pg_hygiene VERSION '$from'");

	# The new library serves the old SQL objects until the update.
	is($node->safe_psql($db, 'SELECT extension_version FROM hygiene.status'),
		$from, "installed at $from");
	$node->safe_psql($db, 'SET pg_hygiene.max_active_statements = 5; SELECT 1');
	my ($ret, $out, $err) = $node->psql($db,
		'SELECT count(*) >= 0 FROM hygiene.role_stats');
	is($ret, 0, "role_stats of $from works with the new library") or diag $err;

	$node->safe_psql($db, 'ALTER EXTENSION pg_hygiene UPDATE');
	is($node->safe_psql($db, 'SELECT extension_version FROM hygiene.status'),
		$current, "updated from $from to $current");
	my $updated = $node->safe_psql($db, $describe);
	is($updated, $fresh, "update from $from gives the objects of a fresh install");
	is($node->safe_psql($db,
			'SELECT library_version = extension_version FROM hygiene.status'),
		't', 'library and extension agree after the update');
	($ret, $out, $err) = $node->psql($db,
		'SELECT admitted_over_cap >= 0 FROM hygiene.role_stats LIMIT 1');
	is($ret, 0, 'the updated role_stats reads') or diag $err;
}

$node->stop;
done_testing();
