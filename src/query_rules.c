/*-------------------------------------------------------------------------
 *
 * query_rules.c
 *		Query digest rules: block, throttle (rate and concurrency) or dry-run
 *		statements by queryid, optionally for one role and until an expiry.
 *
 * Rules live in the extension table hygiene.query_rule of each database
 * (dumped by pg_dump, replicated to standbys).  Enforcement happens in
 * ExecutorStart, at every nesting level, for statements that run through the
 * executor; EXPLAIN without ANALYZE is never affected.
 *
 * Each backend caches its database's rules in a child of TopMemoryContext.
 * Freshness without table access on the hot path:
 *	- a per-database shared "version" counter; a statement-level trigger on the
 *	  table marks the transaction, and the XactCallback bumps the version
 *	  after COMMIT (when the change is visible), so every session of the
 *	  primary reloads before its next statement;
 *	- a content hash per version: the first backend to read the table at a
 *	  version records it, any later reader that finds other content bumps
 *	  the version (so no two caches at one version can differ);
 *	- a per-database "last check" time: on a standby (which cannot run the
 *	  trigger: changes arrive through WAL), and on a primary that has rules
 *	  (to see DROP EXTENSION, restores with triggers disabled, COMMIT
 *	  PREPARED), at most one backend per database per second rereads the
 *	  table, which bumps the version when the content changed;
 *	- otherwise, with no rules, the hot path is two atomic reads, and a new
 *	  session adopts the recorded "no rules" of the current version without
 *	  reading the table.
 * The table is read with SnapshotSelf (no predicate locks, no snapshot
 * juggling, sees everything committed), only inside a valid, non-parallel
 * transaction (ExecutorStart never runs in an aborted one), and only with a
 * conditional AccessShareLock, so that DDL on the table never stalls queries.
 *
 * Shared state per rule (counters, token bucket, concurrency slots) lives in
 * a fixed array keyed by (database, rule_id).  Entries are found or created
 * under the LWLock (shared to find, exclusive to create or reclaim) and
 * updated under their spinlock, where the key is checked again: an entry can
 * be reclaimed for another rule once its rule is gone and no slot is held.
 * Nothing that can ereport runs while the spinlock is held.
 *
 * Concurrency slots are released by a reset callback on the statement's
 * es_query_cxt (ExecutorEnd, error, cancel: the executor's memory goes away
 * in every case) and, for backend exit, by a before_shmem_exit callback that
 * walks this backend's list of held slots.  Waiting (for a rate token or a
 * slot) happens only where it is safe (design §2): a top-level statement of a
 * client backend, outside a transaction block, with no xid; it is bounded by
 * pg_hygiene.query_rule_wait_timeout and interruptible.  Elsewhere a
 * throttled statement is rejected at once.
 *
 * IDENTIFICATION
 *	  src/query_rules.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "parser/analyze.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "extension_objects.h"
#include "log_rate.h"
#include "pg_hygiene.h"
#include "wait_events.h"
#include "query_rules.h"
#include "waits.h"

/* Databases whose version counters fit in shared memory. */
#define QR_MAX_DBS			128
/*
 * Slowest rate a throttle rule may have: one statement a day (the SQL
 * functions reject slower ones; rows stored before 0.3 are raised to it), so
 * that the wait until the next token is always a representable number.
 */
#define QR_MIN_PER_SECOND	(1.0 / 86400.0)
/* How often the table is reread where the trigger cannot signal changes. */
#define QR_CHECK_INTERVAL_US	USECS_PER_SEC
/* Dry-run log lines per rule: at most one per this interval. */
#define QR_LOG_INTERVAL_US	USECS_PER_SEC

#define QR_TRANCHE "pg_hygiene query rules"

/* Shared state of one rule, keyed by (dboid, rule_id); rule_id 0 = free. */
typedef struct QrEntry
{
	slock_t		mutex;			/* protects everything below */
	Oid			dboid;
	int64		rule_id;
	int32		active;			/* concurrency slots held */
	double		tokens;			/* token bucket; valid once refill_at != 0 */
	TimestampTz refill_at;
	uint64		matched;		/* statements that matched the rule */
	uint64		blocked;
	uint64		throttled;		/* rejected by rate or concurrency */
	uint64		waited;			/* admitted after waiting */
	uint64		dry_run_hits;	/* would have been blocked or throttled */
	uint64		exempted;		/* superusers and background processes */
	TimestampTz last_hit;
	TimestampTz last_logged;
	ConditionVariable cv;		/* broadcast when a slot is released */
} QrEntry;

/* Per-database freshness state. */
typedef struct QrDb
{
	Oid			dboid;			/* InvalidOid = free; set under the LWLock */
	pg_atomic_uint64 version;	/* bumped whenever the table changed */
	pg_atomic_uint64 last_check;	/* TimestampTz of the last periodic read */
	pg_atomic_uint32 nrules;	/* rows in the table at the last read */
	Oid			relid;			/* hygiene.query_rule of this database, as
								 * last read (for relcache callbacks) */
	slock_t		mutex;			/* protects the four fields below */
	uint64		hash_version;	/* the version they describe */
	uint32		hash;			/* content hash of the rules at that version */
	int			hash_nrules;	/* number of rules at that version */
	XLogRecPtr	hash_lsn;		/* on a standby: replay position before the
								 * read that recorded them */
} QrDb;

typedef struct QrShared
{
	LWLock	   *lock;
	int			nentries;
	QrDb		dbs[QR_MAX_DBS];
	QrEntry		entries[FLEXIBLE_ARRAY_MEMBER];
} QrShared;

/* One cached rule in this backend. */
typedef struct QrRule
{
	int64		rule_id;
	int64		queryid;
	Oid			roleid;			/* InvalidOid: every role */
	bool		orphaned;		/* its role was dropped (or renamed): the
								 * rule matches no one */
	bool		block;			/* else throttle */
	bool		dry_run;
	double		per_second;		/* 0: no rate limit */
	int32		max_concurrent; /* 0: no concurrency limit */
	TimestampTz expires_at;		/* 0: never */
	char	   *reason;
	int			shm_idx;		/* index into entries, -1 until resolved */
} QrRule;

/* A concurrency slot held by one statement; lives in its es_query_cxt. */
typedef struct QrHeld
{
	MemoryContextCallback cb;
	dlist_node	node;
	int			idx;
	Oid			dboid;
	int64		rule_id;
	bool		held;
} QrHeld;

/* GUCs */
static int	qr_wait_timeout = 1000;
static bool qr_exempt_superuser = true;
static int	qr_max_rules = 1000;

static QrShared *qr_shared = NULL;

/* Backend cache */
static MemoryContext qr_cxt = NULL;
static QrRule *qr_rules = NULL;
static int	qr_nrules = 0;
static bool qr_loaded = false;
static uint64 qr_version = 0;
static TimestampTz qr_local_check = 0;	/* when no QrDb slot was available */
static QrDb *qr_db = NULL;
static bool qr_db_tried = false;
static bool qr_changed_in_xact = false;
static volatile bool qr_force_read = false;	/* relcache inval of the table */
static bool qr_has_role_rules = false;	/* the cache has rules for one role */
static bool qr_warned_full = false;

static void qr_blank_controls(char *str);
static void qr_relcache_callback(Datum arg, Oid relid);
static void qr_authid_callback(Datum arg, int cacheid, uint32 hashvalue);
static dlist_head qr_held_list = DLIST_STATIC_INIT(qr_held_list);
static bool qr_exit_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static bool qr_ids_enabled = false;	/* this backend computes query ids for us */

PG_FUNCTION_INFO_V1(hygiene_query_rules_changed);
PG_FUNCTION_INFO_V1(hygiene_reload_query_rules);
PG_FUNCTION_INFO_V1(hygiene_query_rule_stats);

/* Bytes of shared memory this module needs. */
static Size
qr_shmem_size(void)
{
	return add_size(offsetof(QrShared, entries),
					mul_size(qr_max_rules, sizeof(QrEntry)));
}

/* Ask the postmaster for our segment and lock. */
static void
qr_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(MAXALIGN(qr_shmem_size()));
	RequestNamedLWLockTranche(QR_TRANCHE, 1);
}

/* Attach to (and on first attach, initialise) our segment. */
static void
qr_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	qr_shared = ShmemInitStruct("pg_hygiene query rules", qr_shmem_size(), &found);
	if (!found)
	{
		qr_shared->lock = &(GetNamedLWLockTranche(QR_TRANCHE))->lock;
		qr_shared->nentries = qr_max_rules;
		for (int i = 0; i < QR_MAX_DBS; i++)
		{
			qr_shared->dbs[i].dboid = InvalidOid;
			pg_atomic_init_u64(&qr_shared->dbs[i].version, 1);
			pg_atomic_init_u64(&qr_shared->dbs[i].last_check, 0);
			pg_atomic_init_u32(&qr_shared->dbs[i].nrules, 0);
			SpinLockInit(&qr_shared->dbs[i].mutex);
			qr_shared->dbs[i].hash_version = 0;
			qr_shared->dbs[i].hash = 0;
			qr_shared->dbs[i].hash_nrules = 0;
			qr_shared->dbs[i].hash_lsn = InvalidXLogRecPtr;
			qr_shared->dbs[i].relid = InvalidOid;
		}
		for (int i = 0; i < qr_max_rules; i++)
		{
			QrEntry    *e = &qr_shared->entries[i];

			memset(e, 0, sizeof(QrEntry));
			SpinLockInit(&e->mutex);
			ConditionVariableInit(&e->cv);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Find (or claim) this database's freshness slot; NULL when all are taken. */
static QrDb *
qr_attach_db(void)
{
	QrDb	   *free_slot = NULL;

	if (qr_db_tried || !OidIsValid(MyDatabaseId))
		return qr_db;

	LWLockAcquire(qr_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < QR_MAX_DBS; i++)
	{
		if (qr_shared->dbs[i].dboid == MyDatabaseId)
		{
			qr_db = &qr_shared->dbs[i];
			break;
		}
		if (free_slot == NULL && !OidIsValid(qr_shared->dbs[i].dboid))
			free_slot = &qr_shared->dbs[i];
	}
	if (qr_db == NULL && free_slot != NULL)
	{
		free_slot->dboid = MyDatabaseId;
		qr_db = free_slot;
	}
	LWLockRelease(qr_shared->lock);
	qr_db_tried = true;
	return qr_db;
}

/* Order cached rules by queryid, then role (so lookups can bsearch). */
static int
qr_rule_cmp(const void *a, const void *b)
{
	const QrRule *ra = (const QrRule *) a;
	const QrRule *rb = (const QrRule *) b;

	if (ra->queryid != rb->queryid)
		return ra->queryid < rb->queryid ? -1 : 1;
	if (ra->roleid != rb->roleid)
		return ra->roleid < rb->roleid ? -1 : 1;
	if (ra->rule_id != rb->rule_id)
		return ra->rule_id < rb->rule_id ? -1 : 1;
	return 0;
}

/* Attribute number of a column of hygiene.query_rule, 0 if absent. */
static AttrNumber
qr_attnum(TupleDesc desc, const char *name, Oid typid)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0 &&
			att->atttypid == typid)
			return att->attnum;
	}
	return 0;
}

/*
 * Every cache at one version must hold the same rules.  The first backend to
 * read the table at a version records the content's hash; a later reader at
 * the same version that finds other content (changed without the trigger:
 * WAL replay on a standby, a restore with triggers disabled, COMMIT PREPARED)
 * bumps the version, so that every backend rereads.
 */
static void
qr_publish_hash(uint64 version, uint32 hash, int nrules, XLogRecPtr lsn)
{
	SpinLockAcquire(&qr_db->mutex);
	if (pg_atomic_read_u64(&qr_db->version) == version)
	{
		if (qr_db->hash_version != version)
		{
			qr_db->hash_version = version;
			qr_db->hash = hash;
			qr_db->hash_nrules = nrules;
			qr_db->hash_lsn = lsn;
		}
		else if (qr_db->hash != hash || qr_db->hash_nrules != nrules)
		{
			/* This backend's content is the new version's content. */
			qr_version = pg_atomic_add_fetch_u64(&qr_db->version, 1);
			qr_db->hash_version = qr_version;
			qr_db->hash = hash;
			qr_db->hash_nrules = nrules;
			qr_db->hash_lsn = lsn;
		}
		else if (lsn > qr_db->hash_lsn)
			qr_db->hash_lsn = lsn;	/* still true at a later position */
	}
	SpinLockRelease(&qr_db->mutex);
}

/*
 * A backend that must (re)load at a version for which another backend has
 * already found no rules takes that answer without reading the table: so a
 * database without rules costs new sessions nothing either.  Any later reader
 * that finds rules at this version bumps it (qr_publish_hash).
 */
static bool
qr_adopt_empty(uint64 version)
{
	bool		empty;
	XLogRecPtr	lsn = InvalidXLogRecPtr;

	/*
	 * On a standby, replay changes the table without moving the version: the
	 * recorded "no rules" holds only while nothing was replayed since it was
	 * read (the first statement of a new session after a rule replicated is
	 * checked too).
	 */
	if (RecoveryInProgress())
		lsn = GetXLogReplayRecPtr(NULL);

	SpinLockAcquire(&qr_db->mutex);
	empty = (qr_db->hash_version == version && qr_db->hash_nrules == 0 &&
			 qr_db->hash_lsn == lsn);
	SpinLockRelease(&qr_db->mutex);
	if (!empty)
		return false;

	if (qr_cxt)
		MemoryContextDelete(qr_cxt);
	qr_cxt = NULL;
	qr_rules = NULL;
	qr_nrules = 0;
	qr_has_role_rules = false;
	qr_version = version;
	qr_loaded = true;
	return true;
}

/*
 * Is a rule for this role orphaned (finding O20)?  The role column holds a
 * bare OID: after DROP ROLE a new role may get the same OID, and a dump
 * restored elsewhere keeps the number of a role that did not exist when it
 * was taken.  So rules also store the role's name when they were made, and
 * apply only while a role with that OID still has that name.  (Rows written
 * without a name, by hand, are matched by OID alone.)
 */
static bool
qr_role_orphaned(Oid roleid, const char *stored_name)
{
	HeapTuple	tup;
	bool		orphaned;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return true;
	orphaned = stored_name != NULL &&
		strcmp(NameStr(((Form_pg_authid) GETSTRUCT(tup))->rolname), stored_name) != 0;
	ReleaseSysCache(tup);
	return orphaned;
}

/*
 * Reread hygiene.query_rule into the backend cache.  "version" is the shared
 * version read before the scan started: a change committed after that bumps
 * it again, so the cache can never claim a version it has not seen.  Returns
 * false (and leaves the cache alone) when the table cannot be read now.
 */
static bool
qr_refresh(uint64 version)
{
	Oid			relid;
	Relation	rel;
	MemoryContext newcxt;
	MemoryContext oldcxt;
	QrRule	   *rules = NULL;
	int			nrules = 0;
	int			maxrules = 0;
	uint32		hash = 0;
	int			nrows = 0;
	XLogRecPtr	lsn = InvalidXLogRecPtr;
	bool		role_rules = false;

	if (!IsTransactionState() || IsInParallelMode() || creating_extension ||
		!OidIsValid(MyDatabaseId))
		return false;

	/* before the scan: a commit replayed during it moves the position on */
	if (RecoveryInProgress())
		lsn = GetXLogReplayRecPtr(NULL);

	/* Only the extension's own table, never one found by name (S1). */
	relid = hygiene_extension_object(HYGIENE_OBJ_QUERY_RULE);

	newcxt = AllocSetContextCreate(TopMemoryContext, "pg_hygiene query rules",
								   ALLOCSET_SMALL_SIZES);

	if (OidIsValid(relid))
	{
		TupleDesc	desc;
		AttrNumber	a_id, a_qid, a_role, a_action, a_rate, a_conc, a_dry,
					a_reason, a_exp, a_rolname;
		TableScanDesc scan;
		TupleTableSlot *slot;

		/* Never wait: DDL holding the table must not stall every query. */
		if (!ConditionalLockRelationOid(relid, AccessShareLock))
		{
			MemoryContextDelete(newcxt);
			return false;
		}
		rel = try_table_open(relid, NoLock);
		if (rel == NULL)
		{
			UnlockRelationOid(relid, AccessShareLock);
			MemoryContextDelete(newcxt);
			return false;
		}

		desc = RelationGetDescr(rel);
		a_id = qr_attnum(desc, "rule_id", INT8OID);
		a_qid = qr_attnum(desc, "queryid", INT8OID);
		a_role = qr_attnum(desc, "role", REGROLEOID);
		a_action = qr_attnum(desc, "action", TEXTOID);
		a_rate = qr_attnum(desc, "per_second", FLOAT8OID);
		a_conc = qr_attnum(desc, "max_concurrent", INT4OID);
		a_dry = qr_attnum(desc, "dry_run", BOOLOID);
		a_reason = qr_attnum(desc, "reason", TEXTOID);
		a_exp = qr_attnum(desc, "expires_at", TIMESTAMPTZOID);
		a_rolname = qr_attnum(desc, "role_name", NAMEOID);	/* 0.3; optional */

		if (rel->rd_rel->relkind == RELKIND_RELATION &&
			a_id && a_qid && a_role && a_action && a_rate && a_conc &&
			a_dry && a_reason && a_exp)
		{
			slot = table_slot_create(rel, NULL);
			scan = table_beginscan(rel, SnapshotSelf, 0, NULL);
			while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
			{
				QrRule		r;
				bool		isnull;
				Datum		d;
				char	   *action;

				nrows++;
				memset(&r, 0, sizeof(r));
				r.shm_idx = -1;

				d = slot_getattr(slot, a_id, &isnull);
				if (isnull)
					continue;
				r.rule_id = DatumGetInt64(d);
				d = slot_getattr(slot, a_qid, &isnull);
				if (isnull)
					continue;
				r.queryid = DatumGetInt64(d);
				d = slot_getattr(slot, a_role, &isnull);
				r.roleid = isnull ? InvalidOid : DatumGetObjectId(d);
				/* role 0 names no role: not a second "every role" rule */
				if (!isnull && !OidIsValid(r.roleid))
					continue;
				if (OidIsValid(r.roleid))
				{
					const char *stored = NULL;

					if (a_rolname)
					{
						d = slot_getattr(slot, a_rolname, &isnull);
						if (!isnull)
							stored = NameStr(*DatumGetName(d));
					}
					r.orphaned = qr_role_orphaned(r.roleid, stored);
				}
				if (OidIsValid(r.roleid))
					role_rules = true;
				d = slot_getattr(slot, a_action, &isnull);
				if (isnull)
					continue;
				action = TextDatumGetCString(d);
				r.block = (strcmp(action, "block") == 0);
				if (!r.block && strcmp(action, "throttle") != 0)
					continue;
				d = slot_getattr(slot, a_rate, &isnull);
				r.per_second = isnull ? 0 : DatumGetFloat8(d);
				if (!(r.per_second > 0 && !isinf(r.per_second)))
					r.per_second = 0;
				else if (r.per_second < QR_MIN_PER_SECOND)
					r.per_second = QR_MIN_PER_SECOND;	/* stored before 0.3 */
				d = slot_getattr(slot, a_conc, &isnull);
				r.max_concurrent = isnull ? 0 : Max(DatumGetInt32(d), 0);
				d = slot_getattr(slot, a_dry, &isnull);
				r.dry_run = isnull ? false : DatumGetBool(d);
				d = slot_getattr(slot, a_exp, &isnull);
				r.expires_at = isnull ? 0 : DatumGetTimestampTz(d);
				d = slot_getattr(slot, a_reason, &isnull);
				r.reason = MemoryContextStrdup(newcxt,
											   isnull ? "" : TextDatumGetCString(d));
				qr_blank_controls(r.reason);

				/* A throttle rule without any limit does nothing. */
				if (!r.block && r.per_second == 0 && r.max_concurrent == 0)
					continue;

				if (nrules >= maxrules)
				{
					maxrules = maxrules ? maxrules * 2 : 8;
					oldcxt = MemoryContextSwitchTo(newcxt);
					rules = rules ? repalloc(rules, maxrules * sizeof(QrRule))
						: palloc(maxrules * sizeof(QrRule));
					MemoryContextSwitchTo(oldcxt);
				}
				rules[nrules++] = r;
			}
			table_endscan(scan);
			ExecDropSingleTupleTableSlot(slot);
		}
		else
			elog(LOG, "pg_hygiene: hygiene.query_rule does not have the expected columns; query rules are ignored");

		table_close(rel, AccessShareLock);
	}

	/* Sorted, so that lookups can bsearch and the hash ignores row order. */
	if (nrules > 1)
		qsort(rules, nrules, sizeof(QrRule), qr_rule_cmp);
	hash = (uint32) nrules;
	for (int i = 0; i < nrules; i++)
	{
		QrRule	   *r = &rules[i];

		hash = hash_combine(hash, hash_bytes((unsigned char *) &r->rule_id, sizeof(int64)));
		hash = hash_combine(hash, hash_bytes((unsigned char *) &r->queryid, sizeof(int64)));
		hash = hash_combine(hash, r->roleid);
		hash = hash_combine(hash, (r->block ? 1 : 0) | (r->dry_run ? 2 : 0) |
							(r->orphaned ? 4 : 0));
		hash = hash_combine(hash, hash_bytes((unsigned char *) &r->per_second, sizeof(double)));
		hash = hash_combine(hash, (uint32) r->max_concurrent);
		hash = hash_combine(hash, hash_bytes((unsigned char *) &r->expires_at, sizeof(TimestampTz)));
		hash = hash_combine(hash, hash_bytes((unsigned char *) r->reason, strlen(r->reason)));
	}

	if (qr_cxt)
		MemoryContextDelete(qr_cxt);
	qr_cxt = newcxt;
	qr_rules = rules;
	qr_nrules = nrules;
	qr_version = version;
	qr_loaded = true;
	qr_force_read = false;
	qr_has_role_rules = role_rules;
	if (qr_db)
	{
		if (OidIsValid(relid))
			qr_db->relid = relid;
		pg_atomic_write_u32(&qr_db->nrules, (uint32) nrows);
		qr_publish_hash(version, hash, nrules, lsn);
	}
	return true;
}

/*
 * Make the cache current: reload when the version moved; reread periodically
 * where the trigger cannot tell us (standby, rules present).  With no rules
 * on a primary this costs two atomic reads.
 */
static void
qr_maybe_refresh(void)
{
	TimestampTz now;

	qr_attach_db();

	if (qr_db == NULL)
	{
		/* No shared slot for this database: every backend checks itself. */
		now = GetCurrentStatementStartTimestamp();
		if (!qr_loaded || now - qr_local_check >= QR_CHECK_INTERVAL_US)
		{
			if (qr_refresh(0))
				qr_local_check = now;
		}
		return;
	}

	{
		uint64		v = pg_atomic_read_u64(&qr_db->version);
		uint64		last;

		if (qr_force_read)
		{
			/*
			 * The table changed (a relcache invalidation sent by the commit
			 * of the change, also replayed on a standby): read it, whatever
			 * the version says.
			 */
			qr_refresh(v);
			return;
		}
		if (!qr_loaded || v != qr_version)
		{
			if (!qr_adopt_empty(v))
				qr_refresh(v);
			return;
		}

		if (pg_atomic_read_u32(&qr_db->nrules) == 0 && !RecoveryInProgress())
			return;

		now = GetCurrentStatementStartTimestamp();
		last = pg_atomic_read_u64(&qr_db->last_check);
		if (now - (TimestampTz) last < QR_CHECK_INTERVAL_US)
			return;
		/*
		 * One backend per database does the periodic read; qr_refresh bumps
		 * the version if the content changed.
		 */
		if (pg_atomic_compare_exchange_u64(&qr_db->last_check, &last, (uint64) now))
			qr_refresh(v);
	}
}

/*
 * Blank out control characters (newlines above all) of a reason stored
 * before 0.3 rejected them: the reason goes into DETAIL lines, where a
 * newline could forge a HINT or CONTEXT line.
 */
static void
qr_blank_controls(char *str)
{
	for (; *str; str++)
	{
		if ((unsigned char) *str < 0x20 || *str == 0x7f)
			*str = ' ';
	}
}

/* The rule that applies to this queryid and user, if any. */
static QrRule *
qr_match(int64 queryid, Oid userid, TimestampTz now)
{
	int			lo = 0;
	int			hi = qr_nrules;
	QrRule	   *global = NULL;

	/* First rule with this queryid. */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (qr_rules[mid].queryid < queryid)
			lo = mid + 1;
		else
			hi = mid;
	}

	/* A rule for the role wins over a rule for every role. */
	for (; lo < qr_nrules && qr_rules[lo].queryid == queryid; lo++)
	{
		QrRule	   *r = &qr_rules[lo];

		if (r->expires_at != 0 && r->expires_at <= now)
			continue;
		if (r->orphaned)
			continue;
		if (r->roleid == userid)
			return r;
		if (!OidIsValid(r->roleid) && global == NULL)
			global = r;
	}
	return global;
}

/*
 * Shared entry of a cached rule, found or created.  NULL when the array is
 * full even after reclaiming entries of this database's removed rules.
 */
static QrEntry *
qr_entry(QrRule *r)
{
	int			free_idx = -1;

	if (r->shm_idx >= 0)
	{
		QrEntry    *e = &qr_shared->entries[r->shm_idx];
		bool		ok;

		SpinLockAcquire(&e->mutex);
		ok = (e->dboid == MyDatabaseId && e->rule_id == r->rule_id);
		SpinLockRelease(&e->mutex);
		if (ok)
			return e;
		r->shm_idx = -1;
	}

	LWLockAcquire(qr_shared->lock, LW_SHARED);
	for (int i = 0; i < qr_shared->nentries; i++)
	{
		QrEntry    *e = &qr_shared->entries[i];

		if (e->dboid == MyDatabaseId && e->rule_id == r->rule_id)
		{
			r->shm_idx = i;
			break;
		}
	}
	LWLockRelease(qr_shared->lock);
	if (r->shm_idx >= 0)
		return &qr_shared->entries[r->shm_idx];

	LWLockAcquire(qr_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < qr_shared->nentries; i++)
	{
		QrEntry    *e = &qr_shared->entries[i];

		if (e->dboid == MyDatabaseId && e->rule_id == r->rule_id)
		{
			r->shm_idx = i;
			break;
		}
		if (free_idx < 0 && e->rule_id == 0)
			free_idx = i;
	}
	if (r->shm_idx < 0 && free_idx < 0)
	{
		/* Full: reclaim idle entries of rules this database no longer has. */
		for (int i = 0; i < qr_shared->nentries && free_idx < 0; i++)
		{
			QrEntry    *e = &qr_shared->entries[i];
			bool		known = false;

			if (e->dboid != MyDatabaseId)
				continue;
			for (int j = 0; j < qr_nrules; j++)
				if (qr_rules[j].rule_id == e->rule_id)
					known = true;
			if (known)
				continue;
			SpinLockAcquire(&e->mutex);
			if (e->active == 0)
			{
				e->rule_id = 0;
				e->dboid = InvalidOid;
				free_idx = i;
			}
			SpinLockRelease(&e->mutex);
		}
	}
	if (r->shm_idx < 0 && free_idx >= 0)
	{
		QrEntry    *e = &qr_shared->entries[free_idx];

		SpinLockAcquire(&e->mutex);
		e->dboid = MyDatabaseId;
		e->rule_id = r->rule_id;
		e->active = 0;
		e->tokens = 0;
		e->refill_at = 0;
		e->matched = e->blocked = e->throttled = e->waited = 0;
		e->dry_run_hits = e->exempted = 0;
		e->last_hit = e->last_logged = 0;
		SpinLockRelease(&e->mutex);
		r->shm_idx = free_idx;
	}
	LWLockRelease(qr_shared->lock);

	if (r->shm_idx < 0)
	{
		if (!qr_warned_full)
			ereport(WARNING,
					(errmsg("pg_hygiene: pg_hygiene.max_query_rules (%d) is too small for the query rules in use", qr_max_rules),
					 errdetail("Query rule " INT64_FORMAT " is enforced without counters, rate limit or concurrency limit.", r->rule_id),
					 errhint("Remove unused rules with hygiene.remove_query_rule() or raise pg_hygiene.max_query_rules and restart.")));
		qr_warned_full = true;
		return NULL;
	}
	return &qr_shared->entries[r->shm_idx];
}

/* What happened to a statement, for the counters. */
typedef enum QrOutcome
{
	QR_MATCHED,
	QR_BLOCKED,
	QR_THROTTLED,
	QR_WAITED,
	QR_DRY_RUN,
	QR_EXEMPTED
} QrOutcome;

/*
 * Count one outcome for a rule.  Returns true when a dry-run hit should be
 * logged (at most once per QR_LOG_INTERVAL_US per rule).
 */
static bool
qr_count(QrRule *r, QrEntry *e, QrOutcome what, TimestampTz now)
{
	bool		log_it = false;

	if (e == NULL)
		return what == QR_DRY_RUN;

	SpinLockAcquire(&e->mutex);
	if (e->dboid == MyDatabaseId && e->rule_id == r->rule_id)
	{
		switch (what)
		{
			case QR_MATCHED:
				e->matched++;
				e->last_hit = now;
				break;
			case QR_BLOCKED:
				e->blocked++;
				break;
			case QR_THROTTLED:
				e->throttled++;
				break;
			case QR_WAITED:
				e->waited++;
				break;
			case QR_DRY_RUN:
				e->dry_run_hits++;
				if (now - e->last_logged >= QR_LOG_INTERVAL_US)
				{
					e->last_logged = now;
					log_it = true;
				}
				break;
			case QR_EXEMPTED:
				e->exempted++;
				break;
		}
	}
	SpinLockRelease(&e->mutex);
	return log_it;
}

/* Give a concurrency slot back and wake the waiters. */
static void
qr_release(QrHeld *h)
{
	QrEntry    *e;

	if (!h->held)
		return;
	h->held = false;
	dlist_delete(&h->node);

	e = &qr_shared->entries[h->idx];
	SpinLockAcquire(&e->mutex);
	if (e->dboid == h->dboid && e->rule_id == h->rule_id && e->active > 0)
		e->active--;
	SpinLockRelease(&e->mutex);
	ConditionVariableBroadcast(&e->cv);
}

/* es_query_cxt reset callback: the statement is over, one way or another. */
static void
qr_held_callback(void *arg)
{
	qr_release((QrHeld *) arg);
}

/* Backend exit: give back every slot still held. */
static void
qr_exit_callback(int code, Datum arg)
{
	while (!dlist_is_empty(&qr_held_list))
	{
		QrHeld	   *h = dlist_head_element(QrHeld, node, &qr_held_list);

		qr_release(h);
	}
}

/*
 * Take a concurrency slot if one is free (or unconditionally, for a dry run,
 * so that the count of running statements stays right).  Returns whether the
 * statement is within the limit.  No ereport between taking and recording.
 */
static bool
qr_try_slot(QrRule *r, QrEntry *e, QrHeld *h, bool force)
{
	bool		within = false;
	bool		gone = false;

	SpinLockAcquire(&e->mutex);
	if (e->dboid != MyDatabaseId || e->rule_id != r->rule_id)
		gone = true;
	else
	{
		within = (e->active < r->max_concurrent);
		if (within || force)
		{
			e->active++;
			h->held = true;
		}
	}
	SpinLockRelease(&e->mutex);

	if (h->held)
		dlist_push_tail(&qr_held_list, &h->node);
	/* A rule removed meanwhile limits nothing. */
	return within || gone;
}

/*
 * Take a rate token.  Returns 0 when admitted now, a positive number of
 * microseconds when a token was reserved and the caller must sleep that long,
 * or a negative number (minus the microseconds until a token is due) when
 * the statement is over the rate and may not wait that long.
 */
static int64
qr_take_token(QrRule *r, QrEntry *e, int64 may_wait_us, bool dry_run)
{
	TimestampTz now = GetCurrentTimestamp();
	double		burst = Max(1.0, r->per_second);
	int64		result = 0;

	SpinLockAcquire(&e->mutex);
	if (e->dboid == MyDatabaseId && e->rule_id == r->rule_id)
	{
		if (e->refill_at == 0)
			e->tokens = burst;
		else if (now > e->refill_at)
			e->tokens = Min(burst, e->tokens +
							(double) (now - e->refill_at) / USECS_PER_SEC * r->per_second);
		else
			e->tokens = Min(burst, e->tokens);
		e->refill_at = Max(now, e->refill_at);

		if (e->tokens >= 1.0)
			e->tokens -= 1.0;
		else
		{
			double		wait = ceil((1.0 - e->tokens) / r->per_second * USECS_PER_SEC);
			int64		due;

			/* per_second >= QR_MIN_PER_SECOND keeps it below a day; be sure */
			wait = Min(wait, (double) USECS_PER_DAY * 2);
			due = Max((int64) wait, 1);
			if (!dry_run && due <= may_wait_us)
			{
				e->tokens -= 1.0;	/* reserve: later arrivals queue behind */
				result = due;
			}
			else
				result = -due;
		}
	}
	SpinLockRelease(&e->mutex);
	return result;
}

/* Can this statement wait without risking an invisible deadlock? */
static bool
qr_can_wait(void)
{
	return HYGIENE_CLIENT_START() &&
		MyBackendType == B_BACKEND &&
		!IsTransactionBlock() &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny());
}

/* Sleep until "until" (interruptible), for a reserved rate token. */
static void
qr_sleep_until(TimestampTz until)
{
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		ms;

		if (now >= until)
			break;
		ms = (long) ((until - now + 999) / 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, hygiene_wait_event(HYGIENE_WE_RULE_TOKEN));
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* "for every role" or "for role x", for messages. */
static char *
qr_role_text(QrRule *r)
{
	char	   *name;

	if (!OidIsValid(r->roleid))
		return pstrdup("every role");
	name = GetUserNameFromId(r->roleid, true);
	return psprintf("role %s", name ? quote_identifier(name) : "(dropped)");
}

/* How to lift a rule, for errhint. */
static char *
qr_lift_text(QrRule *r, int64 queryid)
{
	char	   *lift;

	if (OidIsValid(r->roleid))
	{
		char	   *name = GetUserNameFromId(r->roleid, true);

		lift = psprintf("SELECT hygiene.remove_query_rule(" INT64_FORMAT ", %s)",
						queryid, quote_literal_cstr(name ? name : ""));
	}
	else
		lift = psprintf("SELECT hygiene.remove_query_rule(" INT64_FORMAT ")", queryid);
	/* rules are changed on the primary; a standby follows within a second */
	if (RecoveryInProgress())
		lift = psprintf("%s on the primary", lift);
	if (r->expires_at != 0)
	{
		/* to the second, rounded up: the rule still holds at the time shown */
		TimestampTz at = r->expires_at;
		int64		frac = at % USECS_PER_SEC;

		if (frac > 0)
			at += USECS_PER_SEC - frac;
		else if (frac < 0)
			at -= frac;
		return psprintf("The rule expires at %s; a DBA can lift it sooner with %s.",
						timestamptz_to_str(at), lift);
	}
	return psprintf("A DBA can lift the rule with %s.", lift);
}

/* Apply the matched rule to this statement: count, block, throttle or log. */
static void
qr_apply(QrRule *r, QueryDesc *queryDesc, TimestampTz now)
{
	int64		queryid = queryDesc->plannedstmt->queryId;
	QrEntry    *e = qr_entry(r);
	bool		can_wait;
	TimestampTz deadline;
	bool		waited = false;
	bool		dry_hit = false;
	const char *dry_what = NULL;

	qr_count(r, e, QR_MATCHED, now);

	/*
	 * Exempt: superusers (if so set), processes other than client backends,
	 * and work run at COMMIT or PREPARE TRANSACTION (deferred triggers and
	 * foreign-key checks run outside any portal, not while planning): COMMIT
	 * is never refused.
	 */
	if ((qr_exempt_superuser && superuser_arg(GetSessionUserId())) ||
		MyBackendType != B_BACKEND ||
		HYGIENE_COMMIT_WORK())
	{
		qr_count(r, e, QR_EXEMPTED, now);
		hygiene_debug_notice("pg_hygiene: query rule " INT64_FORMAT " exempts this statement", r->rule_id);
		return;
	}

	if (r->block)
	{
		if (r->dry_run)
		{
			dry_hit = true;
			dry_what = "blocked this statement";
		}
		else
		{
			qr_count(r, e, QR_BLOCKED, now);
			log_rate_reject(ERRCODE_HYGIENE_QUERY_BLOCKED, (uint64) r->rule_id,
							psprintf("query rule " INT64_FORMAT, r->rule_id));
			ereport(ERROR,
					(errcode(ERRCODE_HYGIENE_QUERY_BLOCKED),
					 errmsg("pg_hygiene: statement blocked by a query rule"),
					 errdetail("Query rule " INT64_FORMAT " blocks queryid " INT64_FORMAT " for %s (reason: %s).",
							   r->rule_id, queryid, qr_role_text(r), r->reason),
					 errhint("%s", qr_lift_text(r, queryid))));
		}
	}
	else if (e != NULL)
	{
		can_wait = !r->dry_run && qr_can_wait();
		deadline = GetCurrentTimestamp() +
			(can_wait ? (int64) qr_wait_timeout * 1000 : 0);

		if (r->per_second > 0)
		{
			int64		t = qr_take_token(r, e, deadline - GetCurrentTimestamp(), r->dry_run);

			if (t < 0 && r->dry_run)
			{
				dry_hit = true;
				dry_what = "throttled this statement (rate)";
			}
			else if (t < 0)
			{
				qr_count(r, e, QR_THROTTLED, now);
				log_rate_reject(ERRCODE_HYGIENE_QUERY_RATE, (uint64) r->rule_id,
								psprintf("query rule " INT64_FORMAT, r->rule_id));
				ereport(ERROR,
						(errcode(ERRCODE_HYGIENE_QUERY_RATE),
						 errmsg("pg_hygiene: statement throttled by a query rule"),
						 errdetail_plural("Query rule " INT64_FORMAT " allows %g statement per second with queryid " INT64_FORMAT " for %s (reason: %s).%s",
										  "Query rule " INT64_FORMAT " allows %g statements per second with queryid " INT64_FORMAT " for %s (reason: %s).%s",
										  r->per_second == 1.0 ? 1 : 2,
										  r->rule_id, r->per_second, queryid, qr_role_text(r), r->reason,
										  can_wait ? "" : " It could not wait: it runs inside a transaction block, a function or another statement, or its transaction has written."),
						 errhint("Retry after %d ms. %s",
								 (int) ((-t + 999) / 1000), qr_lift_text(r, queryid))));
			}
			else if (t > 0)
			{
				TimestampTz until = GetCurrentTimestamp() + t;

				hygiene_debug_notice("pg_hygiene: query rule " INT64_FORMAT " delays this statement", r->rule_id);
				hygiene_wait_begin(HYGIENE_WAIT_RULE_TOKEN, until, r->rule_id, queryid);
				qr_sleep_until(until);
				hygiene_wait_end();
				waited = true;
			}
		}

		if (r->max_concurrent > 0)
		{
			QrHeld	   *h;

			h = MemoryContextAllocZero(queryDesc->estate->es_query_cxt, sizeof(QrHeld));
			h->idx = r->shm_idx;
			h->dboid = MyDatabaseId;
			h->rule_id = r->rule_id;
			h->cb.func = qr_held_callback;
			h->cb.arg = h;
			MemoryContextRegisterResetCallback(queryDesc->estate->es_query_cxt, &h->cb);
			if (!qr_exit_registered)
			{
				before_shmem_exit(qr_exit_callback, (Datum) 0);
				qr_exit_registered = true;
			}

			if (!qr_try_slot(r, e, h, r->dry_run))
			{
				bool		got = false;

				if (r->dry_run)
				{
					dry_hit = true;
					dry_what = "throttled this statement (concurrency)";
					got = true;
				}
				else if (can_wait)
				{
					hygiene_debug_notice("pg_hygiene: query rule " INT64_FORMAT " queues this statement", r->rule_id);
					hygiene_wait_begin(HYGIENE_WAIT_RULE_SLOT, deadline, r->rule_id, queryid);
					ConditionVariablePrepareToSleep(&e->cv);
					for (;;)
					{
						long		ms;

						if (qr_try_slot(r, e, h, false))
						{
							got = true;
							break;
						}
						ms = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
						if (ms <= 0)
							break;
						(void) ConditionVariableTimedSleep(&e->cv, ms,
														   hygiene_wait_event(HYGIENE_WE_RULE_SLOT));
					}
					ConditionVariableCancelSleep();
					hygiene_wait_end();
					waited = got;
				}
				if (!got)
				{
					qr_count(r, e, QR_THROTTLED, now);
					log_rate_reject(ERRCODE_HYGIENE_QUERY_CONCURRENCY, (uint64) r->rule_id,
									psprintf("query rule " INT64_FORMAT, r->rule_id));
					ereport(ERROR,
							(errcode(ERRCODE_HYGIENE_QUERY_CONCURRENCY),
							 errmsg("pg_hygiene: statement throttled by a query rule"),
							 errdetail_plural("Query rule " INT64_FORMAT " allows %d running statement with queryid " INT64_FORMAT " for %s, and one is already running (reason: %s).%s",
											  "Query rule " INT64_FORMAT " allows %d running statements with queryid " INT64_FORMAT " for %s, and that many are already running (reason: %s).%s",
											  r->max_concurrent,
											  r->rule_id, r->max_concurrent, queryid, qr_role_text(r), r->reason,
											  can_wait ? "" : " It could not wait: it runs inside a transaction block, a function or another statement, or its transaction has written."),
							 can_wait ?
							 errhint("Retry when a running statement has finished; this one waited %d ms (pg_hygiene.query_rule_wait_timeout). %s",
									 qr_wait_timeout, qr_lift_text(r, queryid)) :
							 errhint("Retry when a running statement has finished. %s",
									 qr_lift_text(r, queryid))));
				}
			}
		}
		if (waited)
			qr_count(r, e, QR_WAITED, now);
	}

	if (dry_hit && qr_count(r, e, QR_DRY_RUN, now))
		ereport(LOG,
				(errmsg("pg_hygiene: a query rule in dry run would have %s",
						dry_what),
				 errdetail("Query rule " INT64_FORMAT " for queryid " INT64_FORMAT " and %s (reason: %s). Further hits within a second are counted, not logged.",
						   r->rule_id, queryid, qr_role_text(r), r->reason)));
}

/*
 * Query ids cost a jumble of every statement (about 2,400 instructions for a
 * primary-key SELECT, 2% of it), so this backend asks core to compute them
 * only once its database has a rule, unless compute_query_id = on or another
 * module (pg_stat_statements) has asked already.  Plans cached before that
 * carry no query id: invalidating them makes their next use analyse the
 * statement again, now with its id.
 */
static void
qr_enable_query_ids(void)
{
	if (qr_ids_enabled)
		return;
	qr_ids_enabled = true;
	EnableQueryId();
	if (IsQueryIdEnabled())
		ResetPlanCache();
}

/*
 * post_parse_analyze hook: while this backend computes no query ids, see
 * whether its database has rules now, and if so compute the id of this
 * statement and of all later ones.  Costs two atomic reads while there are
 * no rules.
 */
static void
qr_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);

	if (qr_ids_enabled || query->queryId != UINT64CONST(0) ||
		query->commandType == CMD_UTILITY || qr_shared == NULL ||
		!HYGIENE_ACTIVE() || !IsTransactionState() ||
		IsAbortedTransactionBlockState())
		return;
	qr_maybe_refresh();
	if (qr_nrules == 0)
		return;
	qr_enable_query_ids();
	if (IsQueryIdEnabled())
		(void) hygiene_jumble_query(query, pstate->p_sourcetext);
}

/* ExecutorStart hook: enforce the query rule that matches the statement. */
static void
qr_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	/*
	 * The lossy record of seen ids, for the rule functions' warning: also
	 * EXPLAIN, which is how a DBA finds an id.
	 */
	hygiene_queryid_note(queryDesc->plannedstmt->queryId);

	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		qr_shared != NULL && HYGIENE_ACTIVE())
	{
		QrRule	   *r;
		TimestampTz now;

		qr_maybe_refresh();
		if (qr_nrules == 0)
			return;
		if (queryDesc->plannedstmt->queryId == UINT64CONST(0))
		{
			/*
			 * A plan cached before this backend computed query ids: from its
			 * next use on, it will have one.
			 */
			qr_enable_query_ids();
			return;
		}
		now = GetCurrentStatementStartTimestamp();
		/*
		 * Rules match the session user, as the per-role limits do (finding
		 * O15): the login role whose ALTER ROLE settings the session runs
		 * with, which SET ROLE and SECURITY DEFINER functions do not change.
		 */
		r = qr_match((int64) queryDesc->plannedstmt->queryId, GetSessionUserId(), now);
		if (r != NULL)
			qr_apply(r, queryDesc, now);
	}
}

/*
 * ProcessUtility hook: DROP ROLE of a role that has query rules in this
 * database warns that they no longer apply (finding O20; they are flagged
 * orphaned in hygiene.query_rules and match no one).  Counted from the
 * session's cache, before the drop (the OIDs are gone after it); warned
 * after it succeeded.
 */
static void
qr_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	List	   *names = NIL;
	List	   *counts = NIL;

	if (IsA(pstmt->utilityStmt, DropRoleStmt) && qr_shared != NULL &&
		HYGIENE_ACTIVE() && IsTransactionState())
	{
		ListCell   *lc;

		qr_maybe_refresh();
		foreach(lc, ((DropRoleStmt *) pstmt->utilityStmt)->roles)
		{
			RoleSpec   *rs = lfirst_node(RoleSpec, lc);
			Oid			roleid;
			int			n = 0;

			if (rs->roletype != ROLESPEC_CSTRING)
				continue;
			roleid = get_role_oid(rs->rolename, true);
			if (!OidIsValid(roleid))
				continue;
			for (int i = 0; i < qr_nrules; i++)
				if (qr_rules[i].roleid == roleid && !qr_rules[i].orphaned)
					n++;
			if (n > 0)
			{
				names = lappend(names, pstrdup(rs->rolename));
				counts = lappend_int(counts, n);
			}
		}
	}

	hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
								readOnlyTree, context, params, queryEnv,
								dest, qc);

	for (int i = 0; i < list_length(names); i++)
		ereport(WARNING,
				(errmsg_plural("pg_hygiene: role \"%s\" had %d query rule in this database; it no longer applies",
							   "pg_hygiene: role \"%s\" had %d query rules in this database; they no longer apply",
							   list_nth_int(counts, i),
							   (char *) list_nth(names, i), list_nth_int(counts, i)),
				 errdetail("Rules of a dropped role match no one; hygiene.query_rules lists them with orphaned = true. Other databases are not counted."),
				 errhint("Remove them with SELECT hygiene.purge_orphaned_query_rules(); in each database that has them.")));
}

/* Transaction end: publish committed rule changes to every session. */
static void
qr_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (qr_changed_in_xact && qr_shared != NULL && qr_attach_db() != NULL)
				pg_atomic_fetch_add_u64(&qr_db->version, 1);
			qr_changed_in_xact = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			qr_changed_in_xact = false;
			break;
		default:
			break;
	}
}

/* Define GUCs and install hooks; called from _PG_init. */
void
query_rules_init(void)
{
	DefineCustomIntVariable("pg_hygiene.query_rule_wait_timeout",
							"Longest time a statement waits for a throttling query rule.",
							"A throttled statement that may wait safely (top level, no transaction "
							"block, no xid) waits up to this long for a rate token or a "
							"concurrency slot, then fails; 0 rejects at once.",
							&qr_wait_timeout,
							1000, 0, 3600 * 1000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("pg_hygiene.query_rules_exempt_superuser",
							 "Exempts superusers from query rules.",
							 "Exempt statements are counted in hygiene.query_rules but never "
							 "blocked or throttled.",
							 &qr_exempt_superuser,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pg_hygiene.max_query_rules",
							"Query rules (of all databases) that have counters and limits in shared memory.",
							NULL,
							&qr_max_rules,
							1000, 16, 100000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	/*
	 * Rules are keyed by queryid; core computes it once a backend calls
	 * EnableQueryId(), which qr_enable_query_ids() does when the database
	 * has a rule.
	 */
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = qr_post_parse_analyze;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = qr_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = qr_shmem_startup;

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = qr_ExecutorStart;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = qr_ProcessUtility;

	query_id_init();

	RegisterXactCallback(qr_xact_callback, NULL);
	CacheRegisterRelcacheCallback(qr_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, qr_authid_callback, (Datum) 0);
}

/*
 * hygiene._query_rules_changed(): statement trigger on hygiene.query_rule;
 * the version is bumped when the transaction commits.
 */
Datum
hygiene_query_rules_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pg_hygiene: hygiene._query_rules_changed() must be called as a trigger")));
	qr_changed_in_xact = true;

	/*
	 * A relcache invalidation of the table reaches every backend of the
	 * database at its next transaction after the commit, and it is part of
	 * the commit's WAL record, so a hot standby's backends get it as soon as
	 * the commit is replayed (the version counter cannot do that there).
	 */
	CacheInvalidateRelcache(((TriggerData *) fcinfo->context)->tg_relation);
	PG_RETURN_POINTER(NULL);
}

/*
 * pg_authid changed (a role was created, dropped or renamed, here or on the
 * primary): rules for one role are checked again at the next statement.  No
 * lookups here.
 */
static void
qr_authid_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	if (qr_has_role_rules)
		qr_force_read = true;
}

/*
 * Relcache invalidation: when it names hygiene.query_rule (or every
 * relation), the next statement rereads the rules.  No lookups here.
 */
static void
qr_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) ||
		(qr_db != NULL && OidIsValid(qr_db->relid) && relid == qr_db->relid))
		qr_force_read = true;
}

/*
 * The extension's members may have changed in this transaction (CREATE, ALTER
 * or DROP EXTENSION; called by extension_objects.c): every session of the
 * database rereads the rules when it commits, this one at once.
 */
void
query_rules_extension_changed(void)
{
	qr_changed_in_xact = true;
	qr_loaded = false;
}

/*
 * hygiene.reload_query_rules(): make every session of this database reread
 * the rules now (after changes the trigger could not see).
 */
Datum
hygiene_reload_query_rules(PG_FUNCTION_ARGS)
{
	if (qr_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene: shared memory is not attached"),
				 errhint("Add pg_hygiene to shared_preload_libraries and restart the server.")));
	if (qr_attach_db() != NULL)
	{
		pg_atomic_fetch_add_u64(&qr_db->version, 1);
		pg_atomic_write_u64(&qr_db->last_check, 0);
	}
	qr_changed_in_xact = true;
	qr_loaded = false;
	PG_RETURN_VOID();
}

/*
 * hygiene._query_rule_stats(): the shared counters of this database's rules,
 * for the hygiene.query_rules view.
 */
Datum
hygiene_query_rule_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (qr_shared == NULL)
		PG_RETURN_VOID();

	LWLockAcquire(qr_shared->lock, LW_SHARED);
	for (int i = 0; i < qr_shared->nentries; i++)
	{
		QrEntry    *e = &qr_shared->entries[i];
		QrEntry		c;
		Datum		values[9];
		bool		nulls[9] = {false};
		bool		mine;

		SpinLockAcquire(&e->mutex);
		mine = (e->rule_id != 0 && e->dboid == MyDatabaseId);
		if (mine)
			memcpy(&c, e, sizeof(QrEntry));
		SpinLockRelease(&e->mutex);
		if (!mine)
			continue;

		values[0] = Int64GetDatum(c.rule_id);
		values[1] = Int64GetDatum((int64) c.matched);
		values[2] = Int64GetDatum((int64) c.blocked);
		values[3] = Int64GetDatum((int64) c.throttled);
		values[4] = Int64GetDatum((int64) c.waited);
		values[5] = Int64GetDatum((int64) c.dry_run_hits);
		values[6] = Int64GetDatum((int64) c.exempted);
		values[7] = Int32GetDatum(c.active);
		if (c.last_hit != 0)
			values[8] = TimestampTzGetDatum(c.last_hit);
		else
			nulls[8] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(qr_shared->lock);

	PG_RETURN_VOID();
}
