# The Grafana dashboard (monitoring/grafana/pg_hygiene.json) is built only on the metric
# names of monitoring/pg_hygiene_queries.yaml: every pg_hygiene_* name in a panel's or a
# variable's query is <query key>_<column> of a COUNTER or GAUGE column of the queries
# file, the Prometheus datasource is a variable, and there are panels for role admission
# and rejections, waits, rule hits, no-op suppression, the DDL guard and the advice.
# test/t/530_monitoring.pl checks that the exporter exposes these names.  No server.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use File::Basename;

my $top = dirname(__FILE__) . '/../..';
my $dashboard_file = "$top/monitoring/grafana/pg_hygiene.json";
my $queries_file = "$top/monitoring/pg_hygiene_queries.yaml";

# Metric names of the queries file: "<key>_<column>" for each column whose usage is not
# LABEL.  The file's layout: a top-level "key:", "    - column:", "        usage: ...".
sub queries_metrics
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	my (%metrics, %labels, $key, $column);
	while (my $line = <$fh>)
	{
		if ($line =~ /^([a-z][a-z0-9_]*):\s*$/) { $key = $1; $column = undef; }
		elsif (defined $key && $line =~ /^\s+- ([a-z][a-z0-9_]*):\s*$/) { $column = $1; }
		elsif (defined $column && $line =~ /^\s+usage:\s*"?(\w+)"?/)
		{
			if ($1 eq 'LABEL') { $labels{$column} = 1; }
			else { $metrics{"${key}_$column"} = $1; }
			$column = undef;
		}
	}
	close $fh;
	return (\%metrics, \%labels);
}

# Every query string of the dashboard: targets' "expr", variables' "query"/"definition".
sub dashboard_queries
{
	my ($node, $out) = @_;
	if (ref $node eq 'HASH')
	{
		for my $k (sort keys %$node)
		{
			my $v = $node->{$k};
			if (!ref $v && defined $v && $k =~ /^(expr|definition|query)$/) { push @$out, $v; }
			else { dashboard_queries($v, $out); }
		}
	}
	elsif (ref $node eq 'ARRAY') { dashboard_queries($_, $out) for @$node; }
	return $out;
}

my ($metrics, $labels) = queries_metrics($queries_file);
cmp_ok(scalar(keys %$metrics), '>=', 40, 'queries file parsed: ' . scalar(keys %$metrics) . ' metrics');

my $dashboard = decode_json(slurp_file($dashboard_file));
ok(ref $dashboard eq 'HASH' && ref $dashboard->{panels} eq 'ARRAY', 'dashboard is JSON with panels');

my $queries = dashboard_queries($dashboard, []);
my %used;
for my $q (@$queries) { $used{$1} = 1 while $q =~ /\b(pg_hygiene_[a-z0-9_]+)/g; }
cmp_ok(scalar(keys %used), '>=', 20, 'dashboard uses ' . scalar(keys %used) . ' metric names');
my @unknown = grep { !exists $metrics->{$_} } sort keys %used;
is_deeply(\@unknown, [], 'every metric the dashboard uses is in the queries file');

# label names used in "by (...)" and legends exist as labels of the queries file (or are
# the exporter's/Prometheus' own: instance, job, server)
my %known_labels = (%$labels, instance => 1, job => 1, server => 1);
my %used_labels;
for my $q (@$queries)
{
	while ($q =~ /\bby \(([^)]*)\)/g) { $used_labels{$_} = 1 for map { s/^\s+|\s+$//gr } split /,/, $1; }
}
my @unknown_labels = grep { !$known_labels{$_} } sort keys %used_labels;
is_deeply(\@unknown_labels, [], 'every label the dashboard groups by is a label of the queries file');

# the datasource is a variable, on every panel and target
my ($ds_var) = grep { $_->{type} eq 'datasource' } @{ $dashboard->{templating}{list} };
ok($ds_var && $ds_var->{query} eq 'prometheus', 'a Prometheus datasource variable');
my @fixed_ds;
for my $p (@{ $dashboard->{panels} })
{
	next if $p->{type} eq 'row';
	for my $o ($p, @{ $p->{targets} || [] })
	{
		push @fixed_ds, $p->{title}
		  unless ref $o->{datasource} eq 'HASH' && ($o->{datasource}{uid} // '') eq '${datasource}';
	}
}
is_deeply(\@fixed_ds, [], 'every panel and target uses the datasource variable');

# panels for what issue 13 asks
my %ids;
$ids{ $_->{id} }++ for @{ $dashboard->{panels} };
is(scalar(grep { $_ > 1 } values %ids), 0, 'panel ids are unique');
for my $want (
	[ 'role admission', qr/^pg_hygiene_role_admitted_limited_total$/ ],
	[ 'rejections', qr/^pg_hygiene_role_rejected_\w+_total$/ ],
	[ 'waits', qr/^pg_hygiene_role_wait_seconds_total$/ ],
	[ 'rule hits', qr/^pg_hygiene_rule_\w+_total$/ ],
	[ 'no-op suppression', qr/^pg_hygiene_table_writes_noop_suppressed_total$/ ],
	[ 'DDL guard events', qr/^pg_hygiene_ddl_events_events$/ ],
	[ 'advice', qr/^pg_hygiene_advice_recommendations$/ ],
	[ 'advice sampler', qr/^pg_hygiene_advice_history_last_sample_age_seconds$/ ],
	[ 'disabled indexes', qr/^pg_hygiene_disabled_index_\w+$/ ])
{
	ok((grep { $_ =~ $want->[1] } keys %used), "a panel for $want->[0]");
}

done_testing();
