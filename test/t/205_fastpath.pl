# A fast-path function call (protocol message 'F', libpq's PQfn) runs no portal, like
# the work run at COMMIT, but it is a client request: the queries of the function it
# calls are still subject to query rules and the limits (work at COMMIT is exempt so
# that COMMIT is never refused).  Spoken here with a hand-written protocol client.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::UNIX;

my $node = PostgreSQL::Test::Cluster->new('fastpath');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
compute_query_id = on
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE ROLE lim_fp LOGIN;
CREATE TABLE lim_fp_t (id int);
INSERT INTO lim_fp_t VALUES (1);
GRANT SELECT ON lim_fp_t TO lim_fp;
CREATE FUNCTION lim_fp_f() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM lim_fp_t WHERE id = 1;
  RETURN n;
END $$;
});
my $fn = $node->safe_psql('postgres', q{SELECT 'lim_fp_f'::regproc::oid});
my $qid;

# EXPLAIN (VERBOSE) shows the query identifier of the query the function runs.
my $explain = $node->safe_psql('postgres',
	q{EXPLAIN (VERBOSE, FORMAT JSON) SELECT count(*) FROM lim_fp_t WHERE id = 1});
($qid) = $explain =~ /"Query Identifier": (-?\d+)/;
ok($qid, "query identifier $qid");

# One fast-path call of the function as lim_fp; returns 'V:<value>' or 'E:<sqlstate>'.
sub fastpath_call
{
	my $sock = IO::Socket::UNIX->new(
		Type => SOCK_STREAM(),
		Peer => $node->host . '/.s.PGSQL.' . $node->port) or die "connect: $!";
	my $params = "user\0lim_fp\0database\0postgres\0\0";
	print $sock pack('NN', 8 + length($params), 196608) . $params;
	my $result;
	my $sent = 0;
	while (1)
	{
		my $hdr;
		read($sock, $hdr, 5) == 5 or die "connection closed";
		my ($type, $len) = unpack('aN', $hdr);
		my $body = '';
		read($sock, $body, $len - 4) if $len > 4;
		if ($type eq 'Z')
		{
			last if $sent;
			# Function call: oid, 0 argument formats, 0 arguments, text result.
			my $msg = pack('Nnnn', $fn, 0, 0, 0);
			print $sock 'F' . pack('N', 4 + length($msg)) . $msg;
			$sent = 1;
		}
		elsif ($type eq 'V')
		{
			my $vlen = unpack('N', $body);
			$result = 'V:' . substr($body, 4, $vlen);
		}
		elsif ($type eq 'E')
		{
			my ($code) = $body =~ /C([0-9A-Z]{5})\0/;
			$result = "E:$code";
			last unless $sent;
		}
	}
	print $sock 'X' . pack('N', 4);
	close $sock;
	return $result;
}

is(fastpath_call(), 'V:1', 'without a rule the fast-path call returns the count');
$node->safe_psql('postgres', "SELECT hygiene.block_query($qid, 'blocked digest')");
is(fastpath_call(), 'E:53H10', 'a block rule stops the query of a fast-path call');
$node->safe_psql('postgres', "SELECT hygiene.remove_query_rule($qid)");

# The limits count a fast-path call's query like a client statement.
$node->safe_psql('postgres', q{ALTER ROLE lim_fp SET pg_hygiene.max_active_statements = 10});
is(fastpath_call(), 'V:1', 'under a role cap the fast-path call runs');
is($node->safe_psql('postgres',
		q{SELECT admitted_limited FROM hygiene.role_stats WHERE rolname = 'lim_fp'}),
	'1', 'and its query is admitted');

$node->stop;
done_testing();
