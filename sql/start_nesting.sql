-- The ExecutorStart nesting level is kept without a PG_TRY (bench/instructions.sh):
-- an error raised while a statement starts is undone by the abort of the
-- transaction or subtransaction that catches it, so later statements are still
-- seen as client statements (counted in hygiene.status, under the limits).
CREATE TABLE start_nest (a int);
INSERT INTO start_nest SELECT generate_series(1, 10000);
ANALYZE start_nest;
SET pg_hygiene.exempt_superusers = off;

-- a reference: two client statements between the readings
SELECT statements_seen AS seen_before FROM hygiene.status \gset
SELECT 1 AS one;
SELECT statements_seen - :seen_before AS seen FROM hygiene.status;

-- the scan costs more than the cap: rejected inside ExecutorStart
SET pg_hygiene.max_plan_cost = 50;

-- an error at the start of a client statement: the transaction aborts
SELECT count(*) FROM start_nest;
SELECT statements_seen AS seen_before FROM hygiene.status \gset
SELECT 1 AS one;
SELECT statements_seen - :seen_before AS seen FROM hygiene.status;

-- caught by ROLLBACK TO SAVEPOINT: the subtransaction abort restores the level
BEGIN;
SAVEPOINT s;
SELECT count(*) FROM start_nest;
ROLLBACK TO SAVEPOINT s;
SELECT statements_seen AS seen_before FROM hygiene.status \gset
SELECT 1 AS one;
SELECT statements_seen - :seen_before AS seen FROM hygiene.status;
COMMIT;

-- caught by a PL/pgSQL exception block in a statement that then commits
DO $$
BEGIN
	BEGIN
		PERFORM count(*) FROM start_nest;
	EXCEPTION WHEN others THEN
		RAISE NOTICE 'caught: %', SQLERRM;
	END;
END
$$;
SELECT statements_seen AS seen_before FROM hygiene.status \gset
SELECT 1 AS one;
SELECT statements_seen - :seen_before AS seen FROM hygiene.status;

-- and the cap still applies to the next client statement
SELECT count(*) FROM start_nest;

RESET pg_hygiene.max_plan_cost;
RESET pg_hygiene.exempt_superusers;
DROP TABLE start_nest;
