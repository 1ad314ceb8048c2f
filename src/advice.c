/*-------------------------------------------------------------------------
 *
 * advice.c
 *		Shared-memory rolling history of per-table statistics samples, the
 *		evidence over time behind hygiene.table_health and
 *		hygiene.table_advice; and a superuser-only way to feed the per-table
 *		UPDATE statistics (for tests and for importing).
 *
 * Design.  Rates ("updates per hour") and persistence ("dead tuples above
 * the trigger for 3 samples") need more than the cumulative counters of
 * pg_stat_user_tables.  Instead of a background worker, a sample is taken
 * when the advice views are queried and the last sample of the database is
 * at least pg_hygiene.advice_sample_interval old (or by hygiene.take_sample(),
 * e.g. from cron).  The SQL side decides what a sample holds: a vector of at
 * most ADVICE_MAX_METRICS bigints per table; this file only keeps, per
 * (database, table), a ring of the last pg_hygiene.advice_history_samples
 * vectors with their times, and returns them newest first.  Keeping the
 * meaning in SQL keeps every rule in one place and testable there.
 *
 * A recording round carries every table of the database: entries of that
 * database that the round did not mention (dropped tables) are removed.  A
 * metric flagged monotonic that went down (statistics reset, OID reuse)
 * restarts that table's ring, so that no rate spans a reset.  When the hash
 * is full, tables that have no entry get no history; they are counted in
 * dropped_tables.  Nothing is persisted: a restart starts history afresh.
 *
 * Locking: one LWLock.  Claiming the next sample and recording a round take
 * it exclusively (a round over 10,000 tables is a few milliseconds of hash
 * work); reading history takes it shared and copies out.
 *
 * IDENTIFICATION
 *	  src/advice.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pg_hygiene.h"
#include "advice.h"
#include "table_stats.h"

typedef struct AdviceKey
{
	Oid			dbid;
	Oid			relid;			/* InvalidOid: the database's own entry */
} AdviceKey;

/*
 * One table's ring.  Followed in shared memory by
 * TimestampTz taken_at[samples] and int64 metrics[samples][ADVICE_MAX_METRICS].
 * The database's own entry (relid = InvalidOid) uses taken_at[0] as the time
 * of the last claimed sample.
 */
typedef struct AdviceEntry
{
	AdviceKey	key;			/* hash key: must be first */
	uint32		round;			/* last recording round that mentioned it */
	int			nsamples;		/* valid samples, <= advice_samples */
	int			head;			/* slot of the newest sample */
	int			nmetrics;		/* length of each vector */
} AdviceEntry;

typedef struct AdviceShared
{
	LWLock	   *lock;
	uint32		round;			/* recording rounds so far */
	int			ntables;		/* table entries (relid valid) in the hash */
	pg_atomic_uint64 dropped;	/* table samples not kept: hash full */
} AdviceShared;

static int	advice_tables = 5000;
static int	advice_samples = 6;
int			advice_sample_interval = 600;	/* also read by advice_worker.c */
static int	advice_big_table_rows = 1000000;
static int	advice_min_updates = 1000;
static int	advice_min_table_size = 8192;

static AdviceShared *adv_shared = NULL;
static HTAB *adv_hash = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_advice_claim);
PG_FUNCTION_INFO_V1(hygiene_advice_record);
PG_FUNCTION_INFO_V1(hygiene_advice_history);
PG_FUNCTION_INFO_V1(hygiene_advice_history_summary);
PG_FUNCTION_INFO_V1(hygiene_table_stats_feed);

/* Bytes of one entry including its ring. */
static Size
advice_entry_size(void)
{
	return MAXALIGN(sizeof(AdviceEntry)) +
		MAXALIGN(sizeof(TimestampTz) * advice_samples) +
		sizeof(int64) * advice_samples * ADVICE_MAX_METRICS;
}

/* Times of an entry's ring. */
static inline TimestampTz *
advice_times(AdviceEntry *e)
{
	return (TimestampTz *) ((char *) e + MAXALIGN(sizeof(AdviceEntry)));
}

/* Metric vector of ring slot i. */
static inline int64 *
advice_vector(AdviceEntry *e, int i)
{
	char	   *base = (char *) e + MAXALIGN(sizeof(AdviceEntry)) +
		MAXALIGN(sizeof(TimestampTz) * advice_samples);

	return (int64 *) (base + sizeof(int64) * ADVICE_MAX_METRICS * i);
}

/* Database entries (relid = InvalidOid): at most this many databases sample. */
#define ADVICE_MAX_DATABASES 64

/* Entries: every table plus one per database that samples. */
static long
advice_max_entries(void)
{
	return (long) advice_tables + ADVICE_MAX_DATABASES;
}

/* Ask for the hash and the lock. */
static void
advice_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(MAXALIGN(sizeof(AdviceShared)));
	RequestAddinShmemSpace(hash_estimate_size(advice_max_entries(), advice_entry_size()));
	RequestNamedLWLockTranche("pg_hygiene_advice", 1);
}

/* Attach to the hash, creating it on first attach. */
static void
advice_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	adv_shared = ShmemInitStruct("pg_hygiene advice", sizeof(AdviceShared), &found);
	if (!found)
	{
		adv_shared->lock = &(GetNamedLWLockTranche("pg_hygiene_advice"))->lock;
		adv_shared->round = 0;
		adv_shared->ntables = 0;
		pg_atomic_init_u64(&adv_shared->dropped, 0);
	}
	info.keysize = sizeof(AdviceKey);
	info.entrysize = advice_entry_size();
	adv_hash = ShmemInitHash("pg_hygiene advice history",
							 advice_max_entries(), advice_max_entries(),
							 &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* Define the GUCs and install the shared memory hooks; called from _PG_init. */
void
advice_init(void)
{
	DefineCustomIntVariable("pg_hygiene.advice_history_tables",
							"Maximum number of tables whose statistics history the advice views keep.",
							"Tables beyond this number get no history (no rates, no streaks); "
							"they are counted in hygiene.advice_history.dropped_samples.",
							&advice_tables,
							5000, 100, 1000000,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.advice_history_samples",
							"Number of samples kept per table for the advice views.",
							"Together with pg_hygiene.advice_sample_interval this is the window "
							"over which rates are computed.",
							&advice_samples,
							6, 2, 100,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.advice_sample_interval",
							"Time between two statistics samples of a database.",
							"A background worker samples every database with the extension at this "
							"interval, and an advice view samples when queried if the last sample is "
							"at least this old; 0 turns the worker off and samples on every query (tests).",
							&advice_sample_interval,
							600, 0, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.advice_big_table_rows",
							"Row count from which the advice views treat a table as big.",
							"Big tables get trigger advice (vacuum, insert, analyze) sized in rows.",
							&advice_big_table_rows,
							1000000, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.advice_min_updates",
							"Updates a table needs in the window before HOT and no-op advice is given.",
							NULL,
							&advice_min_updates,
							1000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.advice_min_table_size",
							"Table size from which bloat and unused-fillfactor advice is given.",
							NULL,
							&advice_min_table_size,
							8192, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	advice_worker_init();

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = advice_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = advice_shmem_startup;
}

/* Complain when called without the preloaded library's shared memory. */
static void
advice_require_shmem(void)
{
	if (adv_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene: shared memory is not available"),
				 errhint("Add pg_hygiene to shared_preload_libraries and restart the server.")));
}

/*
 * hygiene._advice_claim(force): true when the caller should take a sample of
 * the current database now (the last one is older than the interval, or
 * force); the claim is recorded at once so that concurrent callers do not
 * sample twice.
 */
Datum
hygiene_advice_claim(PG_FUNCTION_ARGS)
{
	bool		force = PG_GETARG_BOOL(0);
	AdviceKey	key;
	AdviceEntry *e;
	bool		found;
	bool		due = false;
	TimestampTz now = GetCurrentTimestamp();

	advice_require_shmem();
	key.dbid = MyDatabaseId;
	key.relid = InvalidOid;

	LWLockAcquire(adv_shared->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(adv_hash) - adv_shared->ntables >= ADVICE_MAX_DATABASES)
		e = hash_search(adv_hash, &key, HASH_FIND, &found);
	else
		e = hash_search(adv_hash, &key, HASH_ENTER_NULL, &found);
	if (e != NULL)
	{
		if (!found)
		{
			e->round = 0;
			e->nsamples = 0;
			e->head = 0;
			e->nmetrics = 0;
		}
		if (force || e->nsamples == 0 ||
			TimestampDifferenceExceeds(advice_times(e)[0], now,
									   advice_sample_interval * 1000 - 1))
		{
			advice_times(e)[0] = now;
			e->nsamples = 1;
			due = true;
		}
	}
	LWLockRelease(adv_shared->lock);

	PG_RETURN_BOOL(due);
}

/*
 * hygiene._advice_record(relids oid[], metrics bigint[][], monotonic bool[]):
 * add one sample per table of the current database (row i of metrics belongs
 * to relids[i]) and forget the tables of this database not mentioned.
 * Returns the number of tables whose sample was kept.
 */
Datum
hygiene_advice_record(PG_FUNCTION_ARGS)
{
	ArrayType  *relarr = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *metarr = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *monarr = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *reldat;
	Datum	   *metdat;
	Datum	   *mondat;
	bool	   *relnull;
	bool	   *metnull;
	bool	   *monnull;
	int			nrel;
	int			nmet;
	int			nmon;
	int			k;
	int64		kept = 0;
	uint32		round;
	TimestampTz now = GetCurrentTimestamp();
	HASH_SEQ_STATUS status;
	AdviceEntry *e;

	advice_require_shmem();

	deconstruct_array(relarr, OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &reldat, &relnull, &nrel);
	deconstruct_array(metarr, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &metdat, &metnull, &nmet);
	deconstruct_array(monarr, BOOLOID, 1, true, TYPALIGN_CHAR,
					  &mondat, &monnull, &nmon);

	k = nmon;
	if (k < 1 || k > ADVICE_MAX_METRICS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_hygiene: a sample must have between 1 and %d metrics", ADVICE_MAX_METRICS),
				 errdetail("The monotonic array has %d elements.", nmon)));
	if (nrel > 0 && (ARR_NDIM(metarr) != 2 || ARR_DIMS(metarr)[0] != nrel ||
					 ARR_DIMS(metarr)[1] != k))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("pg_hygiene: metrics must be a two-dimensional array of %d rows and %d columns", nrel, k)));
	for (int i = 0; i < nrel; i++)
		if (relnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pg_hygiene: relids must not contain NULL")));
	for (int i = 0; i < nmet; i++)
		if (metnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pg_hygiene: metrics must not contain NULL")));
	for (int j = 0; j < k; j++)
		if (monnull[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("pg_hygiene: monotonic must not contain NULL")));

	LWLockAcquire(adv_shared->lock, LW_EXCLUSIVE);
	round = ++adv_shared->round;
	if (round == 0)
		round = ++adv_shared->round;

	for (int i = 0; i < nrel; i++)
	{
		AdviceKey	key;
		bool		found;
		const Datum *vec = metdat + (Size) i * k;
		int			slot;
		int64	   *dst;

		key.dbid = MyDatabaseId;
		key.relid = DatumGetObjectId(reldat[i]);
		if (!OidIsValid(key.relid))
			continue;
		/* Bounded: at most advice_history_tables table entries, ever. */
		if (adv_shared->ntables >= advice_tables)
			e = hash_search(adv_hash, &key, HASH_FIND, &found);
		else
			e = hash_search(adv_hash, &key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			pg_atomic_fetch_add_u64(&adv_shared->dropped, 1);
			continue;
		}
		if (!found)
			adv_shared->ntables++;
		if (!found || e->nmetrics != k)
		{
			e->nsamples = 0;
			e->head = 0;
			e->nmetrics = k;
		}
		e->round = round;

		/* A monotonic counter went down: start this table afresh. */
		if (e->nsamples > 0)
		{
			int64	   *newest = advice_vector(e, e->head);

			for (int j = 0; j < k; j++)
				if (DatumGetBool(mondat[j]) && DatumGetInt64(vec[j]) < newest[j])
				{
					e->nsamples = 0;
					break;
				}
		}

		slot = (e->nsamples == 0) ? 0 : (e->head + 1) % advice_samples;
		advice_times(e)[slot] = now;
		dst = advice_vector(e, slot);
		for (int j = 0; j < k; j++)
			dst[j] = DatumGetInt64(vec[j]);
		e->head = slot;
		if (e->nsamples < advice_samples)
			e->nsamples++;
		kept++;
	}

	/* Forget this database's tables that the round did not mention. */
	hash_seq_init(&status, adv_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		if (e->key.dbid == MyDatabaseId && OidIsValid(e->key.relid) &&
			e->round != round)
		{
			hash_search(adv_hash, &e->key, HASH_REMOVE, NULL);
			adv_shared->ntables--;
		}
	}
	LWLockRelease(adv_shared->lock);

	PG_RETURN_INT64(kept);
}

/*
 * hygiene._advice_history(): per table of the current database, the samples
 * newest first: their times and a two-dimensional metrics array
 * (samples x metrics).
 */
Datum
hygiene_advice_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS status;
	AdviceEntry *e;
	Datum	   *tdat;
	Datum	   *mdat;

	advice_require_shmem();
	InitMaterializedSRF(fcinfo, 0);

	tdat = palloc(sizeof(Datum) * advice_samples);
	mdat = palloc(sizeof(Datum) * advice_samples * ADVICE_MAX_METRICS);

	LWLockAcquire(adv_shared->lock, LW_SHARED);
	hash_seq_init(&status, adv_hash);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4] = {false};
		int			n = e->nsamples;
		int			k = e->nmetrics;
		int			dims[2];
		int			lbs[2] = {1, 1};

		if (e->key.dbid != MyDatabaseId || !OidIsValid(e->key.relid) || n == 0)
			continue;

		for (int s = 0; s < n; s++)
		{
			int			slot = (e->head - s + advice_samples) % advice_samples;
			int64	   *vec = advice_vector(e, slot);

			tdat[s] = TimestampTzGetDatum(advice_times(e)[slot]);
			for (int j = 0; j < k; j++)
				mdat[s * k + j] = Int64GetDatum(vec[j]);
		}
		dims[0] = n;
		dims[1] = k;

		values[0] = ObjectIdGetDatum(e->key.relid);
		values[1] = Int32GetDatum(n);
		values[2] = PointerGetDatum(construct_array(tdat, n, TIMESTAMPTZOID,
													sizeof(TimestampTz), FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		values[3] = PointerGetDatum(construct_md_array(mdat, NULL, 2, dims, lbs,
													   INT8OID, sizeof(int64),
													   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(adv_shared->lock);

	return (Datum) 0;
}

/*
 * hygiene._advice_history_summary(): entries in use, capacity, samples per
 * table, interval, samples not kept, and the current database's last sample.
 */
Datum
hygiene_advice_history_summary(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};
	AdviceKey	key;
	AdviceEntry *e;
	int64		tables = 0;
	HASH_SEQ_STATUS status;

	advice_require_shmem();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	key.dbid = MyDatabaseId;
	key.relid = InvalidOid;
	nulls[5] = true;

	LWLockAcquire(adv_shared->lock, LW_SHARED);
	hash_seq_init(&status, adv_hash);
	while ((e = hash_seq_search(&status)) != NULL)
		if (OidIsValid(e->key.relid))
			tables++;
	e = hash_search(adv_hash, &key, HASH_FIND, NULL);
	if (e != NULL && e->nsamples > 0)
	{
		values[5] = TimestampTzGetDatum(advice_times(e)[0]);
		nulls[5] = false;
	}
	LWLockRelease(adv_shared->lock);

	values[0] = Int64GetDatum(tables);
	values[1] = Int32GetDatum(advice_tables);
	values[2] = Int32GetDatum(advice_samples);
	values[3] = Int32GetDatum(advice_sample_interval);
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&adv_shared->dropped));

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * hygiene._table_stats_feed(relid, rows_updated, noop_rows, indexed_changed,
 * nonindexed_only): add counts to a table's UPDATE statistics as if the
 * executor had seen them.  Superuser only: for tests, and for importing
 * figures measured elsewhere.
 */
Datum
hygiene_table_stats_feed(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TableStatsDelta delta;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pg_hygiene: permission denied to feed table statistics"),
				 errdetail("Only superusers may add to hygiene.table_write_stats by hand."),
				 errhint("The executor fills these statistics by itself; this function is for tests and imports.")));

	memset(&delta, 0, sizeof(delta));
	for (int i = 1; i <= 4; i++)
		if (PG_GETARG_INT64(i) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pg_hygiene: counts must not be negative")));
	delta.rows_updated = (uint64) PG_GETARG_INT64(1);
	delta.noop_rows = (uint64) PG_GETARG_INT64(2);
	delta.indexed_changed = (uint64) PG_GETARG_INT64(3);
	delta.nonindexed_only = (uint64) PG_GETARG_INT64(4);
	if (delta.noop_rows > delta.rows_updated ||
		delta.indexed_changed + delta.nonindexed_only > delta.rows_updated)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_hygiene: counts exceed rows_updated"),
				 errdetail("noop_rows, and indexed_changed + nonindexed_only, must each be at most rows_updated.")));
	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("pg_hygiene: relation with OID %u does not exist", relid)));

	table_stats_add(relid, &delta);
	PG_RETURN_VOID();
}
