/*-------------------------------------------------------------------------
 *
 * table_stats.c
 *		Per-table UPDATE statistics in shared memory, and the SQL functions
 *		behind hygiene.table_write_stats and hygiene.table_write_ineligible
 *		(the reasons behind its ineligible_other).  The extension's own tables
 *		are counted but never shown.
 *
 * A fixed-size shared hash keyed by (database, table) holds cumulative
 * counters.  Its size is pg_hygiene.table_stats_max, allocated at server
 * start and never grown (HASH_FIXED_SIZE); when it is full, new tables are
 * not tracked and the rows they would have added are counted in "dropped",
 * shown by hygiene.status, so that nothing disappears silently.  Entries of
 * dropped tables are forgotten when the statistics are read
 * (table_stats_prune_dropped).  The counters live only in memory: a restart
 * loses them, which is fine for advice that needs rates, not history.
 *
 * Locking: the LWLock is taken shared to find an entry and exclusive to insert
 * or remove one; counters are bumped with atomics under the shared lock, so
 * that concurrent writers never wait for each other.  Writers call
 * table_stats_add() once per statement and table, never per row.
 *
 * IDENTIFICATION
 *	  src/table_stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pg_hygiene.h"
#include "extension_objects.h"
#include "table_stats.h"

typedef struct TableStatsKey
{
	Oid			dbid;
	Oid			relid;
} TableStatsKey;

#define TABLE_STATS_NCOUNTERS (sizeof(TableStatsDelta) / sizeof(uint64))
/* the counters that are columns of hygiene._table_write_stats() */
#define TABLE_STATS_NCOLUMNS (offsetof(TableStatsDelta, other) / sizeof(uint64))
#define TABLE_STATS_OTHER_FIRST TABLE_STATS_NCOLUMNS

const char *const table_stats_other_names[OTHER_NREASONS] = {
	[OTHER_SERIALIZABLE] = "serializable",
	[OTHER_NOT_HEAP] = "not_heap_table",
	[OTHER_WITH_CHECK] = "with_check",
	[OTHER_NOT_VALID_CHECK] = "not_valid_check",
	[OTHER_MUTABLE_CHECK] = "mutable_check",
	[OTHER_OTHER_WRITER] = "other_writer",
	[OTHER_MERGE_ACTIONS] = "merge_actions",
	[OTHER_REPEATED_ROW] = "repeated_row",
	[OTHER_REPEAT_CHECK_FULL] = "repeat_check_full",
	[OTHER_SELF_MODIFIED] = "self_modified",
};

typedef struct TableStatsEntry
{
	TableStatsKey key;			/* hash key: must be first */
	TimestampTz since;			/* when counting started for this table */
	pg_atomic_uint64 counters[TABLE_STATS_NCOUNTERS];	/* laid out as TableStatsDelta */
} TableStatsEntry;

typedef struct TableStatsShared
{
	LWLock	   *lock;
	pg_atomic_uint64 dropped;	/* rows not counted because the hash was full */
} TableStatsShared;

static int	table_stats_max = 5000;

static TableStatsShared *ts_shared = NULL;
static HTAB *ts_hash = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_table_write_stats);
PG_FUNCTION_INFO_V1(hygiene_table_write_ineligible);
PG_FUNCTION_INFO_V1(hygiene_reset_table_write_stats);
PG_FUNCTION_INFO_V1(hygiene_table_stats_summary);

/* Ask for the hash and the lock. */
static void
table_stats_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(MAXALIGN(sizeof(TableStatsShared)));
	RequestAddinShmemSpace(hash_estimate_size(table_stats_max, sizeof(TableStatsEntry)));
	RequestNamedLWLockTranche("pg_hygiene_table_stats", 1);
}

/* Attach to the hash, creating it on first attach. */
static void
table_stats_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ts_shared = ShmemInitStruct("pg_hygiene table_stats", sizeof(TableStatsShared), &found);
	if (!found)
	{
		ts_shared->lock = &(GetNamedLWLockTranche("pg_hygiene_table_stats"))->lock;
		pg_atomic_init_u64(&ts_shared->dropped, 0);
	}
	info.keysize = sizeof(TableStatsKey);
	info.entrysize = sizeof(TableStatsEntry);
	ts_hash = ShmemInitHash("pg_hygiene table_stats hash",
							table_stats_max, table_stats_max,
							&info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* Define the GUC and install the shared memory hooks; called from _PG_init. */
void
table_stats_init(void)
{
	DefineCustomIntVariable("pg_hygiene.table_stats_max",
							"Maximum number of tables whose UPDATE statistics are kept.",
							"Tables beyond this number are not tracked; their rows are counted in hygiene.status.table_stats_dropped.",
							&table_stats_max,
							5000, 100, 1000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = table_stats_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = table_stats_shmem_startup;
}

/*
 * Counters saturate at 2^53 rows (about 9.0e15: 285 years at a million rows
 * a second).  They are shown as bigint; a sum that wrapped would read as a
 * negative count, and the views add and scale counters, so the cap leaves
 * room for that in bigint and keeps every value exact in float8.
 */
#define TABLE_STATS_COUNTER_MAX (UINT64CONST(1) << 53)

/* Add to one counter, saturating at TABLE_STATS_COUNTER_MAX. */
static void
table_stats_add_saturating(pg_atomic_uint64 *counter, uint64 d)
{
	uint64		old = pg_atomic_read_u64(counter);
	uint64		new;

	do
	{
		new = (old >= TABLE_STATS_COUNTER_MAX || d >= TABLE_STATS_COUNTER_MAX - old) ?
			TABLE_STATS_COUNTER_MAX : old + d;
		if (new == old)
			return;
	} while (!pg_atomic_compare_exchange_u64(counter, &old, new));
}

/* Add a statement's counts to its entry. */
static void
table_stats_bump(TableStatsEntry *entry, const TableStatsDelta *delta)
{
	const uint64 *d = (const uint64 *) delta;

	for (int i = 0; i < TABLE_STATS_NCOUNTERS; i++)
		if (d[i] != 0)
			table_stats_add_saturating(&entry->counters[i], d[i]);
}

/* Add one statement's counts for one table of the current database. */
void
table_stats_add(Oid relid, const TableStatsDelta *delta)
{
	TableStatsKey key;
	TableStatsEntry *entry;
	bool		found;

	if (ts_hash == NULL || delta->rows_updated == 0)
		return;

	key.dbid = MyDatabaseId;
	key.relid = relid;

	LWLockAcquire(ts_shared->lock, LW_SHARED);
	entry = hash_search(ts_hash, &key, HASH_FIND, NULL);
	if (entry)
	{
		table_stats_bump(entry, delta);
		LWLockRelease(ts_shared->lock);
		return;
	}
	LWLockRelease(ts_shared->lock);

	/*
	 * Not there yet: insert under the exclusive lock (someone may beat us).
	 * Bounded twice over: the hash is HASH_FIXED_SIZE, so it never borrows
	 * from the shared-memory slack the lock tables grow into, and a full
	 * hash is recognised by its count before HASH_ENTER_NULL is tried.
	 */
	LWLockAcquire(ts_shared->lock, LW_EXCLUSIVE);
	if (hash_get_num_entries(ts_hash) >= table_stats_max)
		entry = hash_search(ts_hash, &key, HASH_FIND, &found);
	else
		entry = hash_search(ts_hash, &key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		table_stats_add_saturating(&ts_shared->dropped, delta->rows_updated);
		LWLockRelease(ts_shared->lock);
		return;
	}
	if (!found)
	{
		entry->since = GetCurrentTimestamp();
		for (int i = 0; i < TABLE_STATS_NCOUNTERS; i++)
			pg_atomic_init_u64(&entry->counters[i], 0);
	}
	table_stats_bump(entry, delta);
	LWLockRelease(ts_shared->lock);
}

/* Complain when called without the preloaded library's shared memory. */
static void
table_stats_require_shmem(void)
{
	if (ts_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene shared memory is not available"),
				 errhint("Add pg_hygiene to shared_preload_libraries and restart the server.")));
}

/*
 * Forget the entries of this database's tables that no longer exist, so that
 * a full hash makes room for live tables.  Called when statistics are read
 * (by the views and by the advice sampler), never on the write path; only
 * when the hash is at least half full.  The catalog is consulted without
 * holding our lock.
 */
static void
table_stats_prune_dropped(void)
{
	HASH_SEQ_STATUS status;
	TableStatsEntry *entry;
	Oid		   *relids;
	int			n = 0;
	int			ndead = 0;

	LWLockAcquire(ts_shared->lock, LW_SHARED);
	if (hash_get_num_entries(ts_hash) < table_stats_max / 2)
	{
		LWLockRelease(ts_shared->lock);
		return;
	}
	relids = palloc(sizeof(Oid) * table_stats_max);
	hash_seq_init(&status, ts_hash);
	while ((entry = hash_seq_search(&status)) != NULL)
		if (entry->key.dbid == MyDatabaseId && n < table_stats_max)
			relids[n++] = entry->key.relid;
	LWLockRelease(ts_shared->lock);

	for (int i = 0; i < n; i++)
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relids[i])))
			relids[ndead++] = relids[i];

	if (ndead > 0)
	{
		LWLockAcquire(ts_shared->lock, LW_EXCLUSIVE);
		for (int i = 0; i < ndead; i++)
		{
			TableStatsKey key;

			key.dbid = MyDatabaseId;
			key.relid = relids[i];
			hash_search(ts_hash, &key, HASH_REMOVE, NULL);
		}
		LWLockRelease(ts_shared->lock);
	}
	pfree(relids);
}

/*
 * Is this entry shown?  Other databases' relation OIDs only to monitoring
 * roles (S5); the extension's own tables (their updates are the extension's
 * bookkeeping, not the application's) never (O25).
 */
static bool
table_stats_visible(const TableStatsEntry *entry, bool see_all, const Oid *own)
{
	if (entry->key.dbid != MyDatabaseId)
		return see_all;
	for (int i = 0; i < HYGIENE_EXTENSION_NTABLES; i++)
		if (entry->key.relid == own[i])
			return false;
	return true;
}

/*
 * hygiene._table_write_stats(): every tracked table of the current database
 * (of every database for roles with the privileges of pg_read_all_stats),
 * with counters in the order of TableStatsDelta, up to the breakdown.
 */
Datum
hygiene_table_write_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS status;
	TableStatsEntry *entry;
	bool		see_all;
	Oid			own[HYGIENE_EXTENSION_NTABLES];

	table_stats_require_shmem();
	table_stats_prune_dropped();
	InitMaterializedSRF(fcinfo, 0);

	see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	hygiene_extension_tables(own);	/* before the lock: may read the catalog */

	LWLockAcquire(ts_shared->lock, LW_SHARED);
	hash_seq_init(&status, ts_hash);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		Datum		values[3 + TABLE_STATS_NCOLUMNS];
		bool		nulls[3 + TABLE_STATS_NCOLUMNS] = {false};
		int			col = 0;

		if (!table_stats_visible(entry, see_all, own))
			continue;
		values[col++] = ObjectIdGetDatum(entry->key.dbid);
		values[col++] = ObjectIdGetDatum(entry->key.relid);
		values[col++] = TimestampTzGetDatum(entry->since);
		for (int i = 0; i < TABLE_STATS_NCOLUMNS; i++)
			values[col++] = Int64GetDatum((int64) pg_atomic_read_u64(&entry->counters[i]));

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(ts_shared->lock);

	return (Datum) 0;
}

/*
 * hygiene._table_write_ineligible(): the reasons behind ineligible_other, one
 * row per table and reason with rows counted (same visibility as
 * hygiene._table_write_stats()).
 */
Datum
hygiene_table_write_ineligible(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS status;
	TableStatsEntry *entry;
	bool		see_all;
	Oid			own[HYGIENE_EXTENSION_NTABLES];

	table_stats_require_shmem();
	table_stats_prune_dropped();
	InitMaterializedSRF(fcinfo, 0);

	see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	hygiene_extension_tables(own);

	LWLockAcquire(ts_shared->lock, LW_SHARED);
	hash_seq_init(&status, ts_hash);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (!table_stats_visible(entry, see_all, own))
			continue;
		for (int r = 0; r < OTHER_NREASONS; r++)
		{
			uint64		n = pg_atomic_read_u64(&entry->counters[TABLE_STATS_OTHER_FIRST + r]);
			Datum		values[4];
			bool		nulls[4] = {false};

			if (n == 0)
				continue;
			values[0] = ObjectIdGetDatum(entry->key.dbid);
			values[1] = ObjectIdGetDatum(entry->key.relid);
			values[2] = CStringGetTextDatum(table_stats_other_names[r]);
			values[3] = Int64GetDatum((int64) n);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	LWLockRelease(ts_shared->lock);

	return (Datum) 0;
}

/*
 * hygiene.reset_table_write_stats(relid): forget one table of the current
 * database, or with NULL every table of every database.  Returns the number
 * of entries removed.
 */
Datum
hygiene_reset_table_write_stats(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS status;
	TableStatsEntry *entry;
	int64		removed = 0;

	table_stats_require_shmem();

	LWLockAcquire(ts_shared->lock, LW_EXCLUSIVE);
	if (!PG_ARGISNULL(0))
	{
		TableStatsKey key;

		key.dbid = MyDatabaseId;
		key.relid = PG_GETARG_OID(0);
		if (hash_search(ts_hash, &key, HASH_REMOVE, NULL) != NULL)
			removed = 1;
	}
	else
	{
		hash_seq_init(&status, ts_hash);
		while ((entry = hash_seq_search(&status)) != NULL)
		{
			hash_search(ts_hash, &entry->key, HASH_REMOVE, NULL);
			removed++;
		}
		pg_atomic_write_u64(&ts_shared->dropped, 0);
	}
	LWLockRelease(ts_shared->lock);

	PG_RETURN_INT64(removed);
}

/* hygiene._table_stats_summary(): entries in use, capacity, rows dropped. */
Datum
hygiene_table_stats_summary(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false};

	table_stats_require_shmem();
	table_stats_prune_dropped();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	LWLockAcquire(ts_shared->lock, LW_SHARED);
	values[0] = Int64GetDatum(hash_get_num_entries(ts_hash));
	LWLockRelease(ts_shared->lock);
	values[1] = Int32GetDatum(table_stats_max);
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&ts_shared->dropped));

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
