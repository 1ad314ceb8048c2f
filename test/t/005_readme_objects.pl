# Every object a user calls or reads is in the README's object table (finding O27: the
# pure advice functions were missing): each view, table and function of the extension
# whose name does not start with an underscore appears there as `hygiene.name`.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $readme = slurp_file('README.md');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_hygiene');

# The extension's members, found through pg_depend.
my @objects = split /\n/, $node->safe_psql('postgres', q{
SELECT DISTINCT coalesce(c.relname, p.proname)
  FROM pg_depend AS d
       LEFT JOIN pg_class AS c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
       LEFT JOIN pg_proc AS p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_hygiene')
   AND d.deptype = 'e'
   AND (c.relkind IN ('r', 'v') OR p.oid IS NOT NULL)
   AND coalesce(c.relname, p.proname) !~ '^_'
 ORDER BY 1
});
cmp_ok(scalar(@objects), '>', 20, 'the extension has its objects');

my @missing = grep { index($readme, "hygiene.$_") < 0 } @objects;
is(join(', ', @missing), '', 'every view, table and function a user calls is in the README');

$node->stop;
done_testing();
