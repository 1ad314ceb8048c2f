# META.json (the PGXN distribution metadata, at the root of the tree and of the
# `make dist` zip) is valid JSON, follows the PGXN Meta Spec 1.0.0
# (https://pgxn.org/spec/), and agrees with the control file and the SQL scripts.
use strict;
use warnings;
use JSON::PP;
use Test::More;

# prove runs in the source directory (also in an out-of-tree build, where TESTDIR is the
# build directory).
my $root = '.';

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "cannot open $path: $!";
	local $/;
	return scalar <$fh>;
}

my $meta = eval { JSON::PP->new->decode(slurp("$root/META.json")) };
ok(defined $meta, 'META.json is valid JSON') or diag $@;
$meta //= {};

# The PGXN Meta Spec: required keys and the form of each key used.
my $semver = qr/^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+)?$/;
my $url = qr{^https?://[^\s/]+(?:/\S*)?$};
for my $key (qw(name abstract maintainer license provides meta-spec version))
{
	ok(defined $meta->{$key}, "META.json has the required key '$key'");
}
like($meta->{name} // '', qr{^[^\s/\\\x00-\x1f]{2,}$}, 'name is a valid PGXN name');
is($meta->{'meta-spec'}{version}, '1.0.0', 'meta-spec version is 1.0.0');
like($meta->{version} // '', $semver, 'version is semver');
is($meta->{license}, 'postgresql', 'license is the PostgreSQL licence');
ok(-f "$root/LICENSE", 'the tree has a LICENSE file');
like(slurp("$root/LICENSE"), qr/PostgreSQL License/, 'LICENSE is the PostgreSQL licence')
  if -f "$root/LICENSE";
like($meta->{release_status} // 'stable', qr/^(?:stable|testing|unstable)$/,
	'release_status is stable, testing or unstable');
my @maintainers =
  ref $meta->{maintainer} ? @{ $meta->{maintainer} } : ($meta->{maintainer} // ());
ok(@maintainers, 'at least one maintainer');
like($_, qr/^[^<>]+ <(?:[^\s<>@]+@[^\s<>@]+|https?:\/\/[^\s<>]+)>$/,
	"maintainer '$_' is a name with a contact") for @maintainers;
for my $ext (sort keys %{ $meta->{provides} // {} })
{
	my $p = $meta->{provides}{$ext};
	ok(defined $p->{file} && -f "$root/$p->{file}", "provides.$ext.file exists");
	like($p->{version} // '', $semver, "provides.$ext.version is semver");
	ok(-f "$root/$p->{docfile}", "provides.$ext.docfile exists") if defined $p->{docfile};
}
my $res = $meta->{resources} // {};
like($res->{homepage} // '', $url, 'resources.homepage is a URL');
like($res->{bugtracker}{web} // '', $url, 'resources.bugtracker.web is a URL');
like($res->{repository}{url} // '', $url, 'resources.repository.url is a URL');
like($res->{repository}{web} // '', $url, 'resources.repository.web is a URL');
is($res->{repository}{type}, 'git', 'resources.repository.type is git');
# prereqs: phase -> relationship -> name -> version range ("0", a version, or
# comma-separated operator terms).
my $term = qr/(?:(?:[<>]=?|==|!=)\s*)?\d+\.\d+\.\d+/;
for my $phase (sort keys %{ $meta->{prereqs} // {} })
{
	like($phase, qr/^(?:configure|build|test|runtime|develop)$/, "prereqs phase '$phase'");
	for my $rel (sort keys %{ $meta->{prereqs}{$phase} })
	{
		like($rel, qr/^(?:requires|recommends|suggests|conflicts)$/,
			"prereqs relationship '$phase.$rel'");
		while (my ($name, $range) = each %{ $meta->{prereqs}{$phase}{$rel} })
		{
			like($range, qr/^(?:0|$term(?:\s*,\s*$term)*)$/,
				"prereqs $phase.$rel.$name '$range' is a version range");
		}
	}
}
# The tested range: CI (.ci/run) builds and tests on PostgreSQL 15, 17 and 18 (16 is
# within the range but neither built nor tested).
is($meta->{prereqs}{runtime}{requires}{PostgreSQL},
	'>= 15.0.0, < 19.0.0', 'prereqs state the tested PostgreSQL range');

my ($default_version) = slurp("$root/pg_hygiene.control") =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $default_version, 'control file has a default_version');

# PGXN wants semver (0.1.0) where the control file has 0.1.
(my $dist_version = $default_version) =~ s/^(\d+\.\d+)$/$1.0/;
is($meta->{version}, $dist_version, 'META.json version matches the control file');
is($meta->{provides}{pg_hygiene}{version}, $dist_version, 'provides.pg_hygiene.version matches');
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

# The Debian package carries the same upstream version, and debian/pgversions starts at
# the lowest PostgreSQL version of the prereqs.
if (-f "$root/debian/changelog")
{
	my ($debver) = slurp("$root/debian/changelog") =~ /^pg-hygiene \(([^)-]+)-[^)]+\)/;
	is($debver, $dist_version, 'debian/changelog has the version of the control file');
	my @pgv = grep { /^\d/ } map { s/\s+$//r } split /\n/, slurp("$root/debian/pgversions");
	my ($lowest) = ($meta->{prereqs}{runtime}{requires}{PostgreSQL} // '') =~ />=\s*(\d+)\./;
	is($pgv[0] =~ s/\+$//r, $lowest, 'debian/pgversions starts at the lowest version of the prereqs');
}

my ($libver) = slurp("$root/src/pg_hygiene.h") =~ /HYGIENE_LIBRARY_VERSION\s+"([^"]+)"/;
is($libver, $default_version, 'library version matches the control file');

done_testing();
