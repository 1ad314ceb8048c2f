/*-------------------------------------------------------------------------
 *
 * index_disable.c
 *		Soft index drop: indexes listed in hygiene.disabled_index are hidden
 *		from the planner on the primary and on every standby, while writes
 *		keep maintaining them.
 *
 * hygiene.disable_index() and hygiene.enable_index() (SQL) write rows of the
 * extension table hygiene.disabled_index (schema and name of the index, so
 * that the rows survive pg_dump/restore, where indexes are created after the
 * data).  A row trigger there (hygiene._disabled_index_changed) sends, at
 * commit, a relcache invalidation of the settings table and of the index's
 * table.  Both are WAL-logged with the commit record and replayed on every
 * standby: cached plans of the table are rebuilt and every backend rereads
 * its cache below before its next plan.
 *
 * Backend cache: the OIDs of the disabled indexes of this database (with
 * their expiry), read from the extension's own member table, found through
 * pg_depend by extension_objects.c, never by name.  It is reread when a
 * relcache invalidation names the settings table, a cached index (renamed,
 * dropped, rebuilt), pg_extension or everything, or a schema changes.  While
 * it is valid the planner hook reads an array and does no catalog lookup;
 * with nothing disabled it returns at once.  Expiry (ttl) is checked when a
 * plan is made: an expired row hides nothing.
 *
 * If the settings table cannot be locked at once (DDL on it), the hook takes
 * the stock path for that plan and reads again next time.
 *
 * IDENTIFICATION
 *	  src/index_disable.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/pathnodes.h"
#include "optimizer/plancat.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "extension_objects.h"
#include "index_disable.h"
#include "pg_hygiene.h"

/* Columns of hygiene.disabled_index the C code reads (1-based). */
#define IDXDIS_COL_SCHEMA	1
#define IDXDIS_COL_NAME		2
#define IDXDIS_COL_EXPIRES	6

/* One disabled index of this database. */
typedef struct IdxDisEntry
{
	Oid			indexoid;
	TimestampTz expires_at;		/* 0: no expiry */
} IdxDisEntry;

/* Backend cache (array in idxdis_cxt, a TopMemoryContext child). */
static MemoryContext idxdis_cxt = NULL;
static IdxDisEntry *idxdis_entries = NULL;
static int	idxdis_count = 0;
static bool idxdis_valid = false;
static uint64 idxdis_inval = 0; /* invalidations seen, ever */
static Oid	idxdis_settings_relid = InvalidOid;

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_disabled_index_changed);

/* Forget the cache. */
static void
idxdis_invalidate(void)
{
	idxdis_valid = false;
	idxdis_inval++;
}

/* Relcache callback: the settings table, a cached index or everything. */
static void
idxdis_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ExtensionRelationId ||
		relid == idxdis_settings_relid)
	{
		idxdis_invalidate();
		return;
	}
	for (int i = 0; i < idxdis_count; i++)
		if (idxdis_entries[i].indexoid == relid)
		{
			idxdis_invalidate();
			return;
		}
}

/* Syscache callback on pg_namespace: names may resolve differently now. */
static void
idxdis_namespace_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	if (idxdis_count > 0 || !idxdis_valid)
		idxdis_invalidate();
}

/*
 * Read hygiene.disabled_index into the cache.  False if the table could not
 * be read now (the caller then hides nothing for this plan).
 */
static bool
idxdis_load(void)
{
	Oid			settings;
	Relation	rel;
	TupleDesc	desc;
	SysScanDesc scan;
	HeapTuple	tup;
	uint64		inval_before = idxdis_inval;
	IdxDisEntry *entries = NULL;
	int			n = 0;
	int			cap = 0;
	MemoryContext oldcxt;

	if (idxdis_cxt == NULL)
		idxdis_cxt = AllocSetContextCreate(TopMemoryContext,
										   "pg_hygiene disabled indexes",
										   ALLOCSET_SMALL_SIZES);

	/* Only the extension's own table, never one found by name. */
	settings = hygiene_extension_object(HYGIENE_OBJ_DISABLED_INDEX);
	idxdis_settings_relid = settings;

	if (OidIsValid(settings))
	{
		if (!ConditionalLockRelationOid(settings, AccessShareLock))
			return false;
		rel = try_table_open(settings, NoLock);
		if (rel == NULL)
		{
			UnlockRelationOid(settings, AccessShareLock);
			return false;
		}
		desc = RelationGetDescr(rel);
		if (desc->natts >= IDXDIS_COL_EXPIRES &&
			TupleDescAttr(desc, IDXDIS_COL_SCHEMA - 1)->atttypid == NAMEOID &&
			TupleDescAttr(desc, IDXDIS_COL_NAME - 1)->atttypid == NAMEOID &&
			TupleDescAttr(desc, IDXDIS_COL_EXPIRES - 1)->atttypid == TIMESTAMPTZOID)
		{
			scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				bool		null1,
							null2,
							null3;
				Datum		d1 = heap_getattr(tup, IDXDIS_COL_SCHEMA, desc, &null1);
				Datum		d2 = heap_getattr(tup, IDXDIS_COL_NAME, desc, &null2);
				Datum		d3 = heap_getattr(tup, IDXDIS_COL_EXPIRES, desc, &null3);
				Oid			nspid;
				Oid			indexoid;

				if (null1 || null2)
					continue;
				nspid = get_namespace_oid(NameStr(*DatumGetName(d1)), true);
				if (!OidIsValid(nspid))
					continue;
				indexoid = get_relname_relid(NameStr(*DatumGetName(d2)), nspid);
				if (!OidIsValid(indexoid) ||
					get_rel_relkind(indexoid) != RELKIND_INDEX)
					continue;
				if (n == cap)
				{
					cap = cap ? cap * 2 : 8;
					entries = entries ?
						repalloc(entries, cap * sizeof(IdxDisEntry)) :
						MemoryContextAlloc(idxdis_cxt, cap * sizeof(IdxDisEntry));
				}
				entries[n].indexoid = indexoid;
				entries[n].expires_at = null3 ? 0 : DatumGetTimestampTz(d3);
				n++;
			}
			systable_endscan(scan);
		}
		table_close(rel, AccessShareLock);
	}

	/* Complete: publish. */
	oldcxt = MemoryContextSwitchTo(idxdis_cxt);
	if (idxdis_entries != NULL)
		pfree(idxdis_entries);
	MemoryContextSwitchTo(oldcxt);
	idxdis_entries = entries;
	idxdis_count = n;
	/* an invalidation that arrived while we read wins: read again next time */
	idxdis_valid = (idxdis_inval == inval_before);
	return true;
}

/*
 * Planner hook: drop disabled (and not expired) indexes from the list of
 * indexes the planner may consider for this relation.
 */
static void
idxdis_get_relation_info(PlannerInfo *root, Oid relationObjectId,
						 bool inhparent, RelOptInfo *rel)
{
	ListCell   *lc;
	TimestampTz now = 0;

	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (rel->indexlist == NIL)
		return;
	if (!idxdis_valid && !idxdis_load())
		return;
	if (idxdis_count == 0)
		return;

	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *info = lfirst_node(IndexOptInfo, lc);

		for (int i = 0; i < idxdis_count; i++)
		{
			if (idxdis_entries[i].indexoid != info->indexoid)
				continue;
			if (idxdis_entries[i].expires_at != 0)
			{
				if (now == 0)
					now = GetCurrentTimestamp();
				if (idxdis_entries[i].expires_at <= now)
					break;
			}
			if (hygiene_debug)
				ereport(NOTICE,
						(errmsg("pg_hygiene: index \"%s\" is disabled, the planner does not consider it",
								get_rel_name(info->indexoid))));
			rel->indexlist = foreach_delete_current(rel->indexlist, lc);
			break;
		}
	}
}

/*
 * hygiene._disabled_index_changed(): row trigger on hygiene.disabled_index.
 * At commit every backend (and every standby) rereads the set, and the
 * cached plans of the tables of the old and the new index are rebuilt.
 */
Datum
hygiene_disabled_index_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuples[2];

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "hygiene._disabled_index_changed() must be called as a trigger");

	CacheInvalidateRelcache(td->tg_relation);
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
	{
		/* TRUNCATE: any table may have had a disabled index */
		CacheInvalidateRelcacheAll();
		return PointerGetDatum(NULL);
	}

	desc = RelationGetDescr(td->tg_relation);
	tuples[0] = td->tg_trigtuple;
	tuples[1] = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : NULL;
	for (int i = 0; i < 2; i++)
	{
		bool		null1,
					null2;
		Datum		d1,
					d2;
		Oid			nspid,
					indexoid,
					heapoid;

		if (tuples[i] == NULL || desc->natts < IDXDIS_COL_NAME)
			continue;
		d1 = heap_getattr(tuples[i], IDXDIS_COL_SCHEMA, desc, &null1);
		d2 = heap_getattr(tuples[i], IDXDIS_COL_NAME, desc, &null2);
		if (null1 || null2)
			continue;
		nspid = get_namespace_oid(NameStr(*DatumGetName(d1)), true);
		if (!OidIsValid(nspid))
			continue;
		indexoid = get_relname_relid(NameStr(*DatumGetName(d2)), nspid);
		if (!OidIsValid(indexoid) || get_rel_relkind(indexoid) != RELKIND_INDEX)
			continue;
		heapoid = IndexGetRelation(indexoid, true);
		if (OidIsValid(heapoid) && SearchSysCacheExists1(RELOID, ObjectIdGetDatum(heapoid)))
			CacheInvalidateRelcacheByRelid(heapoid);
	}
	return PointerGetDatum(NULL);
}

/* Module init: callbacks and the planner hook. */
void
index_disable_init(void)
{
	CacheRegisterRelcacheCallback(idxdis_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, idxdis_namespace_cb, (Datum) 0);

	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = idxdis_get_relation_info;
}
