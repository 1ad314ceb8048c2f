# A real ORM client (Django, from Debian's python3-django) against no-op UPDATE
# suppression: save() of an unchanged object succeeds and writes no new tuple version,
# in lock and auto mode; the built-in trigger is shown breaking the same save().
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $python = '/usr/bin/python3';
if (!-x $python || system("$python -c 'import django, psycopg2' >/dev/null 2>&1") != 0)
{
	plan skip_all => 'Django test skipped: /usr/bin/python3 with python3-django and python3-psycopg2 is not installed';
}

my $script = File::Spec->rel2abs(
	File::Spec->catfile(dirname(__FILE__), '..', 'django', 'noop_django.py'));

my $node = PostgreSQL::Test::Cluster->new('noop_django');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_hygiene'");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE djangotest');
$node->safe_psql('djangotest', 'CREATE EXTENSION pg_hygiene');

for my $mode (qw(lock auto))
{
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ $python, $script, $node->host, $node->port, 'djangotest', $mode ],
		'>', \$stdout, '2>', \$stderr);
	my @lines = split /\n/, $stdout;
	ok(scalar(@lines) >= 9, "$mode: Django script ran all checks") or diag($stderr);
	for my $line (@lines)
	{
		ok($line =~ /^ok /, $line);
	}
	ok($ok, "$mode: Django script exited cleanly") or diag($stderr);
}

# The statistics saw the suppressed rows.
cmp_ok($node->safe_psql('djangotest',
		"SELECT coalesce(sum(noop_suppressed), 0) FROM hygiene.table_write_stats WHERE relname LIKE 'dj_item_%'"),
	'>=', 6, 'suppressed rows are counted');

$node->stop;
done_testing();
