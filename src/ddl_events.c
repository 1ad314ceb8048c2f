/*-------------------------------------------------------------------------
 *
 * ddl_events.c
 *		The DDL guard's record of every warning, block and override: a
 *		bounded ring in shared memory, read through hygiene.ddl_events.
 *
 * The ring holds pg_hygiene.ddl_events_max entries (a restart clears it;
 * the server log keeps the permanent record, since every event is also
 * logged).  Writers take the ring's LWLock exclusively for the memcpy of one
 * entry; readers take it shared and copy the entries out before building the
 * result.  Nothing that can ereport runs while the lock is held.  Recording
 * is not transactional on purpose: a block is recorded although the
 * statement's transaction aborts.
 *
 * Other roles' statement texts are shown only to roles with the privileges
 * of pg_read_all_stats, as in pg_stat_activity.
 *
 * IDENTIFICATION
 *	  src/ddl_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pg_hygiene.h"
#include "ddl_guard.h"

#define DDL_EVENT_TEXT_LEN 1024	/* bytes of statement text kept per event */
#define DDL_EVENT_WHAT_LEN 256	/* bytes of the short description */
#define DDL_EVENT_REL_LEN (2 * NAMEDATALEN + 6)

typedef struct DdlEvent
{
	uint64		id;				/* 1, 2, ...; 0 = slot unused */
	TimestampTz at;
	Oid			roleid;
	int			pid;
	int16		rule;
	int16		action;
	int64		size;
	char		rolename[NAMEDATALEN];
	Oid			dbid;			/* database of the event (S5: who may see it) */
	char		dbname[NAMEDATALEN];
	char		relname[DDL_EVENT_REL_LEN];
	char		what[DDL_EVENT_WHAT_LEN];
	char		statement[DDL_EVENT_TEXT_LEN];
} DdlEvent;

typedef struct DdlEventsShared
{
	LWLock	   *lock;
	uint64		next_id;		/* id of the next event; slot = id % capacity */
	int			capacity;
	DdlEvent	events[FLEXIBLE_ARRAY_MEMBER];
} DdlEventsShared;

static DdlEventsShared *ddl_events = NULL;
static int	ddl_events_max = 1000;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static const char *const ddl_action_names[] = {"warn", "block", "allow", "override"};

PG_FUNCTION_INFO_V1(hygiene_ddl_events);
PG_FUNCTION_INFO_V1(hygiene_ddl_events_reset);

/* Bytes of shared memory for the ring. */
static Size
ddl_events_shmem_size(void)
{
	return add_size(offsetof(DdlEventsShared, events),
					mul_size(sizeof(DdlEvent), ddl_events_max));
}

/* Ask the postmaster for the ring and its lock. */
static void
ddl_events_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(MAXALIGN(ddl_events_shmem_size()));
	RequestNamedLWLockTranche("pg_hygiene_ddl_events", 1);
}

/* Attach to (and on first attach, initialise) the ring. */
static void
ddl_events_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ddl_events = ShmemInitStruct("pg_hygiene ddl_events", ddl_events_shmem_size(), &found);
	if (!found)
	{
		memset(ddl_events, 0, ddl_events_shmem_size());
		ddl_events->lock = &(GetNamedLWLockTranche("pg_hygiene_ddl_events"))->lock;
		ddl_events->next_id = 1;
		ddl_events->capacity = ddl_events_max;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Define the ring's size GUC and install the shared memory hooks. */
void
ddl_events_init(void)
{
	DefineCustomIntVariable("pg_hygiene.ddl_events_max",
							"Number of DDL guard events kept in shared memory.",
							"The oldest event is overwritten when the ring is full; every event is also written to the server log.",
							&ddl_events_max,
							1000,
							10,
							100000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ddl_events_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ddl_events_shmem_startup;
}

/* Copy src into a fixed buffer, clipped at a character boundary. */
static void
ddl_copy_clipped(char *dst, int dstlen, const char *src)
{
	int			len;

	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	len = strlen(src);
	if (len >= dstlen)
		len = pg_mbcliplen(src, len, dstlen - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Record one event in the ring.  The entry is built outside the lock (role
 * and database names need catalog lookups), then copied in under it.
 */
void
ddl_events_record(DdlAction action, DdlRule rule, const char *relname,
				  int64 size, const char *statement, const char *what)
{
	DdlEvent	ev;
	char	   *name;
	uint64		id;

	if (ddl_events == NULL)
		return;

	memset(&ev, 0, sizeof(ev));
	ev.at = GetCurrentTimestamp();
	ev.roleid = GetUserId();
	ev.pid = MyProcPid;
	ev.rule = (int16) rule;
	ev.action = (int16) action;
	ev.size = size;
	name = GetUserNameFromId(ev.roleid, true);
	ddl_copy_clipped(ev.rolename, NAMEDATALEN, name);
	ev.dbid = MyDatabaseId;
	name = OidIsValid(MyDatabaseId) ? get_database_name(MyDatabaseId) : NULL;
	ddl_copy_clipped(ev.dbname, NAMEDATALEN, name);
	ddl_copy_clipped(ev.relname, DDL_EVENT_REL_LEN, relname);
	ddl_copy_clipped(ev.what, DDL_EVENT_WHAT_LEN, what);
	ddl_copy_clipped(ev.statement, DDL_EVENT_TEXT_LEN, statement);

	LWLockAcquire(ddl_events->lock, LW_EXCLUSIVE);
	id = ddl_events->next_id++;
	ev.id = id;
	memcpy(&ddl_events->events[id % ddl_events->capacity], &ev, sizeof(ev));
	LWLockRelease(ddl_events->lock);
}

/*
 * hygiene._ddl_events(): the ring, oldest first, for the hygiene.ddl_events
 * view.
 */
Datum
hygiene_ddl_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DdlEvent   *copy;
	int			n = 0;
	uint64		first,
				last,
				id;
	bool		see_all;

	InitMaterializedSRF(fcinfo, 0);

	if (ddl_events == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene: shared memory is not attached"),
				 errhint("Add pg_hygiene to shared_preload_libraries and restart the server.")));

	see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	/* Copy out under the lock, build tuples after releasing it. */
	copy = palloc(sizeof(DdlEvent) * ddl_events->capacity);
	LWLockAcquire(ddl_events->lock, LW_SHARED);
	last = ddl_events->next_id;
	first = (last > (uint64) ddl_events->capacity) ? last - ddl_events->capacity : 1;
	for (id = first; id < last; id++)
		memcpy(&copy[n++], &ddl_events->events[id % ddl_events->capacity], sizeof(DdlEvent));
	LWLockRelease(ddl_events->lock);

	for (int i = 0; i < n; i++)
	{
		DdlEvent   *ev = &copy[i];
		Datum		values[11];
		bool		nulls[11] = {false};

		if (ev->id == 0)
			continue;			/* cleared by ddl_events_reset */
		/* Other databases' events are for monitoring roles only (S5). */
		if (!see_all && ev->dbid != MyDatabaseId)
			continue;
		values[0] = Int64GetDatum((int64) ev->id);
		values[1] = TimestampTzGetDatum(ev->at);
		values[2] = CStringGetTextDatum(ddl_action_names[ev->action]);
		values[3] = CStringGetTextDatum(ddl_rule_names[ev->rule]);
		values[4] = CStringGetTextDatum(ev->rolename);
		values[5] = CStringGetTextDatum(ev->dbname);
		values[6] = Int32GetDatum(ev->pid);
		if (ev->relname[0])
			values[7] = CStringGetTextDatum(ev->relname);
		else
			nulls[7] = true;
		if (ev->size >= 0)
			values[8] = Int64GetDatum(ev->size);
		else
			nulls[8] = true;
		values[9] = CStringGetTextDatum(ev->what);
		if (see_all || has_privs_of_role(GetUserId(), ev->roleid))
			values[10] = CStringGetTextDatum(ev->statement);
		else
			values[10] = CStringGetTextDatum("<insufficient privilege>");

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	return (Datum) 0;
}

/* hygiene.ddl_events_reset(): forget every event; returns how many. */
Datum
hygiene_ddl_events_reset(PG_FUNCTION_ARGS)
{
	int64		cleared = 0;

	if (ddl_events == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene: shared memory is not attached")));

	LWLockAcquire(ddl_events->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ddl_events->capacity; i++)
	{
		if (ddl_events->events[i].id != 0)
			cleared++;
		ddl_events->events[i].id = 0;
	}
	LWLockRelease(ddl_events->lock);

	PG_RETURN_INT64(cleared);
}
