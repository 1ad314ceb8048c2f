/*-------------------------------------------------------------------------
 *
 * waits.c
 *		Who is waiting or throttled by pg_hygiene right now: one entry per
 *		backend in shared memory, read by hygiene.waiting (finding O32).
 *
 * A backend that starts to wait for a role or instance slot, a rate token,
 * its role's write budget, or a query rule's token or slot, writes what it
 * waits for into its own entry (indexed by pgprocno, so the array has a fixed
 * size chosen at start: one entry per PGPROC) and clears it when the wait
 * ends.  Only waits write here, never the common path: a statement that does
 * not wait costs nothing.  Each entry has a spinlock, held for a few stores
 * or a copy.
 *
 * Cleanup: the entry must never outlive the wait.  The callers clear it when
 * the wait ends normally; an error or cancel during the wait ends the
 * (sub)transaction, and the abort callbacks registered in waits_init, before
 * any entry can be set, clear it; a before_shmem_exit callback, registered
 * before the first entry is set, clears it at backend exit.
 *
 * Visibility: roles with the privileges of pg_read_all_stats see every row;
 * other roles (if a DBA grants them the view) see only the rows of the roles
 * whose privileges they have, as pg_stat_activity hides other roles' queries.
 *
 * IDENTIFICATION
 *	  src/waits.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "pg_hygiene.h"
#include "limits_common.h"
#include "waits.h"

/* One backend's wait. */
typedef struct HwEntry
{
	slock_t		mutex;			/* protects everything below */
	int			kind;			/* HygieneWaitKind; NONE = not waiting */
	int			pid;
	Oid			roleid;			/* session user */
	Oid			dbid;
	TimestampTz since;
	TimestampTz until;			/* 0: unknown */
	int64		rule_id;		/* 0: not a query rule's wait */
	int64		queryid;
} HwEntry;

typedef struct HwShared
{
	int			nentries;
	HwEntry		entries[FLEXIBLE_ARRAY_MEMBER];
} HwShared;

static HwShared *hw_shared = NULL;
static bool hw_set = false;		/* our entry is set */
static bool hw_exit_registered = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_waiting);

/* Entries: one per PGPROC (backends use theirs; others never wait here). */
static int
hw_count(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

static Size
hw_shmem_size(void)
{
	return add_size(offsetof(HwShared, entries),
					mul_size(hw_count(), sizeof(HwEntry)));
}

static void
hw_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(hw_shmem_size()));
}

static void
hw_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	hw_shared = ShmemInitStruct("pg_hygiene waits", hw_shmem_size(), &found);
	if (!found)
	{
		memset(hw_shared, 0, hw_shmem_size());
		hw_shared->nentries = hw_count();
		for (int i = 0; i < hw_shared->nentries; i++)
			SpinLockInit(&hw_shared->entries[i].mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* This backend's entry, or NULL. */
static HwEntry *
hw_my_entry(void)
{
	int			i;

	if (hw_shared == NULL || MyProc == NULL)
		return NULL;
	i = HYGIENE_MY_PROC_NUMBER;
	if (i < 0 || i >= hw_shared->nentries)
		return NULL;
	return &hw_shared->entries[i];
}

/* Clear our entry (idempotent; safe in abort and exit callbacks). */
void
hygiene_wait_end(void)
{
	HwEntry    *e;

	if (!hw_set)
		return;
	e = hw_my_entry();
	if (e != NULL)
	{
		SpinLockAcquire(&e->mutex);
		e->kind = HYGIENE_WAIT_NONE;
		SpinLockRelease(&e->mutex);
	}
	hw_set = false;
}

static void
hw_exit_callback(int code, Datum arg)
{
	hygiene_wait_end();
}

static void
hw_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		hygiene_wait_end();
}

static void
hw_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		hygiene_wait_end();
}

/*
 * The backend starts to wait.  "until" is when the wait ends at the latest
 * (the end of a sleep, or the queue timeout), 0 if unknown; rule_id and
 * queryid name the query rule of a rule's wait (else 0).
 */
void
hygiene_wait_begin(HygieneWaitKind kind, TimestampTz until, int64 rule_id,
				   int64 queryid)
{
	HwEntry    *e = hw_my_entry();

	if (e == NULL)
		return;
	/* cleanup first, so that an error later leaves nothing set */
	if (!hw_exit_registered)
	{
		before_shmem_exit(hw_exit_callback, (Datum) 0);
		hw_exit_registered = true;
	}
	hw_set = true;
	SpinLockAcquire(&e->mutex);
	e->kind = kind;
	e->pid = MyProcPid;
	e->roleid = GetSessionUserId();
	e->dbid = MyDatabaseId;
	e->since = GetCurrentTimestamp();
	e->until = until;
	e->rule_id = rule_id;
	e->queryid = queryid;
	SpinLockRelease(&e->mutex);
}

/* The same wait now waits for something else (a slot of another cap). */
void
hygiene_wait_set_kind(HygieneWaitKind kind)
{
	HwEntry    *e = hw_my_entry();

	if (e == NULL || !hw_set)
		return;
	SpinLockAcquire(&e->mutex);
	e->kind = kind;
	SpinLockRelease(&e->mutex);
}

/* Install the hooks and callbacks; called from _PG_init. */
void
waits_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = hw_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = hw_shmem_startup;
	RegisterXactCallback(hw_xact_callback, NULL);
	RegisterSubXactCallback(hw_subxact_callback, NULL);
}

static const char *
hw_kind_name(int kind)
{
	switch (kind)
	{
		case HYGIENE_WAIT_ROLE_SLOT:
			return "role_slot";
		case HYGIENE_WAIT_INSTANCE_SLOT:
			return "instance_slot";
		case HYGIENE_WAIT_RATE_TOKEN:
			return "rate_token";
		case HYGIENE_WAIT_WAL_BUDGET:
			return "wal_budget";
		case HYGIENE_WAIT_RULE_TOKEN:
			return "rule_token";
		case HYGIENE_WAIT_RULE_SLOT:
			return "rule_slot";
	}
	return NULL;
}

static const char *
hw_limit_name(int kind)
{
	switch (kind)
	{
		case HYGIENE_WAIT_ROLE_SLOT:
			return "pg_hygiene.max_active_statements";
		case HYGIENE_WAIT_INSTANCE_SLOT:
			return "pg_hygiene.max_active_total";
		case HYGIENE_WAIT_RATE_TOKEN:
			return "pg_hygiene.max_statements_per_second";
		case HYGIENE_WAIT_WAL_BUDGET:
			return "pg_hygiene.max_wal_bytes_per_second";
		case HYGIENE_WAIT_RULE_TOKEN:
			return "per_second";
		case HYGIENE_WAIT_RULE_SLOT:
			return "max_concurrent";
	}
	return NULL;
}

/*
 * hygiene._waiting(): one row per backend waiting or throttled by pg_hygiene
 * now (see hygiene.waiting).  Entries are copied under their spinlocks, then
 * names are looked up.
 */
Datum
hygiene_waiting(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all;
	TimestampTz now = GetCurrentTimestamp();

	InitMaterializedSRF(fcinfo, 0);
	if (hw_shared == NULL)
		return (Datum) 0;
	all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	for (int i = 0; i < hw_shared->nentries; i++)
	{
		HwEntry    *e = &hw_shared->entries[i];
		HwEntry		c;
		Datum		values[11];
		bool		nulls[11] = {false};
		char	   *s;

		SpinLockAcquire(&e->mutex);
		c = *e;
		SpinLockRelease(&e->mutex);
		if (c.kind == HYGIENE_WAIT_NONE)
			continue;
		if (!all && !has_privs_of_role(GetUserId(), c.roleid))
			continue;

		values[0] = Int32GetDatum(c.pid);
		s = GetUserNameFromId(c.roleid, true);
		if (s)
			values[1] = DirectFunctionCall1(namein, CStringGetDatum(s));
		else
			nulls[1] = true;
		s = OidIsValid(c.dbid) ? get_database_name(c.dbid) : NULL;
		if (s)
			values[2] = DirectFunctionCall1(namein, CStringGetDatum(s));
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(hw_kind_name(c.kind));
		values[4] = CStringGetTextDatum(hw_limit_name(c.kind));
		if (c.rule_id != 0)
		{
			values[5] = Int64GetDatum(c.rule_id);
			values[6] = Int64GetDatum(c.queryid);
		}
		else
			nulls[5] = nulls[6] = true;
		values[7] = TimestampTzGetDatum(c.since);
		values[8] = Float8GetDatum((double) Max(now - c.since, 0) / USECS_PER_SEC);
		if (c.until != 0)
			values[9] = TimestampTzGetDatum(c.until);
		else
			nulls[9] = true;
		/* the share of the budget in force now (pg_hygiene.wal_budget_replay_lag) */
		if (c.kind == HYGIENE_WAIT_WAL_BUDGET)
			values[10] = Float8GetDatum(lim_wal_budget_scale(now));
		else
			nulls[10] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
