/*-------------------------------------------------------------------------
 *
 * noop_update.c
 *		No-op UPDATE suppression: rows whose new version would be identical
 *		to the old one are not written, while the client sees the same row
 *		counts as on stock PostgreSQL.
 *
 * Modes (pg_hygiene.noop_updates, overridden per table by
 * hygiene.noop_update_settings): off, observe (count only), lock (lock the
 * row like a stock UPDATE would, write nothing else) and auto (like lock,
 * but an autocommit single-statement UPDATE skips unchanged rows without
 * locking them).
 *
 * Decide before locking.  Two paths, chosen per result relation when the
 * executor starts:
 *
 *	- Wrapper path (UPDATE and MERGE on tables without user BEFORE ROW UPDATE
 *	  triggers): the ModifyTable subplan's ExecProcNodeReal is replaced by
 *	  noop_exec_subplan(), which pulls rows from the saved function.  For each
 *	  row it fetches the version the scan produced (by ctid), compares the new
 *	  values with it by stored image (datum_image_eq, which detoasts), and
 *	  returns rows that change to ModifyTable untouched: they cost exactly
 *	  what they cost on stock, plus one buffer lookup.  Only candidates are
 *	  locked (table_tuple_lock, LockTupleNoKeyExclusive, the lock a stock
 *	  UPDATE that changes no key takes; with FIND_LAST_VERSION in READ
 *	  COMMITTED).  If the locked version is the compared one, the row is
 *	  consumed here and counted in es_processed; otherwise it goes to
 *	  ModifyTable, whose ordinary EvalPlanQual path does the rest.  In auto
 *	  mode, for a qualifying statement (noop_setup_query), the lock is skipped
 *	  for a row that no other transaction holds (noop_auto_must_lock).
 *
 *	- Trigger path (tables with user BEFORE ROW UPDATE triggers, and the
 *	  target of INSERT ... ON CONFLICT DO UPDATE): the executor locks the row
 *	  before those triggers run (and ON CONFLICT has locked it already), so a
 *	  comparison placed after them costs nothing more.  An internal BEFORE
 *	  ROW UPDATE trigger calling hygiene._noop_update_trigger() is appended
 *	  to the query's own copy of the relation's TriggerDesc; it compares
 *	  NEW with OLD after every user trigger and returns NULL for a no-op,
 *	  counting the row in es_processed itself.
 *
 * Where suppression could differ from stock, the row takes the stock path
 * and is counted as ineligible: a row another writer may still touch (another
 * ModifyTable node or FOR UPDATE of the same query, or a query still running
 * around this one: see NoopWriter), transition tables of the root, CHECK
 * constraints with mutable functions, ON CONFLICT with several proposed rows
 * and a WHERE or BEFORE triggers, a row rewritten by a nested statement since
 * the executor locked it.  The default mode, observe, only counts.
 *
 * Per-query state (NoopModify, one per ModifyTable node) lives in the
 * query's es_query_cxt; a memory context reset callback adds the counts to
 * the shared statistics (table_stats_add) once per table and statement when
 * the query ends normally, and unregisters the state in every case.  The
 * wrapper finds its state through a backend-local registry keyed by the
 * subplan's PlanState pointer (nested statements register their own nodes;
 * nothing per-query lives in a static slot), the trigger through a pointer
 * in its private tgargs, validated against that registry.
 *
 * The per-table override table is read into a backend cache rebuilt after
 * a relcache invalidation of that table (its statement trigger sends one),
 * of pg_extension (extension DDL, see extension_objects.c) or a pg_namespace
 * change; the table and the trigger function are extension members, never
 * found by name (extension_objects.c); nothing is looked up for
 * statements that modify nothing.  A new cache is published only after a
 * complete read, and the settings table is never waited for (a statement
 * that finds it locked by DDL runs as on stock).
 *
 * IDENTIFICATION
 *	  src/noop_update.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "parser/parse_func.h"
#include "partitioning/partdesc.h"
#include "catalog/partition.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/procarray.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "pg_hygiene.h"
#include "extension_objects.h"
#include "noop_update.h"
#include "table_stats.h"

typedef enum NoopMode
{
	NOOP_OFF = 0,
	NOOP_OBSERVE,
	NOOP_LOCK,
	NOOP_AUTO
} NoopMode;

static const struct config_enum_entry noop_mode_options[] = {
	{"off", NOOP_OFF, false},
	{"observe", NOOP_OBSERVE, false},
	{"lock", NOOP_LOCK, false},
	{"auto", NOOP_AUTO, false},
	{NULL, 0, false}
};

static const char *const noop_mode_names[] = {"off", "observe", "lock", "auto"};

#define NOOP_ELIGIBLE (-1)

/*
 * Most TIDs remembered per statement where rows can repeat (joins, MERGE,
 * ON CONFLICT); beyond it rows are written as on stock (about 50 MB).
 */
#define NOOP_SEEN_MAX 1000000
#define NOOP_REL_MAGIC 0x4e4f4f50	/* "NOOP" */

struct NoopModify;

/* One result relation of one ModifyTable node. */
typedef struct NoopRel
{
	uint32		magic;
	struct NoopModify *nm;		/* owning node state */
	ResultRelInfo *rri;
	Oid			relid;
	bool		active;			/* counted at all (mode != off, handled) */
	bool		compare;		/* values can be compared (heap table) */
	bool		use_trigger;	/* compared by the appended trigger */
	NoopMode	mode;			/* effective mode for this table */
	int			ineligible;		/* NOOP_ELIGIBLE or a TableStatsIneligible */
	int			other;			/* TableStatsOther when INELIGIBLE_OTHER */
	const char *why;			/* detail of INELIGIBLE_OTHER for the debug NOTICE */
	int			ncols;			/* UPDATE: number of SET columns */
	AttrNumber *colnos;			/* UPDATE: target attno of each SET column */
	TupleTableSlot *oldslot;	/* version the scan produced */
	TupleTableSlot *lockslot;	/* version table_tuple_lock returned */
	Bitmapset  *hotblocking;	/* indexed columns (HOT-blocking), offset */
	TableStatsDelta delta;		/* counts of this statement */
} NoopRel;

/* State for one ModifyTable node of one query (in es_query_cxt). */
typedef struct NoopModify
{
	ModifyTableState *mtstate;
	EState	   *estate;
	CmdType		operation;
	PlanState  *subplan;		/* wrapped node, or NULL */
	ExecProcNodeMtd orig;		/* its saved ExecProcNodeReal */
	bool		auto_ok;		/* auto mode may skip without locking */
	int			nrels;
	NoopRel    *rels;
	HTAB	   *seen;			/* TIDs already handled, when rows can repeat */
	MemoryContext rowcxt;		/* reset for every row compared */
	struct NoopModify *next;	/* next node of the same query */
} NoopModify;

/* Key of NoopModify.seen. */
typedef struct NoopSeenKey
{
	Oid			relid;
	ItemPointerData tid;
} NoopSeenKey;

typedef struct NoopSeenEntry
{
	NoopSeenKey key;
	bool		skipped;		/* we consumed it (else passed it on) */
} NoopSeenEntry;

/* Per-table override cache entry. */
typedef struct NoopOverride
{
	Oid			relid;
	NoopMode	mode;
} NoopOverride;

/* GUC */
static int	noop_mode_guc = NOOP_OBSERVE;

/*
 * Relations that a running query may still lock, update or delete rows of
 * (result relations of UPDATE, DELETE, MERGE and ON CONFLICT DO UPDATE, and
 * FOR UPDATE/SHARE targets), kept while its executor is alive.  A statement
 * that starts meanwhile (a function or trigger called from it, or a
 * statement run while a cursor is open) must not suppress rows of these
 * relations: stock would write a new version there, which the running query
 * would then see as modified by a later command (an error for UPDATE,
 * DELETE and MERGE, a skipped row for FOR UPDATE).
 */
typedef struct NoopWriter
{
	EState	   *estate;			/* the query's */
	int			nrelids;
	Oid		   *relids;
} NoopWriter;

/* Backend caches (TopMemoryContext children). */
static MemoryContext noop_cache_cxt = NULL;
static HTAB *noop_overrides = NULL;
static MemoryContext noop_overrides_cxt = NULL; /* owns noop_overrides */
static bool noop_overrides_valid = false;
static uint64 noop_overrides_inval = 0;	/* invalidations seen, ever */
static HTAB *noop_check_cache = NULL;	/* relid -> has mutable CHECK */
static Oid	noop_settings_relid = InvalidOid;

/* Registry of live NoopModify states, keyed by wrapped subplan. */
static NoopModify **noop_registry = NULL;
static int	noop_registry_len = 0;
static int	noop_registry_cap = 0;

/* Registry of running queries' NoopWriter sets (see above). */
static NoopWriter **noop_writers = NULL;
static int	noop_writers_len = 0;
static int	noop_writers_cap = 0;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;

PG_FUNCTION_INFO_V1(hygiene_noop_update_trigger);
PG_FUNCTION_INFO_V1(hygiene_noop_settings_changed);

static TupleTableSlot *noop_exec_subplan(PlanState *node);

/* ---------------------------------------------------------------------
 * Per-table override cache
 * ---------------------------------------------------------------------
 */

/* Per-relation cache entry: does a CHECK constraint call a mutable function? */
typedef struct NoopCheckEntry
{
	Oid			relid;
	bool		mutable_check;
} NoopCheckEntry;

/* Relcache callback: the settings table changed (or everything did). */
static void
noop_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == noop_settings_relid ||
		relid == ExtensionRelationId)
	{
		noop_overrides_valid = false;
		noop_overrides_inval++;
	}
	if (noop_check_cache != NULL)
	{
		if (relid == InvalidOid)
		{
			HASH_SEQ_STATUS st;
			NoopCheckEntry *e;

			hash_seq_init(&st, noop_check_cache);
			while ((e = hash_seq_search(&st)) != NULL)
				hash_search(noop_check_cache, &e->relid, HASH_REMOVE, NULL);
		}
		else
			hash_search(noop_check_cache, &relid, HASH_REMOVE, NULL);
	}
}

/* Syscache callback on pg_namespace: the extension may have come or gone. */
static void
noop_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	noop_overrides_valid = false;
	noop_overrides_inval++;
}

/* Parse a mode name; -1 if unknown. */
static int
noop_parse_mode(const char *s)
{
	for (int i = 0; noop_mode_options[i].name; i++)
		if (pg_strcasecmp(s, noop_mode_options[i].name) == 0)
			return noop_mode_options[i].val;
	return -1;
}

/*
 * Rebuild the override cache from hygiene.noop_update_settings.
 *
 * The new table is built in a context under the caller's memory and
 * published only after the scan completed: an error half-way (cancel,
 * statement_timeout, out of memory) leaves the cache invalid, the error
 * reaches the client, and the next statement reads the table again.  Never
 * waits for the settings table: if DDL holds a conflicting lock, returns
 * false and the caller takes the stock path for this statement.
 */
static bool
noop_load_overrides(void)
{
	HASHCTL		ctl;
	Oid			settings;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	MemoryContext newcxt;
	HTAB	   *newhash;
	uint64		inval_before = noop_overrides_inval;

	noop_overrides_valid = false;
	newcxt = AllocSetContextCreate(CurrentMemoryContext,
								   "pg_hygiene noop overrides",
								   ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(NoopOverride);
	ctl.hcxt = newcxt;
	newhash = hash_create("pg_hygiene noop overrides", 16, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	/* Only the extension's own table, never one found by name (S1). */
	settings = hygiene_extension_object(HYGIENE_OBJ_NOOP_SETTINGS);
	/* known before locking, so that an invalidation of it while we read counts */
	noop_settings_relid = settings;

	if (OidIsValid(settings))
	{
		if (!ConditionalLockRelationOid(settings, AccessShareLock))
		{
			MemoryContextDelete(newcxt);
			return false;
		}
		rel = try_table_open(settings, NoLock);
		if (rel == NULL)
		{
			UnlockRelationOid(settings, AccessShareLock);
			MemoryContextDelete(newcxt);
			return false;
		}
		if (RelationGetDescr(rel)->natts >= 2 &&
			TupleDescAttr(RelationGetDescr(rel), 0)->atttypid == REGCLASSOID &&
			TupleDescAttr(RelationGetDescr(rel), 1)->atttypid == TEXTOID)
		{
			scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				bool		isnull1,
							isnull2;
				Datum		d1 = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull1);
				Datum		d2 = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull2);
				int			mode;
				NoopOverride *e;
				Oid			relid;
				char	   *s;

				if (isnull1 || isnull2)
					continue;
				relid = DatumGetObjectId(d1);
				s = TextDatumGetCString(d2);
				mode = noop_parse_mode(s);
				pfree(s);
				if (mode < 0)
					continue;
				e = hash_search(newhash, &relid, HASH_ENTER, NULL);
				e->mode = (NoopMode) mode;
			}
			systable_endscan(scan);
		}
		table_close(rel, AccessShareLock);
	}

	/* Complete: publish. */
	MemoryContextSetParent(newcxt, noop_cache_cxt);
	if (noop_overrides_cxt != NULL)
		MemoryContextDelete(noop_overrides_cxt);
	noop_overrides_cxt = newcxt;
	noop_overrides = newhash;
	/* an invalidation that arrived while we read wins: read again next time */
	noop_overrides_valid = (noop_overrides_inval == inval_before);
	return true;
}

/*
 * Make sure the override cache is current; false if it could not be read
 * now (then pg_hygiene leaves the statement alone).
 */
static bool
noop_ensure_overrides(void)
{
	if (noop_overrides_valid && noop_overrides != NULL)
		return true;
	return noop_load_overrides();
}

/*
 * Effective mode of one table: its override if any, else that of its nearest
 * partitioned ancestor that has one, else the GUC.  Ancestors are looked up
 * only when some override exists.
 */
static NoopMode
noop_table_mode(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	NoopOverride *e;

	/* the table as read when the statement started (noop_ExecutorStart) */
	if (noop_overrides == NULL || hash_get_num_entries(noop_overrides) == 0)
		return (NoopMode) noop_mode_guc;
	e = hash_search(noop_overrides, &relid, HASH_FIND, NULL);
	if (e == NULL && rel->rd_rel->relispartition)
	{
		List	   *ancestors = get_partition_ancestors(relid);
		ListCell   *lc;

		foreach(lc, ancestors)
		{
			Oid			parent = lfirst_oid(lc);

			e = hash_search(noop_overrides, &parent, HASH_FIND, NULL);
			if (e != NULL)
				break;
		}
		list_free(ancestors);
	}
	return e ? e->mode : (NoopMode) noop_mode_guc;
}

/* OID of hygiene._noop_update_trigger(), or InvalidOid without the extension. */
static Oid
noop_trigger_function(void)
{
	/* Only the extension's own C function, never one found by name (S1). */
	return hygiene_extension_object(HYGIENE_OBJ_NOOP_TRIGGER);
}

/* ---------------------------------------------------------------------
 * Registry of live per-node states
 * ---------------------------------------------------------------------
 */

/* Remember a node state until its query's memory goes away. */
static void
noop_register(NoopModify *nm)
{
	if (noop_registry_len == noop_registry_cap)
	{
		int			newcap = noop_registry_cap ? noop_registry_cap * 2 : 8;

		if (noop_registry)
			noop_registry = repalloc(noop_registry, newcap * sizeof(NoopModify *));
		else
			noop_registry = MemoryContextAlloc(noop_cache_cxt,
											   newcap * sizeof(NoopModify *));
		noop_registry_cap = newcap;
	}
	noop_registry[noop_registry_len++] = nm;
}

/* Forget a node state. */
static void
noop_unregister(NoopModify *nm)
{
	for (int i = noop_registry_len - 1; i >= 0; i--)
	{
		if (noop_registry[i] == nm)
		{
			noop_registry[i] = noop_registry[--noop_registry_len];
			return;
		}
	}
}

/* Count a row not considered, by reason (and which one, for "other"). */
static inline void
noop_count_ineligible(NoopRel *nr, int reason, int other)
{
	nr->delta.ineligible[reason]++;
	if (reason == INELIGIBLE_OTHER)
		nr->delta.other[other]++;
}

/* Find the state of a wrapped subplan. */
static NoopModify *
noop_find_by_subplan(PlanState *node)
{
	for (int i = noop_registry_len - 1; i >= 0; i--)
		if (noop_registry[i]->subplan == node)
			return noop_registry[i];
	elog(ERROR, "pg_hygiene: no state for wrapped plan node");
	return NULL;				/* keep compiler quiet */
}

/* Validate a NoopRel pointer handed to the trigger. */
static bool
noop_rel_is_live(NoopRel *nr)
{
	for (int i = 0; i < noop_registry_len; i++)
	{
		NoopModify *nm = noop_registry[i];

		if (nr >= nm->rels && nr < nm->rels + nm->nrels)
			return nr->magic == NOOP_REL_MAGIC;
	}
	return false;
}

/* es_query_cxt reset callback: the query's NoopWriter set goes away. */
static void
noop_writer_forget(void *arg)
{
	for (int i = noop_writers_len - 1; i >= 0; i--)
	{
		if (noop_writers[i] == (NoopWriter *) arg)
		{
			noop_writers[i] = noop_writers[--noop_writers_len];
			return;
		}
	}
}

/*
 * Remember, while its executor lives, the relations a starting query may
 * lock, update or delete existing rows of (see NoopWriter).  A plain INSERT
 * touches no existing row and is not remembered.
 */
static void
noop_writer_remember(QueryDesc *queryDesc)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	EState	   *estate = queryDesc->estate;
	NoopWriter *w;
	MemoryContextCallback *cb;
	MemoryContext oldcxt;
	ListCell   *lc;
	int			n = 0;

	if (stmt->resultRelations == NIL && stmt->rowMarks == NIL)
		return;
	if (stmt->commandType == CMD_INSERT && !stmt->hasModifyingCTE &&
		stmt->rowMarks == NIL &&
		!(IsA(stmt->planTree, ModifyTable) &&
		  ((ModifyTable *) stmt->planTree)->onConflictAction == ONCONFLICT_UPDATE))
		return;

	oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);
	w = palloc0(sizeof(NoopWriter));
	w->estate = estate;
	w->relids = palloc((list_length(stmt->resultRelations) +
						list_length(stmt->rowMarks) + 1) * sizeof(Oid));
	foreach(lc, stmt->resultRelations)
		w->relids[n++] = rt_fetch(lfirst_int(lc), stmt->rtable)->relid;
	foreach(lc, stmt->rowMarks)
	{
		PlanRowMark *rc = lfirst_node(PlanRowMark, lc);

		if (RowMarkRequiresRowShareLock(rc->markType))
			w->relids[n++] = rt_fetch(rc->rti, stmt->rtable)->relid;
	}
	w->nrelids = n;
	if (n > 0)
	{
		/* the cleanup exists before the entry it removes */
		cb = palloc0(sizeof(MemoryContextCallback));
		cb->func = noop_writer_forget;
		cb->arg = w;
		MemoryContextRegisterResetCallback(estate->es_query_cxt, cb);
		if (noop_writers_len == noop_writers_cap)
		{
			int			newcap = noop_writers_cap ? noop_writers_cap * 2 : 8;

			if (noop_writers)
				noop_writers = repalloc(noop_writers, newcap * sizeof(NoopWriter *));
			else
				noop_writers = MemoryContextAlloc(noop_cache_cxt,
												  newcap * sizeof(NoopWriter *));
			noop_writers_cap = newcap;
		}
		noop_writers[noop_writers_len++] = w;
	}
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Relations the other ModifyTable nodes of one query may touch: entry i
 * belongs to owners[i] (a ModifyTableState, or NULL for a FOR UPDATE/SHARE
 * target of the query).
 */
typedef struct NoopTouch
{
	int			n;
	Oid		   *relids;
	void	  **owners;
} NoopTouch;

/* Is relid, or (for a partition) one of its ancestors, in relids[0..n-1]? */
static bool
noop_relid_listed(Relation rel, List **ancestors, const Oid *relids,
				  void **owners, void *self, int n)
{
	Oid			relid = RelationGetRelid(rel);
	ListCell   *lc;

	for (int i = 0; i < n; i++)
		if (relids[i] == relid && (owners == NULL || owners[i] != self))
			return true;
	if (!rel->rd_rel->relispartition || n == 0)
		return false;
	if (*ancestors == NIL)
		*ancestors = get_partition_ancestors(relid);
	foreach(lc, *ancestors)
		for (int i = 0; i < n; i++)
			if (relids[i] == lfirst_oid(lc) && (owners == NULL || owners[i] != self))
				return true;
	return false;
}

/*
 * May a row of rel that node self suppresses be touched by another node of
 * the same query (qt) or by a query still running around this one?  Stock
 * writes a new version that those would see as modified by the current or a
 * later command (skip, cardinality error, or "already modified by an
 * operation triggered by the current command"); a suppressed row only
 * locked would be updated or deleted normally instead.
 */
static bool
noop_touched_elsewhere(NoopTouch *qt, ModifyTableState *self, Relation rel,
					   EState *cursor)
{
	List	   *ancestors = NIL;
	bool		found = false;

	if (qt != NULL)
		found = noop_relid_listed(rel, &ancestors, qt->relids, qt->owners,
								  self, qt->n);
	for (int i = 0; !found && i < noop_writers_len; i++)
		if (noop_writers[i]->estate != cursor)
			found = noop_relid_listed(rel, &ancestors, noop_writers[i]->relids,
									  NULL, NULL, noop_writers[i]->nrelids);
	list_free(ancestors);
	return found;
}

/* ---------------------------------------------------------------------
 * Query end: statistics and cleanup
 * ---------------------------------------------------------------------
 */

/* es_query_cxt reset callback: flush counts (normal end only), unregister. */
static void
noop_query_done(void *arg)
{
	NoopModify *nm;
	bool		flush = IsTransactionState();

	for (nm = (NoopModify *) arg; nm != NULL; nm = nm->next)
	{
		noop_unregister(nm);
		if (!flush)
			continue;
		for (int i = 0; i < nm->nrels; i++)
		{
			NoopRel    *nr = &nm->rels[i];

			if (!nr->active || nr->delta.rows_updated == 0)
				continue;
			hygiene_debug_notice("noop_updates: %s: mode %s, rows %llu, no-op %llu, suppressed %llu, ineligible %llu, indexed %llu, non-indexed %llu",
								 RelationGetRelationName(nr->rri->ri_RelationDesc),
								 noop_mode_names[nr->mode],
								 (unsigned long long) nr->delta.rows_updated,
								 (unsigned long long) nr->delta.noop_rows,
								 (unsigned long long) nr->delta.noop_suppressed,
								 (unsigned long long) (nr->delta.ineligible[0] +
													   nr->delta.ineligible[1] +
													   nr->delta.ineligible[2] +
													   nr->delta.ineligible[3] +
													   nr->delta.ineligible[4]),
								 (unsigned long long) nr->delta.indexed_changed,
								 (unsigned long long) nr->delta.nonindexed_only);
			table_stats_add(nr->relid, &nr->delta);
		}
	}
}

/* ---------------------------------------------------------------------
 * Comparison
 * ---------------------------------------------------------------------
 */

/* Same stored image?  Equal out-of-line TOAST pointers need no detoasting. */
static bool
noop_datum_same(Datum a, bool anull, Datum b, bool bnull, Form_pg_attribute att)
{
	if (anull || bnull)
		return anull && bnull;
	if (att->attlen == -1)
	{
		struct varlena *va = (struct varlena *) DatumGetPointer(a);
		struct varlena *vb = (struct varlena *) DatumGetPointer(b);

		if (va == vb)
			return true;
		if (VARATT_IS_EXTERNAL_ONDISK(va) && VARATT_IS_EXTERNAL_ONDISK(vb))
		{
			struct varatt_external ea,
						eb;

			VARATT_EXTERNAL_GET_POINTER(ea, va);
			VARATT_EXTERNAL_GET_POINTER(eb, vb);
			if (ea.va_valueid == eb.va_valueid &&
				ea.va_toastrelid == eb.va_toastrelid)
				return true;
		}
	}
	return datum_image_eq(a, b, att->attbyval, att->attlen);
}

/* Count a row that changes: did it touch an indexed column? */
static void
noop_count_changed(NoopRel *nr, bool indexed)
{
	if (indexed)
		nr->delta.indexed_changed++;
	else
		nr->delta.nonindexed_only++;
}

/* Is attno among the HOT-blocking (indexed) columns? */
static inline bool
noop_is_indexed(NoopRel *nr, AttrNumber attno)
{
	return bms_is_member(attno - FirstLowInvalidHeapAttributeNumber,
						 nr->hotblocking);
}

/*
 * Compare two whole rows of the relation (generated and dropped columns
 * excepted: generated ones are recomputed from the others).  Returns true
 * if identical; *indexed tells whether a changed column is indexed.
 */
static bool
noop_rows_same(NoopRel *nr, TupleTableSlot *oldslot, TupleTableSlot *newslot,
			   bool *indexed)
{
	TupleDesc	desc = RelationGetDescr(nr->rri->ri_RelationDesc);
	bool		same = true;

	*indexed = false;
	slot_getallattrs(oldslot);
	slot_getallattrs(newslot);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		if (!noop_datum_same(oldslot->tts_values[i], oldslot->tts_isnull[i],
							 newslot->tts_values[i], newslot->tts_isnull[i], att))
		{
			same = false;
			if (noop_is_indexed(nr, att->attnum))
			{
				*indexed = true;
				break;
			}
		}
	}
	return same;
}

/* Compare the SET columns of a subplan row with the old version. */
static bool
noop_set_same(NoopRel *nr, TupleTableSlot *planslot, TupleTableSlot *oldslot,
			  bool *indexed)
{
	TupleDesc	desc = RelationGetDescr(nr->rri->ri_RelationDesc);
	bool		same = true;

	*indexed = false;
	slot_getsomeattrs(planslot, nr->ncols);
	slot_getallattrs(oldslot);
	for (int k = 0; k < nr->ncols; k++)
	{
		AttrNumber	attno = nr->colnos[k];
		Form_pg_attribute att = TupleDescAttr(desc, attno - 1);

		if (!noop_datum_same(planslot->tts_values[k], planslot->tts_isnull[k],
							 oldslot->tts_values[attno - 1],
							 oldslot->tts_isnull[attno - 1], att))
		{
			same = false;
			if (noop_is_indexed(nr, attno))
			{
				*indexed = true;
				break;
			}
		}
	}
	return same;
}

/* Look up (and optionally record) a TID in the node's seen set. */
static NoopSeenEntry *
noop_seen(NoopModify *nm, Oid relid, ItemPointer tid, bool enter, bool *found)
{
	NoopSeenKey key;

	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.tid = *tid;
	return hash_search(nm->seen, &key, enter ? HASH_ENTER : HASH_FIND, found);
}

/*
 * Remember a TID we skipped, when rows can come back.  Rows passed on need no
 * entry: if the executor updated them, a second visit finds them touched by
 * our own transaction and takes the locking path, whose TM_SelfModified
 * sends the row back to the executor.
 */
static void
noop_remember(NoopModify *nm, NoopRel *nr, ItemPointer tid, bool skipped)
{
	bool		found;
	NoopSeenEntry *e;

	if (nm->seen == NULL || !skipped)
		return;
	e = noop_seen(nm, nr->relid, tid, true, &found);
	e->skipped = true;
}

/* Is the set of skipped TIDs full (then stop suppressing in this statement)? */
static bool
noop_seen_full(NoopModify *nm)
{
	return nm->seen != NULL && hash_get_num_entries(nm->seen) >= NOOP_SEEN_MAX;
}

/*
 * MERGE: evaluate the WHEN MATCHED actions as ExecMergeMatched would, on
 * the version the scan produced.  Returns the first action whose condition
 * holds (NULL if none); for UPDATE, *newslot gets the projected new row.
 * Only used when every condition and target list is free of volatile
 * functions and subplans, so evaluating them once more has no effect.
 */
static MergeActionState *
noop_merge_action(NoopModify *nm, NoopRel *nr, TupleTableSlot *planslot,
				  TupleTableSlot **newslot)
{
	ExprContext *econtext = nm->mtstate->ps.ps_ExprContext;
	ListCell   *lc;

	ResetExprContext(econtext);
	econtext->ecxt_scantuple = nr->oldslot;
	econtext->ecxt_innertuple = planslot;
	econtext->ecxt_outertuple = NULL;
	foreach(lc, hygiene_merge_matched_actions(nr->rri))
	{
		MergeActionState *as = (MergeActionState *) lfirst(lc);

		if (!ExecQual(as->mas_whenqual, econtext))
			continue;
		if (as->mas_action->commandType == CMD_UPDATE)
			*newslot = ExecProject(as->mas_proj);
		return as;
	}
	return NULL;
}

/* Raise the error stock MERGE raises when a target row is hit twice. */
static void
noop_merge_twice(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_CARDINALITY_VIOLATION),
			 errmsg("MERGE command cannot affect row a second time"),
			 errhint("Ensure that not more than one source row matches any one target row.")));
}

/*
 * Lock a no-op candidate as a stock UPDATE would; true if the locked version
 * is the one we compared (so the row may be skipped).
 */
static bool
noop_lock_candidate(NoopModify *nm, NoopRel *nr, ItemPointer tid)
{
	TM_FailureData tmfd;
	TM_Result	res;
	ItemPointerData ctid = *tid;

	res = table_tuple_lock(nr->rri->ri_RelationDesc, &ctid,
						   nm->estate->es_snapshot, nr->lockslot,
						   nm->estate->es_output_cid,
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 :
						   TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	ExecClearTuple(nr->lockslot);
	return res == TM_Ok && !tmfd.traversed;
}

/*
 * Auto mode may skip a candidate without a lock only if nobody holds or held
 * it since it became visible: no xmax, or the xmax of a locker that is gone.
 * A version locked or modified by our own transaction needs the ordinary
 * checks (TM_SelfModified); one deleted, updated or locked by a transaction
 * still running must be waited for as stock does (it may be deleting the
 * row: UPDATE 0 on stock); one updated by a transaction that committed
 * after our snapshot needs the READ COMMITTED recheck of the newest version.
 */
static bool
noop_auto_must_lock(TupleTableSlot *oldslot)
{
	HeapTuple	tup;
	HeapTupleHeader hdr;
	TransactionId xmax;

	if (!TTS_IS_BUFFERTUPLE(oldslot))
		return true;
	tup = ((BufferHeapTupleTableSlot *) oldslot)->base.tuple;
	if (tup == NULL)
		return true;
	hdr = tup->t_data;
	if (hdr->t_infomask & HEAP_XMAX_INVALID)
		return false;
	if ((hdr->t_infomask & HEAP_XMAX_IS_MULTI) ||
		!HEAP_XMAX_IS_LOCKED_ONLY(hdr->t_infomask))
		return true;
	xmax = HeapTupleHeaderGetRawXmax(hdr);
	if (!TransactionIdIsValid(xmax))
		return false;
	return TransactionIdIsCurrentTransactionId(xmax) ||
		TransactionIdIsInProgress(xmax);
}

/*
 * Look at one subplan row.  Returns true if the row was consumed (skipped as
 * a no-op, or dropped as a repeat that stock would silently ignore).
 */
static bool
noop_consider_row(NoopModify *nm, TupleTableSlot *planslot)
{
	ModifyTableState *mt = nm->mtstate;
	ResultRelInfo *rri;
	NoopRel    *nr;
	Datum		datum;
	bool		isnull;
	ItemPointerData tid;
	TupleTableSlot *newslot = NULL;
	bool		same;
	bool		indexed;
	bool		skip = false;
	MemoryContext oldcxt;

	/* Which result relation? */
	if (AttributeNumberIsValid(mt->mt_resultOidAttno))
	{
		datum = ExecGetJunkAttribute(planslot, mt->mt_resultOidAttno, &isnull);
		if (isnull)
			return false;		/* MERGE: not matched */
		rri = ExecLookupResultRelByOid(mt, DatumGetObjectId(datum), true, false);
		if (rri == NULL)
			return false;
	}
	else
		rri = mt->resultRelInfo + mt->mt_lastResultIndex;
	nr = &nm->rels[rri - mt->resultRelInfo];

	/*
	 * The trigger compares; but a MERGE target row that the trigger skipped
	 * and that is matched again must fail here, before the user's BEFORE
	 * triggers fire again, whatever action the second match selects.
	 */
	if (!nr->active || (nr->use_trigger && nm->operation != CMD_MERGE))
		return false;

	if (!nr->compare)
	{
		if (nm->operation == CMD_UPDATE)
		{
			nr->delta.rows_updated++;
			noop_count_ineligible(nr, nr->ineligible, nr->other);
		}
		return false;
	}

	datum = ExecGetJunkAttribute(planslot, rri->ri_RowIdAttNo, &isnull);
	if (isnull)
		return false;			/* MERGE: not matched */
	tid = *((ItemPointer) DatumGetPointer(datum));

	/* A row we already handled in this statement? */
	if (nm->seen)
	{
		bool		found;
		NoopSeenEntry *e = noop_seen(nm, nr->relid, &tid, false, &found);

		if (e != NULL)
		{
			MergeActionState *as;
			bool		fetched;

			if (nm->operation != CMD_MERGE)
				return true;	/* stock: TM_SelfModified, silently ignored */
			/* MERGE: stock errors if an UPDATE or DELETE action applies */
			oldcxt = MemoryContextSwitchTo(nm->rowcxt);
			fetched = table_tuple_fetch_row_version(rri->ri_RelationDesc, &tid,
													SnapshotAny, nr->oldslot);
			as = fetched ? noop_merge_action(nm, nr, planslot, &newslot) : NULL;
			ExecClearTuple(nr->oldslot);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(nm->rowcxt);
			if (as && as->mas_action->commandType != CMD_NOTHING)
				noop_merge_twice();
			return true;
		}
	}
	if (nr->use_trigger)
		return false;

	oldcxt = MemoryContextSwitchTo(nm->rowcxt);

	if (!table_tuple_fetch_row_version(rri->ri_RelationDesc, &tid, SnapshotAny,
									   nr->oldslot))
	{
		MemoryContextSwitchTo(oldcxt);
		return false;			/* let stock report it */
	}

	if (nm->operation == CMD_MERGE)
	{
		MergeActionState *as = noop_merge_action(nm, nr, planslot, &newslot);

		if (as == NULL || as->mas_action->commandType != CMD_UPDATE)
		{
			ExecClearTuple(nr->oldslot);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(nm->rowcxt);
			return false;
		}
		nr->delta.rows_updated++;
		same = noop_rows_same(nr, nr->oldslot, newslot, &indexed);
		ExecClearTuple(newslot);
	}
	else
	{
		nr->delta.rows_updated++;
		same = noop_set_same(nr, planslot, nr->oldslot, &indexed);
	}

	if (!same)
		noop_count_changed(nr, indexed);
	else
	{
		nr->delta.noop_rows++;
		if (nr->ineligible != NOOP_ELIGIBLE)
			noop_count_ineligible(nr, nr->ineligible, nr->other);
		else if (nr->mode == NOOP_OBSERVE)
			;
		else if (noop_seen_full(nm))
			noop_count_ineligible(nr, INELIGIBLE_OTHER, OTHER_REPEAT_CHECK_FULL);
		else if (nr->mode == NOOP_AUTO && nm->auto_ok &&
				 !TransactionIdIsValid(GetTopTransactionIdIfAny()) &&
				 !noop_auto_must_lock(nr->oldslot))
			skip = true;		/* nothing was written in this transaction yet */
		else
			skip = noop_lock_candidate(nm, nr, &tid);
	}
	if (!same && nr->ineligible != NOOP_ELIGIBLE)
		noop_count_ineligible(nr, nr->ineligible, nr->other);

	ExecClearTuple(nr->oldslot);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(nm->rowcxt);

	noop_remember(nm, nr, &tid, skip);
	if (same && !skip)
		nr->delta.nonindexed_only++;	/* a no-op that stock will write: HOT-eligible */
	if (skip)
	{
		nr->delta.noop_suppressed++;
		if (mt->canSetTag)
			nm->estate->es_processed++;
		if (nm->operation == CMD_MERGE)
			mt->mt_merge_updated += 1;
	}
	return skip;
}

/* Replacement ExecProcNodeReal of a ModifyTable subplan. */
static TupleTableSlot *
noop_exec_subplan(PlanState *node)
{
	NoopModify *nm = noop_find_by_subplan(node);

	for (;;)
	{
		TupleTableSlot *slot = nm->orig(node);

		if (TupIsNull(slot))
			return slot;
		if (!noop_consider_row(nm, slot))
			return slot;

		/* EXPLAIN ANALYZE: the scan did produce the row we consumed */
		if (node->instrument)
			node->instrument->tuplecount += 1;
		CHECK_FOR_INTERRUPTS();
	}
}

/* ---------------------------------------------------------------------
 * Trigger path
 * ---------------------------------------------------------------------
 */

/*
 * Was the version at tid updated or deleted by our own transaction since the
 * executor locked it (by a statement that a BEFORE trigger, a function in
 * ON CONFLICT's WHERE or SET, or a deferred part of this command ran)?
 * Stock then fails in heap_update with "tuple to be updated was already
 * modified by an operation triggered by the current command"; a suppressed
 * row would hide that.
 */
static bool
noop_self_modified(NoopRel *nr, ItemPointer tid)
{
	TupleTableSlot *slot = nr->lockslot;
	bool		modified = true;

	if (table_tuple_fetch_row_version(nr->rri->ri_RelationDesc, tid,
									  SnapshotAny, slot) &&
		TTS_IS_BUFFERTUPLE(slot))
	{
		HeapTupleHeader hdr = ((BufferHeapTupleTableSlot *) slot)->base.tuple->t_data;

		modified = !(hdr->t_infomask & HEAP_XMAX_INVALID) &&
			!HEAP_XMAX_IS_LOCKED_ONLY(hdr->t_infomask) &&
			TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(hdr));
	}
	ExecClearTuple(slot);
	return modified;
}

/*
 * hygiene._noop_update_trigger(): internal BEFORE ROW UPDATE trigger that
 * pg_hygiene appends to the query's copy of a table's triggers.  It runs
 * after every user trigger, on a row the executor has locked already.
 */
Datum
hygiene_noop_update_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	NoopRel    *nr = NULL;
	NoopModify *nm;
	bool		same;
	bool		indexed;
	bool		found;
	NoopSeenEntry *e = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(td->tg_event) ||
		OidIsValid(td->tg_trigger->tgoid) ||
		td->tg_trigger->tgnargs != 1 ||
		sscanf(td->tg_trigger->tgargs[0], "%p", (void **) &nr) != 1 ||
		!noop_rel_is_live(nr))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hygiene._noop_update_trigger() is internal to pg_hygiene"),
				 errhint("Do not use it in CREATE TRIGGER; set pg_hygiene.noop_updates instead.")));

	nm = nr->nm;

	/* A row this statement skipped already comes back. */
	if (nm->seen)
		e = noop_seen(nm, nr->relid, &td->tg_trigslot->tts_tid, false, &found);
	if (e && e->skipped)
	{
		if (nm->operation == CMD_MERGE)
			noop_merge_twice();
		if (nm->operation == CMD_INSERT)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("ON CONFLICT DO UPDATE command cannot affect row a second time"),
					 errhint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")));
		return PointerGetDatum(NULL);	/* stock: silently ignored */
	}

	nr->delta.rows_updated++;
	same = noop_rows_same(nr, td->tg_trigslot, td->tg_newslot, &indexed);
	if (!same)
	{
		noop_count_changed(nr, indexed);
		if (nr->ineligible != NOOP_ELIGIBLE)
			noop_count_ineligible(nr, nr->ineligible, nr->other);
		noop_remember(nm, nr, &td->tg_trigslot->tts_tid, false);
		return PointerGetDatum(td->tg_newtuple);
	}

	nr->delta.noop_rows++;
	if (nr->ineligible != NOOP_ELIGIBLE)
	{
		noop_count_ineligible(nr, nr->ineligible, nr->other);
		nr->delta.nonindexed_only++;	/* written, HOT-eligible */
		noop_remember(nm, nr, &td->tg_trigslot->tts_tid, false);
		return PointerGetDatum(td->tg_newtuple);
	}
	if (nr->mode == NOOP_OBSERVE)
	{
		nr->delta.nonindexed_only++;	/* written, HOT-eligible */
		return PointerGetDatum(td->tg_newtuple);
	}
	if (noop_seen_full(nm))
	{
		noop_count_ineligible(nr, INELIGIBLE_OTHER, OTHER_REPEAT_CHECK_FULL);
		nr->delta.nonindexed_only++;	/* written, HOT-eligible */
		return PointerGetDatum(td->tg_newtuple);
	}

	/* changed under us by a nested statement: let stock raise its error */
	if (noop_self_modified(nr, &td->tg_trigslot->tts_tid))
	{
		noop_count_ineligible(nr, INELIGIBLE_OTHER, OTHER_SELF_MODIFIED);
		nr->delta.nonindexed_only++;
		return PointerGetDatum(td->tg_newtuple);
	}

	/* lock or auto: the row is locked already; write nothing */
	nr->delta.noop_suppressed++;
	noop_remember(nm, nr, &td->tg_trigslot->tts_tid, true);
	if (nm->mtstate->canSetTag)
		nm->estate->es_processed++;
	if (nm->operation == CMD_MERGE)
		nm->mtstate->mt_merge_updated += 1;
	return PointerGetDatum(NULL);
}

/*
 * hygiene._noop_settings_changed(): statement trigger on the settings
 * table; every backend rebuilds its cache after the change commits.
 */
Datum
hygiene_noop_settings_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "hygiene._noop_settings_changed() must be called as a trigger");
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

/* Append the comparison trigger to the query's copy of the rel's triggers. */
static bool
noop_append_trigger(NoopRel *nr, EState *estate)
{
	ResultRelInfo *rri = nr->rri;
	TriggerDesc *old = rri->ri_TrigDesc;
	TriggerDesc *td;
	Trigger    *t;
	int			n = old ? old->numtriggers : 0;
	Oid			fn = noop_trigger_function();
	FmgrInfo   *fns;
	ExprState **whens;

	if (!OidIsValid(fn))
		return false;

	td = palloc0(sizeof(TriggerDesc));
	if (old)
		memcpy(td, old, sizeof(TriggerDesc));
	td->triggers = palloc0((n + 1) * sizeof(Trigger));
	if (n > 0)
		memcpy(td->triggers, old->triggers, n * sizeof(Trigger));
	t = &td->triggers[n];
	t->tgoid = InvalidOid;
	t->tgname = pstrdup("pg_hygiene_noop_update");
	t->tgfoid = fn;
	t->tgtype = TRIGGER_TYPE_ROW | TRIGGER_TYPE_BEFORE | TRIGGER_TYPE_UPDATE;
	t->tgenabled = TRIGGER_FIRES_ALWAYS;
	t->tgisinternal = true;
	t->tgnargs = 1;
	t->tgargs = palloc(sizeof(char *));
	t->tgargs[0] = psprintf("%p", (void *) nr);
	td->numtriggers = n + 1;
	td->trig_update_before_row = true;

	fns = palloc0((n + 1) * sizeof(FmgrInfo));
	whens = palloc0((n + 1) * sizeof(ExprState *));
	if (n > 0)
	{
		memcpy(fns, rri->ri_TrigFunctions, n * sizeof(FmgrInfo));
		memcpy(whens, rri->ri_TrigWhenExprs, n * sizeof(ExprState *));
	}
	rri->ri_TrigFunctions = fns;
	rri->ri_TrigWhenExprs = whens;
	if (rri->ri_TrigInstrument)
		rri->ri_TrigInstrument = InstrAlloc(n + 1, estate->es_instrument, false);
	rri->ri_TrigDesc = td;
	return true;
}

/* ---------------------------------------------------------------------
 * Executor start: decide, per result relation, what to do
 * ---------------------------------------------------------------------
 */

/* Could the subplan produce the same target row more than once (a join)? */
static bool
noop_plan_may_repeat(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			if (((Join *) plan)->jointype == JOIN_SEMI ||
				((Join *) plan)->jointype == JOIN_ANTI)
				return noop_plan_may_repeat(plan->lefttree);
			return true;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				if (noop_plan_may_repeat(lfirst(lc)))
					return true;
			return false;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				if (noop_plan_may_repeat(lfirst(lc)))
					return true;
			return false;
		case T_SubqueryScan:
			return noop_plan_may_repeat(((SubqueryScan *) plan)->subplan);
		case T_CustomScan:
		case T_ForeignScan:
		case T_FunctionScan:
		case T_ValuesScan:
		case T_CteScan:
		case T_WorkTableScan:
		case T_NamedTuplestoreScan:
		case T_TableFuncScan:
		case T_RecursiveUnion:
		case T_SetOp:
			return true;
		default:
			return noop_plan_may_repeat(plan->lefttree) ||
				noop_plan_may_repeat(plan->righttree);
	}
}

/* Find the NoopRel of a relation OID. */
static NoopRel *
noop_rel_by_oid(NoopModify *nm, Oid relid)
{
	for (int i = 0; i < nm->nrels; i++)
		if (nm->rels[i].relid == relid)
			return &nm->rels[i];
	return NULL;
}

/*
 * Is output column resno of plan, which becomes SET column k, a plain copy
 * of that same column of the row being updated?
 */
static bool
noop_is_self(NoopModify *nm, Plan *plan, AttrNumber resno, int k, int depth)
{
	TargetEntry *tle;
	Var		   *var;
	ListCell   *lc;

	if (plan == NULL || depth > 64 || resno < 1 ||
		resno > list_length(plan->targetlist))
		return false;
	tle = list_nth_node(TargetEntry, plan->targetlist, resno - 1);
	if (!IsA(tle->expr, Var))
		return false;
	var = (Var *) tle->expr;

	if (var->varno == OUTER_VAR)
	{
		List	   *children = NIL;

		if (IsA(plan, Append))
			children = ((Append *) plan)->appendplans;
		else if (IsA(plan, MergeAppend))
			children = ((MergeAppend *) plan)->mergeplans;
		else
			return noop_is_self(nm, plan->lefttree, var->varattno, k, depth + 1);
		if (children == NIL)
			return false;
		foreach(lc, children)
			if (!noop_is_self(nm, lfirst(lc), var->varattno, k, depth + 1))
				return false;
		return true;
	}
	if (var->varno == INNER_VAR)
		return noop_is_self(nm, plan->righttree, var->varattno, k, depth + 1);
	if (IS_SPECIAL_VARNO(var->varno))
		return false;
	{
		RangeTblEntry *rte = exec_rt_fetch(var->varno, nm->estate);
		NoopRel    *nr;

		if (rte->rtekind != RTE_RELATION)
			return false;
		nr = noop_rel_by_oid(nm, rte->relid);
		if (nr == NULL || nr->colnos == NULL || k >= nr->ncols)
			return false;
		return var->varattno == nr->colnos[k];
	}
}

/* Does the relation have a user AFTER ROW UPDATE trigger or transition tables? */
static bool
noop_has_after_row(TriggerDesc *td)
{
	if (td == NULL)
		return false;
	if (td->trig_update_new_table || td->trig_update_old_table)
		return true;
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!t->tgisinternal &&
			TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_AFTER(t->tgtype) &&
			TRIGGER_FOR_UPDATE(t->tgtype))
			return true;
	}
	return false;
}

/* Does the relation have a NOT VALID CHECK constraint (old rows may fail it)? */
static bool
noop_has_unvalidated_check(Relation rel)
{
	TupleConstr *c = RelationGetDescr(rel)->constr;

	if (c == NULL)
		return false;
	for (int i = 0; i < c->num_check; i++)
		if (!c->check[i].ccvalid)
			return true;
	return false;
}

/*
 * Does a CHECK constraint of the relation call a function that is not
 * immutable?  Stock evaluates it again for the new version (and may then
 * fail); a suppressed row would skip it.  Cached per relation until its
 * relcache entry is invalidated.
 */
static bool
noop_has_mutable_check(Relation rel)
{
	TupleConstr *c = RelationGetDescr(rel)->constr;
	Oid			relid = RelationGetRelid(rel);
	NoopCheckEntry *e;
	bool		found;
	bool		mutable_check = false;

	if (c == NULL || c->num_check == 0)
		return false;
	if (noop_check_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(NoopCheckEntry);
		ctl.hcxt = noop_cache_cxt;
		noop_check_cache = hash_create("pg_hygiene noop check cache", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(noop_check_cache, &relid, HASH_FIND, NULL);
	if (e != NULL)
		return e->mutable_check;
	for (int i = 0; i < c->num_check && !mutable_check; i++)
	{
		Node	   *expr = stringToNode(c->check[i].ccbin);

		mutable_check = contain_mutable_functions(expr);
		pfree(expr);
	}
	e = hash_search(noop_check_cache, &relid, HASH_ENTER, &found);
	e->mutable_check = mutable_check;
	return mutable_check;
}

/* INSERT: does the subplan propose exactly one row (VALUES of one row)? */
static bool
noop_insert_one_row(Plan *plan)
{
	if (plan == NULL)
		return false;
	if (IsA(plan, Result))
		return plan->lefttree == NULL;
	if (IsA(plan, ValuesScan))
		return list_length(((ValuesScan *) plan)->values_lists) == 1;
	return false;
}

/* MERGE: may the WHEN MATCHED actions be evaluated once more, harmlessly? */
static bool
noop_merge_actions_safe(List *actions)
{
	ListCell   *lc;

	foreach(lc, actions)
	{
		MergeAction *a = lfirst_node(MergeAction, lc);

		if (!hygiene_merge_action_is_matched(a))
			continue;
		if (contain_volatile_functions(a->qual) ||
			contain_subplans(a->qual) ||
			contain_volatile_functions((Node *) a->targetList) ||
			contain_subplans((Node *) a->targetList))
			return false;
	}
	return true;
}

/*
 * UPDATE ... WHERE CURRENT OF: the executor state of the cursor.  The
 * statement touches only the cursor's current row, which a cursor FOR
 * UPDATE (never scrollable) has locked and will not return again unless
 * its plan can produce a row twice (a join), so the cursor's own NoopWriter
 * does not stand in the way.
 */
static EState *
noop_current_of_cursor(ModifyTableState *mt, EState *estate)
{
	Plan	   *sub = outerPlan(mt->ps.plan);
	CurrentOfExpr *cexpr;
	char	   *name = NULL;
	Portal		portal;

	if (sub == NULL || !IsA(sub, TidScan) ||
		list_length(((TidScan *) sub)->tidquals) != 1 ||
		!IsA(linitial(((TidScan *) sub)->tidquals), CurrentOfExpr))
		return NULL;
	cexpr = linitial(((TidScan *) sub)->tidquals);
	if (cexpr->cursor_name)
		name = cexpr->cursor_name;
	else
	{
		ParamListInfo params = estate->es_param_list_info;
		int			id = cexpr->cursor_param;

		if (params != NULL && id > 0 && id <= params->numParams)
		{
			ParamExternData data;
			ParamExternData *prm;

			if (params->paramFetch != NULL)
				prm = params->paramFetch(params, id, false, &data);
			else
				prm = &params->params[id - 1];
			if (prm->ptype == REFCURSOROID && !prm->isnull)
				name = TextDatumGetCString(prm->value);
		}
	}
	if (name == NULL)
		return NULL;
	portal = GetPortalByName(name);
	if (!PortalIsValid(portal) || portal->queryDesc == NULL ||
		noop_plan_may_repeat(portal->queryDesc->plannedstmt->planTree))
		return NULL;
	return portal->queryDesc->estate;
}

/* Set up one ModifyTable node; returns its state or NULL if nothing applies. */
static NoopModify *
noop_setup_node(ModifyTableState *mt, EState *estate, bool auto_ok,
				NoopTouch *qt)
{
	ModifyTable *plan = (ModifyTable *) mt->ps.plan;
	NoopModify *nm;
	bool		any_active = false;
	bool		any_wrapped = false;
	bool		may_repeat;
	bool		transition;
	EState	   *cursor = NULL;
	int			stmt_reason = NOOP_ELIGIBLE;

	nm = palloc0(sizeof(NoopModify));
	nm->mtstate = mt;
	nm->estate = estate;
	nm->operation = mt->operation;
	nm->auto_ok = auto_ok;
	nm->nrels = mt->mt_nrels;
	nm->rels = palloc0(nm->nrels * sizeof(NoopRel));

	if (mt->operation == CMD_INSERT)	/* several proposed rows may hit one */
		may_repeat = !noop_insert_one_row(outerPlan(plan));
	else if (mt->operation == CMD_MERGE)
		may_repeat = true;
	else
		may_repeat = noop_plan_may_repeat(outerPlan(plan));

	/* Reasons that hold for the whole statement. */
	if (plan->returningLists != NIL)
		stmt_reason = INELIGIBLE_RETURNING;
	else if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		stmt_reason = INELIGIBLE_REPLICA_ROLE;
	else if (IsolationIsSerializable())
		stmt_reason = INELIGIBLE_OTHER;

	if (mt->operation == CMD_UPDATE && noop_writers_len > 0)
		cursor = noop_current_of_cursor(mt, estate);

	/*
	 * Transition tables of the root (partitioned or inheritance parent)
	 * capture the rows of every child: the leaves' own TriggerDescs do not
	 * show them.
	 */
	transition =
		(mt->mt_transition_capture != NULL &&
		 (mt->mt_transition_capture->tcs_update_old_table ||
		  mt->mt_transition_capture->tcs_update_new_table)) ||
		(mt->mt_oc_transition_capture != NULL &&
		 (mt->mt_oc_transition_capture->tcs_update_old_table ||
		  mt->mt_oc_transition_capture->tcs_update_new_table));

	for (int i = 0; i < nm->nrels; i++)
	{
		NoopRel    *nr = &nm->rels[i];
		ResultRelInfo *rri = mt->resultRelInfo + i;
		Relation	rel = rri->ri_RelationDesc;
		TriggerDesc *td = rri->ri_TrigDesc;
		bool		has_before;

		nr->magic = NOOP_REL_MAGIC;
		nr->nm = nm;
		nr->rri = rri;
		nr->relid = RelationGetRelid(rel);
		nr->mode = noop_table_mode(rel);
		nr->ineligible = stmt_reason;
		nr->other = OTHER_SERIALIZABLE;	/* the one statement-wide "other" */
		if (nr->mode == NOOP_OFF)
			continue;

		/* ON CONFLICT into a partitioned table routes to partitions we cannot see */
		if (mt->operation == CMD_INSERT &&
			rel->rd_rel->relkind != RELKIND_RELATION)
			continue;

		nr->active = true;
		any_active = true;

		if (rel->rd_rel->relkind != RELKIND_RELATION ||
			rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
			IsCatalogRelation(rel) ||
			rri->ri_usesFdwDirectModify)
		{
			/* foreign tables, views, other table AMs, catalogs: count only */
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_NOT_HEAP;
			nr->compare = false;
			any_wrapped |= (mt->operation == CMD_UPDATE);
			continue;
		}
		nr->compare = true;

		if (nr->ineligible == NOOP_ELIGIBLE &&
			(transition || noop_has_after_row(td)))
			nr->ineligible = INELIGIBLE_AFTER_TRIGGER;
		if (nr->ineligible == NOOP_ELIGIBLE && rri->ri_WithCheckOptions != NIL)
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_WITH_CHECK;
		}
		if (nr->ineligible == NOOP_ELIGIBLE && noop_has_unvalidated_check(rel))
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_NOT_VALID_CHECK;
		}
		if (nr->ineligible == NOOP_ELIGIBLE && noop_has_mutable_check(rel))
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_MUTABLE_CHECK;
			nr->why = "CHECK calls a mutable function";
		}
		/* another writer of the query, or a running query, may touch the row */
		if (nr->ineligible == NOOP_ELIGIBLE &&
			noop_touched_elsewhere(qt, mt, rel, cursor))
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_OTHER_WRITER;
			nr->why = "another writer may touch the table";
		}
		if (nr->ineligible == NOOP_ELIGIBLE && mt->operation == CMD_MERGE &&
			((hygiene_merge_matched_actions(rri) != NIL &&
			  !noop_merge_actions_safe(list_nth(plan->mergeActionLists, i))) ||
			 hygiene_merge_has_not_matched_by_source(rri)))
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_MERGE_ACTIONS;
		}

		/* MERGE actions are only evaluated here when that is harmless */
		if (mt->operation == CMD_MERGE && nr->ineligible != NOOP_ELIGIBLE)
			nr->compare = false;

		has_before = td && td->trig_update_before_row;
		nr->use_trigger = has_before || mt->operation == CMD_INSERT;

		if (nr->use_trigger && mt->operation == CMD_UPDATE && may_repeat &&
			nr->ineligible == NOOP_ELIGIBLE)
		{
			nr->ineligible = INELIGIBLE_OTHER;	/* triggers would fire twice */
			nr->other = OTHER_REPEATED_ROW;
		}

		/*
		 * ON CONFLICT with several proposed rows: stock fails on the second
		 * hit of a row before DO UPDATE ... WHERE and before BEFORE ROW
		 * triggers run; pg_hygiene can only see it after both.
		 */
		if (mt->operation == CMD_INSERT && may_repeat &&
			nr->ineligible == NOOP_ELIGIBLE &&
			(plan->onConflictWhere != NULL || has_before))
		{
			nr->ineligible = INELIGIBLE_OTHER;
			nr->other = OTHER_REPEATED_ROW;
			nr->why = "rows proposed twice would be seen too late";
		}

		if (mt->operation == CMD_UPDATE)
		{
			List	   *colnos = list_nth(plan->updateColnosLists, i);
			ListCell   *lc;
			int			k = 0;

			nr->ncols = list_length(colnos);
			nr->colnos = palloc(Max(nr->ncols, 1) * sizeof(AttrNumber));
			foreach(lc, colnos)
				nr->colnos[k++] = (AttrNumber) lfirst_int(lc);
		}

		/*
		 * The columns whose change blocks HOT (see compat.h: in 15 every
		 * column an index uses).
		 */
		nr->hotblocking = RelationGetIndexAttrBitmap(rel, HYGIENE_INDEX_ATTR_BITMAP_HOT_BLOCKING);
		nr->oldslot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel),
											 table_slot_callbacks(rel));
		nr->lockslot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel),
											  table_slot_callbacks(rel));

		if (nr->use_trigger)
		{
			if (!noop_append_trigger(nr, estate))
				nr->active = false; /* extension not installed here */
			else if (mt->operation == CMD_MERGE)
				any_wrapped = true; /* repeat check, see noop_consider_row */
		}
		else
			any_wrapped = true;
	}

	if (!any_active)
		return NULL;

	/* A "touch": every SET column is assigned itself. */
	if (mt->operation == CMD_UPDATE && stmt_reason == NOOP_ELIGIBLE)
	{
		int			ncols = -1;
		bool		self = true;

		for (int i = 0; i < nm->nrels; i++)
			if (nm->rels[i].colnos)
			{
				ncols = nm->rels[i].ncols;
				break;
			}
		if (ncols <= 0)
			self = false;
		for (int k = 0; self && k < ncols; k++)
			self = noop_is_self(nm, outerPlan(plan), k + 1, k, 0);
		if (self)
			for (int i = 0; i < nm->nrels; i++)
				nm->rels[i].ineligible = INELIGIBLE_SELF_ASSIGNMENT;
	}

	if (may_repeat)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(NoopSeenKey);
		ctl.entrysize = sizeof(NoopSeenEntry);
		ctl.hcxt = estate->es_query_cxt;
		nm->seen = hash_create("pg_hygiene noop seen", 256, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	nm->rowcxt = AllocSetContextCreate(estate->es_query_cxt,
									   "pg_hygiene noop row",
									   ALLOCSET_SMALL_SIZES);

	if (any_wrapped && mt->operation != CMD_INSERT)
	{
		nm->subplan = outerPlanState(mt);
		nm->orig = nm->subplan->ExecProcNodeReal;
		nm->subplan->ExecProcNodeReal = noop_exec_subplan;
	}

	for (int i = 0; i < nm->nrels; i++)
	{
		NoopRel    *nr = &nm->rels[i];

		if (nr->active)
			hygiene_debug_notice("noop_updates: %s: mode %s, %s%s%s%s%s%s",
								 RelationGetRelationName(nr->rri->ri_RelationDesc),
								 noop_mode_names[nr->mode],
								 nr->use_trigger ? "trigger path" : "wrapper path",
								 nr->ineligible == NOOP_ELIGIBLE ? "" : ", ineligible: ",
								 nr->ineligible == INELIGIBLE_RETURNING ? "returning" :
								 nr->ineligible == INELIGIBLE_AFTER_TRIGGER ? "after trigger" :
								 nr->ineligible == INELIGIBLE_SELF_ASSIGNMENT ? "self-assignment" :
								 nr->ineligible == INELIGIBLE_REPLICA_ROLE ? "replica role" :
								 nr->ineligible == INELIGIBLE_OTHER ? "other" : "",
								 nr->why ? " (" : "", nr->why ? nr->why : "",
								 nr->why ? ")" : "");
	}
	return nm;
}

/* planstate_tree_walker callback: collect every ModifyTable node. */
static bool
noop_collect_walker(PlanState *ps, void *context)
{
	List	  **list = (List **) context;

	if (ps == NULL)
		return false;
	if (IsA(ps, ModifyTableState))
		*list = list_append_unique_ptr(*list, ps);
	return planstate_tree_walker(ps, noop_collect_walker, context);
}

/* Is this a node pg_hygiene handles (UPDATE, MERGE, ON CONFLICT DO UPDATE)? */
static bool
noop_node_updates(ModifyTableState *mt)
{
	return mt->operation == CMD_UPDATE || mt->operation == CMD_MERGE ||
		(mt->operation == CMD_INSERT &&
		 ((ModifyTable *) mt->ps.plan)->onConflictAction == ONCONFLICT_UPDATE);
}

/*
 * The relations each ModifyTable node of the query may touch existing rows
 * of, and the query's FOR UPDATE/SHARE targets; NULL when the query has a
 * single such node and no such target (the common case).
 */
static NoopTouch *
noop_query_touch(QueryDesc *queryDesc, List *nodes)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	NoopTouch  *qt;
	ListCell   *lc;
	int			ntouching = 0;
	int			nmarks = 0;
	int			max = 0;

	foreach(lc, nodes)
	{
		ModifyTableState *mt = lfirst(lc);

		if (mt->operation == CMD_INSERT && !noop_node_updates(mt))
			continue;			/* a plain INSERT touches no existing row */
		ntouching++;
		max += mt->mt_nrels + 1;
	}
	foreach(lc, stmt->rowMarks)
		if (RowMarkRequiresRowShareLock(lfirst_node(PlanRowMark, lc)->markType))
			nmarks++;
	if (ntouching <= 1 && nmarks == 0)
		return NULL;

	qt = palloc0(sizeof(NoopTouch));
	qt->relids = palloc((max + nmarks) * sizeof(Oid));
	qt->owners = palloc((max + nmarks) * sizeof(void *));
	foreach(lc, nodes)
	{
		ModifyTableState *mt = lfirst(lc);

		if (mt->operation == CMD_INSERT && !noop_node_updates(mt))
			continue;
		for (int i = 0; i < mt->mt_nrels; i++)
		{
			qt->relids[qt->n] = RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc);
			qt->owners[qt->n++] = mt;
		}
		/* the root: ON CONFLICT routes to any of its partitions */
		if (mt->rootResultRelInfo != NULL)
		{
			qt->relids[qt->n] = RelationGetRelid(mt->rootResultRelInfo->ri_RelationDesc);
			qt->owners[qt->n++] = mt;
		}
	}
	foreach(lc, stmt->rowMarks)
	{
		PlanRowMark *rc = lfirst_node(PlanRowMark, lc);

		if (!RowMarkRequiresRowShareLock(rc->markType))
			continue;
		qt->relids[qt->n] = rt_fetch(rc->rti, stmt->rtable)->relid;
		qt->owners[qt->n++] = NULL;
	}
	return qt;
}

/* planstate_tree_walker callback: may the plan run volatile functions? */
static bool
noop_volatile_walker(PlanState *ps, void *context)
{
	Plan	   *plan;
	Node	   *extra[4] = {NULL, NULL, NULL, NULL};

	if (ps == NULL)
		return false;
	plan = ps->plan;
	switch (nodeTag(plan))
	{
		case T_Result:
			extra[0] = ((Result *) plan)->resconstantqual;
			break;
		case T_NestLoop:
			extra[0] = (Node *) ((Join *) plan)->joinqual;
			break;
		case T_MergeJoin:
			extra[0] = (Node *) ((Join *) plan)->joinqual;
			extra[1] = (Node *) ((MergeJoin *) plan)->mergeclauses;
			break;
		case T_HashJoin:
			extra[0] = (Node *) ((Join *) plan)->joinqual;
			extra[1] = (Node *) ((HashJoin *) plan)->hashclauses;
			break;
		case T_FunctionScan:
			extra[0] = (Node *) ((FunctionScan *) plan)->functions;
			break;
		case T_ValuesScan:
			extra[0] = (Node *) ((ValuesScan *) plan)->values_lists;
			break;
		case T_TableFuncScan:
			extra[0] = (Node *) ((TableFuncScan *) plan)->tablefunc;
			break;
		case T_SampleScan:
			extra[0] = (Node *) ((SampleScan *) plan)->tablesample;
			break;
		case T_BitmapHeapScan:
			extra[0] = (Node *) ((BitmapHeapScan *) plan)->bitmapqualorig;
			break;
		case T_TidScan:
			extra[0] = (Node *) ((TidScan *) plan)->tidquals;
			break;
		case T_TidRangeScan:
			extra[0] = (Node *) ((TidRangeScan *) plan)->tidrangequals;
			break;
		case T_Limit:
			extra[0] = ((Limit *) plan)->limitOffset;
			extra[1] = ((Limit *) plan)->limitCount;
			break;
		case T_WindowAgg:
			extra[0] = ((WindowAgg *) plan)->startOffset;
			extra[1] = ((WindowAgg *) plan)->endOffset;
			break;
		case T_Memoize:
			extra[0] = (Node *) ((Memoize *) plan)->param_exprs;
			break;
		case T_ModifyTable:
			extra[0] = (Node *) ((ModifyTable *) plan)->onConflictSet;
			extra[1] = ((ModifyTable *) plan)->onConflictWhere;
			extra[2] = (Node *) ((ModifyTable *) plan)->mergeActionLists;
			extra[3] = (Node *) ((ModifyTable *) plan)->returningLists;
			break;
		case T_CustomScan:
		case T_ForeignScan:
			return true;		/* their expressions are their own */
		default:
			break;
	}
	if (contain_volatile_functions((Node *) plan->targetlist) ||
		contain_volatile_functions((Node *) plan->qual))
		return true;
	for (int i = 0; i < lengthof(extra); i++)
		if (extra[i] != NULL && contain_volatile_functions(extra[i]))
			return true;
	return planstate_tree_walker(ps, noop_volatile_walker, context);
}

/*
 * auto: may a no-op row of this lone statement be skipped without a lock?
 * Not if anything could run in between that relies on it or observes it:
 * statement-level triggers, volatile functions (which may write, or read
 * the row after a concurrent writer changed it).  Rows later in the
 * statement are also locked once anything wrote (noop_consider_row).
 */
static bool
noop_auto_statement_ok(QueryDesc *queryDesc, ModifyTableState *mt)
{
	ResultRelInfo *root = mt->rootResultRelInfo ? mt->rootResultRelInfo : mt->resultRelInfo;
	TriggerDesc *td = root->ri_TrigDesc;
	ListCell   *lc;

	if (td != NULL &&
		(td->trig_update_before_statement || td->trig_update_after_statement ||
		 td->trig_insert_before_statement || td->trig_insert_after_statement ||
		 td->trig_delete_before_statement || td->trig_delete_after_statement))
		return false;
	if (noop_volatile_walker(queryDesc->planstate, NULL))
		return false;
	foreach(lc, queryDesc->estate->es_subplanstates)
		if (noop_volatile_walker(lfirst(lc), NULL))
			return false;
	return true;
}

/* Set up suppression for a starting query. */
static void
noop_setup_query(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;
	List	   *nodes = NIL;
	ListCell   *lc;
	NoopModify *head = NULL;
	NoopTouch  *qt;
	bool		auto_ok;
	int			nupdating = 0;
	MemoryContext oldcxt;
	MemoryContextCallback *cb;

	oldcxt = MemoryContextSwitchTo(estate->es_query_cxt);

	noop_collect_walker(queryDesc->planstate, &nodes);
	foreach(lc, estate->es_subplanstates)
		noop_collect_walker(lfirst(lc), &nodes);
	foreach(lc, nodes)
		if (noop_node_updates(lfirst(lc)))
			nupdating++;

	if (nupdating == 0)
	{
		MemoryContextSwitchTo(oldcxt);
		return;
	}

	/*
	 * auto may skip the lock only for a lone autocommit statement: one
	 * ModifyTable node, a client statement not inside a transaction block,
	 * function or multi-statement string, no rule actions (they make the
	 * portal run several statements), nothing written before it.
	 */
	auto_ok = list_length(nodes) == 1 &&
		hygiene_exec_nesting_level == 0 &&
		noop_writers_len == 0 &&
		ActivePortal != NULL && list_length(ActivePortal->stmts) == 1 &&
		!IsTransactionBlock() &&
		!IsSubTransaction() &&
		XactIsoLevel == XACT_READ_COMMITTED &&
		!queryDesc->plannedstmt->hasModifyingCTE &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny());
	if (auto_ok)
	{
		ModifyTableState *mt = linitial(nodes);

		auto_ok = (noop_mode_guc == NOOP_AUTO ||
				   hash_get_num_entries(noop_overrides) > 0) &&
			noop_auto_statement_ok(queryDesc, mt);
	}

	qt = noop_query_touch(queryDesc, nodes);

	/* the cleanup exists before the states it unregisters */
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = noop_query_done;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(estate->es_query_cxt, cb);

	foreach(lc, nodes)
	{
		NoopModify *nm;

		if (!noop_node_updates(lfirst(lc)))
			continue;
		nm = noop_setup_node(lfirst(lc), estate, auto_ok, qt);
		if (nm == NULL)
			continue;
		nm->next = head;
		head = nm;
		cb->arg = head;
		noop_register(nm);
	}
	MemoryContextSwitchTo(oldcxt);
}

/* ExecutorStart hook: set up suppression for statements that update. */
static void
noop_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	/* a plain read (no FOR UPDATE/SHARE): nothing to set up or remember */
	if (stmt->commandType == CMD_SELECT && !stmt->hasModifyingCTE &&
		stmt->rowMarks == NIL)
		return;
	if (!HYGIENE_ACTIVE())
		return;
	if (stmt->commandType == CMD_UPDATE || stmt->commandType == CMD_MERGE ||
		stmt->commandType == CMD_INSERT || stmt->hasModifyingCTE)
	{
		if (!noop_ensure_overrides())
			hygiene_debug_notice("noop_updates: settings table locked, statement left alone");
		else if (noop_mode_guc != NOOP_OFF ||
				 hash_get_num_entries(noop_overrides) > 0)
			noop_setup_query(queryDesc);
	}
	/* after the setup: the query's own writers are checked per node */
	noop_writer_remember(queryDesc);
}

/* Define the GUC, install the hook and the cache callbacks; called from _PG_init. */
void
noop_update_init(void)
{
	DefineCustomEnumVariable("pg_hygiene.noop_updates",
							 "Suppresses UPDATEs of rows whose new version would be identical to the old one.",
							 "off: nothing; observe: count no-op rows only; lock: lock a no-op row like UPDATE "
							 "would but write no new version; auto: like lock, but an autocommit single-statement "
							 "UPDATE skips unchanged rows without locking them. A per-table setting in "
							 "hygiene.noop_update_settings overrides this.",
							 &noop_mode_guc,
							 NOOP_OBSERVE,
							 noop_mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	noop_cache_cxt = AllocSetContextCreate(TopMemoryContext,
										   "pg_hygiene noop cache",
										   ALLOCSET_SMALL_SIZES);
	CacheRegisterRelcacheCallback(noop_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, noop_syscache_cb, (Datum) 0);

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = noop_ExecutorStart;
}
