# One greppable form (O5): every message pg_hygiene raises or logs starts with
# "pg_hygiene: ", except the errors that must read exactly like stock PostgreSQL's (the
# MERGE and ON CONFLICT cardinality errors of the no-op update modes). elog(ERROR) is for
# can't-happen internal errors and is not checked.
use strict;
use warnings;
use Test::More;

my %stock = (
	'MERGE command cannot affect row a second time' => 1,
	'ON CONFLICT DO UPDATE command cannot affect row a second time' => 1,);

my $checked = 0;
for my $file (sort glob('src/*.c'))
{
	open(my $fh, '<', $file) or die "cannot open $file: $!";
	local $/;
	my $src = <$fh>;
	close $fh;

	# errmsg("..."), errmsg_plural("...", "...", ...): the (first) format string
	while ($src =~ /\berrmsg(?:_plural)?\(\s*"((?:[^"\\]|\\.)*)"/g)
	{
		my $msg = $1;
		$checked++;
		next if $stock{$msg};
		like($msg, qr/^pg_hygiene: /, "$file: \"$msg\"");
	}
	# errmsg_plural's second (plural) form
	while ($src =~ /\berrmsg_plural\(\s*"(?:[^"\\]|\\.)*"\s*,\s*"((?:[^"\\]|\\.)*)"/g)
	{
		like($1, qr/^pg_hygiene: /, "$file: plural \"$1\"");
	}
	# pg_hygiene.debug's NOTICEs
	while ($src =~ /\bhygiene_debug_notice\(\s*"((?:[^"\\]|\\.)*)"/g)
	{
		$checked++;
		like($1, qr/^pg_hygiene: /, "$file: debug \"$1\"");
	}
	# elog() at any level but ERROR (LOG, WARNING, ...): a message a DBA reads
	while ($src =~ /\belog\(\s*(\w+)\s*,\s*"((?:[^"\\]|\\.)*)"/g)
	{
		next if $1 eq 'ERROR' || $1 =~ /^DEBUG/;
		$checked++;
		like($2, qr/^pg_hygiene: /, "$file: elog $1 \"$2\"");
	}
}
cmp_ok($checked, '>', 30, "found the messages ($checked)");

done_testing();
