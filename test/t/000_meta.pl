# pgxn/META.json is valid JSON and agrees with the control file and the SQL scripts.
use strict;
use warnings;
use JSON::PP;
use Test::More;

my $root = $ENV{TESTDIR} // '.';

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "cannot open $path: $!";
	local $/;
	return scalar <$fh>;
}

my $meta = eval { JSON::PP->new->decode(slurp("$root/pgxn/META.json")) };
ok(defined $meta, 'pgxn/META.json is valid JSON') or diag $@;

my ($default_version) = slurp("$root/pg_hygiene.control") =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $default_version, 'control file has a default_version');

# PGXN wants semver (0.1.0) where the control file has 0.1.
(my $semver = $default_version) =~ s/^(\d+\.\d+)$/$1.0/;
is($meta->{version}, $semver, 'META.json version matches the control file');
is($meta->{provides}{pg_hygiene}{version}, $semver, 'provides.pg_hygiene.version matches');
ok(-f "$root/$meta->{provides}{pg_hygiene}{file}", 'the file META.json provides exists');
# CREATE EXTENSION installs default_version from a base script, directly or through
# update scripts (as contrib's pg_stat_statements does): follow the chain.
my %next;
my @bases;
foreach my $f (glob("$root/pg_hygiene--*.sql"))
{
	if ($f =~ /pg_hygiene--([^-]+)--([^-]+)\.sql$/) { push @{ $next{$1} }, $2; }
	elsif ($f =~ /pg_hygiene--([^-]+)\.sql$/) { push @bases, $1; }
}
my %seen;
my @todo = @bases;
while (my $v = shift @todo)
{
	next if $seen{$v}++;
	push @todo, @{ $next{$v} // [] };
}
ok($seen{$default_version},
	"default_version $default_version is reachable from a base script (@bases)");

my ($libver) = slurp("$root/src/pg_hygiene.h") =~ /HYGIENE_LIBRARY_VERSION\s+"([^"]+)"/;
is($libver, $default_version, 'library version matches the control file');

done_testing();
