# Trust: an ordinary role that owns a database without the extension, a schema on
# somebody's search_path, or a pre-created "hygiene" schema can plant functions and
# tables named like the extension's.  Nothing it plants may run as another role or
# steer another role's statements (findings S1, S2, S3), and the shared views and
# errors show ordinary roles nothing of other databases or unreadable tables (S5-S7).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('security');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_hygiene'
compute_query_id = on
pg_hygiene.ddl_guard = off
});
$node->start;

$node->safe_psql('postgres', q{
CREATE ROLE evil LOGIN;
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE ROLE monitor LOGIN IN ROLE pg_read_all_stats;
CREATE DATABASE victim OWNER evil;
CREATE DATABASE squatdb OWNER alice;
CREATE DATABASE app;
CREATE DATABASE trojdb;
GRANT CREATE ON DATABASE trojdb TO alice;
GRANT CREATE ON DATABASE app TO bob;
});

sub is_superuser
{
	my ($role) = @_;
	return $node->safe_psql('postgres',
		"SELECT rolsuper FROM pg_roles WHERE rolname = '$role'");
}

# Run SQL as a role (SET SESSION AUTHORIZATION keeps the test independent of pg_hba).
sub psql_as
{
	my ($db, $role, $sql) = @_;
	return $node->psql($db, "SET SESSION AUTHORIZATION $role;\n$sql");
}

sub safe_as
{
	my ($db, $role, $sql) = @_;
	my ($ret, $out, $err) = psql_as($db, $role, $sql);
	die "as $role in $db: $err" if $ret != 0;
	return $out;
}

# ---------------------------------------------------------------------------
# S1 (a): a database owner plants hygiene._noop_update_trigger() where the
# extension is not installed; a superuser's upsert or UPDATE must not run it.
# ---------------------------------------------------------------------------
safe_as('victim', 'evil', q{
CREATE SCHEMA hygiene;
CREATE FUNCTION hygiene._noop_update_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted trigger ran as %', current_user;
  IF current_user <> 'evil' THEN EXECUTE 'ALTER ROLE evil SUPERUSER'; END IF;
  RETURN NEW;
END $$;
CREATE TABLE public.t (k int PRIMARY KEY, v int);
INSERT INTO public.t VALUES (1, 1);
GRANT ALL ON public.t TO PUBLIC;
});
# A superuser's own table with a BEFORE ROW UPDATE trigger (the trigger path).
$node->safe_psql('victim', q{
CREATE SCHEMA su;
CREATE TABLE su.u (k int PRIMARY KEY, v int, at timestamptz);
INSERT INTO su.u VALUES (1, 1, NULL);
CREATE FUNCTION su.keep() RETURNS trigger LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER keep BEFORE UPDATE ON su.u FOR EACH ROW EXECUTE FUNCTION su.keep();
});

# ---------------------------------------------------------------------------
# S1 (b): the owner of a database without the extension plants the rule and
# settings tables to block or re-mode another role's statements.
# ---------------------------------------------------------------------------
safe_as('squatdb', 'alice', q{
CREATE TABLE public.t (id int PRIMARY KEY, v int);
INSERT INTO public.t VALUES (1, 1);
GRANT SELECT ON public.t TO bob;
CREATE TABLE public.n (id int PRIMARY KEY, v int);
INSERT INTO public.n VALUES (1, 1);
GRANT SELECT, UPDATE ON public.n TO bob;
CREATE SCHEMA hygiene;
CREATE TABLE hygiene.query_rule (rule_id bigint, queryid bigint, role regrole,
  action text, per_second float8, max_concurrent int, dry_run bool, reason text,
  expires_at timestamptz);
CREATE TABLE hygiene.noop_update_settings (relid regclass, mode text);
INSERT INTO hygiene.noop_update_settings VALUES ('public.n', 'lock');
});
my $plan = safe_as('squatdb', 'bob',
	'EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM public.t WHERE id = 1');
my ($queryid) = $plan =~ /Query Identifier: (-?\d+)/;
ok(defined $queryid, 'query id of the victim statement');
safe_as('squatdb', 'alice', qq{
INSERT INTO hygiene.query_rule VALUES (1, $queryid, 'bob', 'block', NULL, NULL, false,
  'squatted rule: blocked by alice', NULL);
});
$node->safe_psql('postgres',
	'ALTER DATABASE squatdb SET pg_hygiene.noop_updates = observe');

# Every backend reads the tables afresh.
$node->restart;

my ($ret, $out, $err) = $node->psql('victim', q{
SET pg_hygiene.noop_updates = lock;
INSERT INTO public.t VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
INSERT INTO public.t VALUES (1, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
UPDATE su.u SET v = 1 WHERE k = 1;
SELECT v FROM public.t;});
is($ret, 0, 'S1: upserts and UPDATE in a database without the extension succeed');
is($out, '2', 'S1: the upsert did what stock does');
unlike($err, qr/planted trigger ran/, 'S1: a planted _noop_update_trigger never runs');
is(is_superuser('evil'), 'f', 'S1: the database owner did not become superuser');

($ret, $out, $err) = psql_as('squatdb', 'bob', 'SELECT v FROM public.t WHERE id = 1');
is($ret, 0, 'S1: a planted hygiene.query_rule blocks nothing');
unlike($err, qr/blocked/, 'S1: no rule error');

my $ctid_before = safe_as('squatdb', 'bob', 'SELECT ctid FROM public.n');
safe_as('squatdb', 'bob', 'UPDATE public.n SET v = 1 WHERE id = 1');
my $ctid_after = safe_as('squatdb', 'bob', 'SELECT ctid FROM public.n');
isnt($ctid_after, $ctid_before,
	'S1: a planted hygiene.noop_update_settings does not change the mode (observe writes the row)');

# ---------------------------------------------------------------------------
# S1: where the extension is installed, its own objects keep working, and
# CREATE/DROP EXTENSION reach backends that already cached the answer.
# ---------------------------------------------------------------------------
$node->safe_psql('app', 'CREATE EXTENSION pg_hygiene');
my $bg = $node->background_psql('app', on_error_stop => 0);
$bg->query_safe(q{
SET pg_hygiene.noop_updates = lock;
CREATE TABLE public.up (k int PRIMARY KEY, v int);
INSERT INTO public.up VALUES (1, 1);
INSERT INTO public.up VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v;});
is($bg->query_safe(
		"SELECT noop_suppressed FROM hygiene.table_write_stats WHERE relname = 'up'"),
	'1', 'S1: the extension\'s trigger function is used where the extension exists');
$node->safe_psql('app', 'DROP EXTENSION pg_hygiene');
my $ctid0 = $bg->query_safe('SELECT ctid FROM public.up');
$bg->query_safe('INSERT INTO public.up VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
isnt($bg->query_safe('SELECT ctid FROM public.up'), $ctid0,
	'S1: after DROP EXTENSION a session that cached the members writes the row as stock');
$node->safe_psql('app', 'CREATE EXTENSION pg_hygiene');
$ctid0 = $bg->query_safe('SELECT ctid FROM public.up');
$bg->query_safe('INSERT INTO public.up VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
is($bg->query_safe('SELECT ctid FROM public.up'), $ctid0,
	'S1: after CREATE EXTENSION the same session suppresses again');
$bg->quit;

# A session that cached a rule of the extension's table drops it with the extension.
$node->safe_psql('app', q{
CREATE TABLE public.qt (id int PRIMARY KEY, v int);
INSERT INTO public.qt VALUES (1, 1);
GRANT SELECT ON public.qt TO bob;});
$plan = safe_as('app', 'bob', 'EXPLAIN (VERBOSE, COSTS OFF) SELECT v FROM public.qt WHERE id = 1');
my ($qid2) = $plan =~ /Query Identifier: (-?\d+)/;
# No new session may start between the DROP and the check: a new session reading
# the rules would publish the change by itself.
my $adm = $node->background_psql('app');
$adm->query_safe("SELECT hygiene.block_query($qid2, 'blocked for the test', role => 'bob')");
my $bobs = $node->background_psql('app', on_error_stop => 0);
$bobs->query_safe('SET SESSION AUTHORIZATION bob');
$bobs->query('SELECT v FROM public.qt WHERE id = 1');
like($bobs->{stderr}, qr/blocked for the test/, 'S1: the extension\'s rule applies');
$adm->query_safe('DROP EXTENSION pg_hygiene');
# At once, not only after the periodic reread (about once a second).
my $after_drop = $bobs->query('SELECT v FROM public.qt WHERE id = 1');
is($after_drop, '1',
	'S1: after DROP EXTENSION the rule no longer applies in a session that cached it');
$bobs->quit;
$adm->quit;
$node->safe_psql('app', 'CREATE EXTENSION pg_hygiene');

# ---------------------------------------------------------------------------
# S2: a role with CREATE on a schema on a superuser's search_path plants
# format() overloads that the advice functions would pick.
# ---------------------------------------------------------------------------
$node->safe_psql('app', q{
CREATE SCHEMA appschema;
GRANT USAGE, CREATE ON SCHEMA appschema TO alice;
CREATE TABLE public.h1 (id int PRIMARY KEY, v text);
INSERT INTO public.h1 SELECT g, 'x' FROM generate_series(1, 1000) g;
UPDATE public.h1 SET v = 'y' WHERE id <= 500;
ANALYZE public.h1;
});
safe_as('app', 'alice', q{
CREATE FUNCTION appschema.format(text, name, text, text, bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted format ran as %', current_user;
  IF current_user <> 'alice' THEN EXECUTE 'ALTER ROLE alice SUPERUSER'; END IF;
  RETURN pg_catalog.format($1, $2, $3, $4, $5);
END $$;
CREATE FUNCTION appschema.format(text, name, name) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted format ran as %', current_user;
  IF current_user <> 'alice' THEN EXECUTE 'ALTER ROLE alice SUPERUSER'; END IF;
  RETURN pg_catalog.format($1, $2, $3);
END $$;
CREATE FUNCTION appschema.format(text, integer, text, text, text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted format ran as %', current_user;
  IF current_user <> 'alice' THEN EXECUTE 'ALTER ROLE alice SUPERUSER'; END IF;
  RETURN pg_catalog.format($1, $2, $3, $4, $5);
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA appschema TO PUBLIC;
});
($ret, $out, $err) = $node->psql('app', q{
SET search_path = appschema, public;
SELECT count(*) > 0 FROM hygiene.table_health;
SELECT count(*) >= 0 FROM hygiene.table_advice;
SELECT count(*) >= 0 FROM hygiene.database_advice;
SELECT count(*) >= 0 FROM hygiene.xmin_holders;});
is($ret, 0, 'S2: the advice views run');
unlike($err, qr/planted format ran/, 'S2: a planted format() overload never runs');
is(is_superuser('alice'), 'f', 'S2: the planter did not become superuser');

# ---------------------------------------------------------------------------
# S3: a pre-created "hygiene" schema that a non-superuser owns, may create in,
# or has objects in is refused by CREATE EXTENSION.
# ---------------------------------------------------------------------------
safe_as('trojdb', 'alice', q{
CREATE SCHEMA hygiene;
CREATE FUNCTION hygiene._advice_record(oid[], bigint[], text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'planted _advice_record ran as %', current_user;
  IF current_user <> 'alice' THEN EXECUTE 'ALTER ROLE alice SUPERUSER'; END IF;
  RETURN 0;
END $$;
});
($ret, $out, $err) = $node->psql('trojdb', 'CREATE EXTENSION pg_hygiene');
isnt($ret, 0, 'S3: CREATE EXTENSION refuses a schema owned by a non-superuser');
like($err, qr/pg_hygiene: cannot install into schema "hygiene" owned by role "alice"/,
	'S3: the error names the schema and its owner');
like($err, qr/HINT:  Drop or rename that schema/, 'S3: the hint says what to do');

$node->safe_psql('trojdb', q{
ALTER SCHEMA hygiene OWNER TO postgres;
GRANT CREATE ON SCHEMA hygiene TO alice;});
($ret, $out, $err) = $node->psql('trojdb', 'CREATE EXTENSION pg_hygiene');
like($err, qr/pg_hygiene: cannot install into schema "hygiene": role "alice" may create objects in it or owns one/,
	'S3: refused while a non-superuser may create in the schema');
$node->safe_psql('trojdb', 'REVOKE CREATE ON SCHEMA hygiene FROM alice');
($ret, $out, $err) = $node->psql('trojdb', 'CREATE EXTENSION pg_hygiene');
like($err, qr/role "alice" may create objects in it or owns one/,
	'S3: refused while a non-superuser owns an object in the schema');
$node->safe_psql('trojdb',
	'DROP FUNCTION hygiene._advice_record(oid[], bigint[], text)');
$node->safe_psql('trojdb', 'CREATE EXTENSION pg_hygiene');
$node->safe_psql('trojdb', 'DROP EXTENSION pg_hygiene');
$node->safe_psql('trojdb', 'CREATE EXTENSION pg_hygiene');
pass('S3: a clean superuser-owned schema (also one left by DROP EXTENSION) is accepted');
($ret, $out, $err) = psql_as('trojdb', 'alice', 'SELECT hygiene._advice_maybe_sample() >= 0');
unlike($err, qr/planted _advice_record ran/, 'S3: nothing planted runs');
is(is_superuser('alice'), 'f', 'S3: the planter did not become superuser');

# ---------------------------------------------------------------------------
# S5: other databases' DDL events and write statistics are for monitoring roles.
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_hygiene;
CREATE TABLE public.secret_payroll (g int);
INSERT INTO public.secret_payroll VALUES (1);
SET pg_hygiene.noop_updates = observe;
UPDATE public.secret_payroll SET g = 2;
SET pg_hygiene.ddl_guard = warn;
BEGIN;
SELECT hygiene.allow_ddl('new_table');
CREATE TABLE public.secret_payroll_2027 (g int);
COMMIT;});
my $other_events = q{SELECT count(*) FROM hygiene.ddl_events
	WHERE datname <> current_database()};
my $other_stats = q{SELECT count(*) FROM hygiene._table_write_stats()
	WHERE dbid <> (SELECT oid FROM pg_database WHERE datname = current_database())};
isnt($node->safe_psql('app', "SET ROLE monitor; $other_events"), '0',
	'S5: pg_read_all_stats sees other databases\' DDL events');
isnt($node->safe_psql('app', "SET ROLE monitor; $other_stats"), '0',
	'S5: pg_read_all_stats sees other databases\' write statistics');
is(safe_as('app', 'alice', $other_events), '0',
	'S5: an ordinary role sees no DDL events of other databases');
is(safe_as('app', 'alice', $other_stats), '0',
	'S5: an ordinary role sees no write statistics of other databases');

# ---------------------------------------------------------------------------
# S6: row widths only of columns the caller may read.
# ---------------------------------------------------------------------------
safe_as('app', 'bob', q{
CREATE SCHEMA bobsecret;
CREATE TABLE bobsecret.tokens (tok text);
INSERT INTO bobsecret.tokens SELECT md5(g::text) FROM generate_series(1, 100) g;
ANALYZE bobsecret.tokens;});
my $widths = q{SELECT count(*) FROM hygiene._row_widths() AS s
	JOIN pg_class AS c ON c.oid = s.starelid WHERE c.relname = 'tokens'};
is(safe_as('app', 'bob', $widths), '1', 'S6: the owner sees the width of its table');
is(safe_as('app', 'alice', $widths), '0',
	'S6: a role that cannot read the table does not see its width');

# ---------------------------------------------------------------------------
# S7: a max_active_total rejection does not show the instance-wide count to
# ordinary roles.
# ---------------------------------------------------------------------------
$node->safe_psql('postgres', q{
CREATE ROLE holder LOGIN;
ALTER ROLE holder SET pg_hygiene.max_active_total = 100;
CREATE ROLE lim LOGIN;
ALTER ROLE lim SET pg_hygiene.max_active_total = 1;
ALTER ROLE lim SET pg_hygiene.queue_timeout = 0;
CREATE ROLE limmon LOGIN IN ROLE pg_read_all_stats;
ALTER ROLE limmon SET pg_hygiene.max_active_total = 1;
ALTER ROLE limmon SET pg_hygiene.queue_timeout = 0;});
my $locker = $node->background_psql('postgres');
$locker->query_safe('SELECT pg_advisory_lock(77)');
my $holder = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'holder' ]);
$holder->{stdin} .= "SELECT pg_advisory_lock_shared(77);\n";
$holder->{run}->pump_nb;
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted})
  or die 'holder not blocked';
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'lim' ]);
like($err, qr/pg_hygiene: too many active statements in the instance/, 'S7: the statement is rejected');
like($err, qr/DETAIL:  pg_hygiene.max_active_total is 1; priority/,
	'S7: the detail names the cap');
unlike($err, qr/statements? (are|is) running/,
	'S7: an ordinary role is not told the instance-wide count');
($ret, $out, $err) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'limmon' ]);
like($err, qr/max_active_total is 1 and 1 statement is running/,
	'S7: a monitoring role is told the count');
$locker->query_safe('SELECT pg_advisory_unlock(77)');
$locker->quit;
$holder->quit;

$node->stop;
done_testing();
