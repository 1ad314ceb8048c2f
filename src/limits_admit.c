/*-------------------------------------------------------------------------
 *
 * limits_admit.c
 *		Admission control for per-role limits: the shared per-role table,
 *		the instance-wide count, the priority-ordered queue, the token bucket,
 *		slot release on every exit path, and the statistics functions.
 *
 * A counted statement's slot lives exactly as long as its executor state: it
 * is released by a reset callback on es_query_cxt (success, error, cancel and
 * portal drop alike) and by a before_shmem_exit callback when the backend
 * exits.  A backend that already holds a slot (several open portals) does not
 * take a second one, so it can never wait for itself.
 *
 * Waiting is safe only when the backend holds no xid and no lock except the
 * current statement's own relation locks: limits.c tracks whether an earlier
 * statement of the transaction ran (lim_xact_dirty); otherwise the statement
 * is admitted or rejected at once.  Waits are bounded by
 * pg_hygiene.queue_timeout, interruptible, and visible in pg_stat_activity as
 * wait event Extension.  A queued statement ranks by priority class, then
 * arrival; when a slot it competes for is released and it ranks first among
 * those that could take it, it is woken through its latch; it re-checks
 * every 100 ms regardless.
 *
 * A queued statement still holds its relation locks, and a slot holder may
 * wait for one of them (say, a function that runs DDL): a deadlock that
 * PostgreSQL's detector cannot see, since one half of it is a wait for a
 * slot.  Once per deadlock_timeout of queueing, a queued statement asks
 * the lock table whether a backend waits for a lock it holds;
 * if so, it is admitted past the cap (what stock PostgreSQL would have done),
 * logged, and counted in role_stats.admitted_over_cap.  That also ends a lock
 * queue forming behind a statement that is not running.  A lock wait of the
 * same role by a backend that holds no slot (its own LOCK TABLE) is no
 * deadlock and does not admit: holders[] tells slot holders apart.
 *
 * Locking: the common path takes no lock.  A role's "active" count and the
 * instance-wide count are atomics, bumped with compare-and-swap against the
 * caps while nothing is queued; the other fields of a role entry are under
 * its spinlock.  One LWLock (tranche "pg_hygiene_limits") protects the role
 * hash and the queue (waiters[], next_seq); a statement that finds a cap full
 * or others queued takes it to rank itself.  No lock is held across a wait
 * or an ereport.
 *
 * IDENTIFICATION
 *	  src/limits_admit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "log_rate.h"
#include "pg_hygiene.h"
#include "limits_common.h"
#include "waits.h"

/*
 * The role whose slot a backend holds (InvalidOid when none) and since when,
 * indexed by pgprocno, one cache line each: written by its backend when it
 * takes or gives back a slot, read by a queued statement that found the
 * backend waiting for one of its locks (see lim_lock_waiter_behind_us) and
 * by a rejection that estimates when a slot will be free
 * (lim_retry_after_ms).
 */
typedef struct LimHolderData
{
	pg_atomic_uint32 roleid;
	pg_atomic_uint64 since;		/* TimestampTz the slot was taken */
} LimHolderData;

typedef union LimHolder
{
	LimHolderData h;
	char		pad[PG_CACHE_LINE_SIZE];
} LimHolder;

/* One queued statement, indexed by pgprocno. */
typedef struct LimWaiter
{
	bool		waiting;
	int			priority;
	uint64		seq;			/* arrival order */
	LimRole    *role;			/* NULL when the role is not tracked */
	int			role_cap;		/* its max_active_statements, 0 = none */
	int			total_cap;		/* its max_active_total, 0 = none */
} LimWaiter;

typedef struct LimShared
{
	/*
	 * Taken and given back by every statement under max_active_total: alone
	 * in its cache line, so that the reads of nwaiting on every admission
	 * and release do not miss whenever it changes.
	 */
	union
	{
		pg_atomic_uint32 value;
		char		pad[PG_CACHE_LINE_SIZE];
	}			total_active;
	pg_atomic_uint32 nwaiting;	/* waiters[] entries with waiting = true */
	pg_atomic_uint64 untracked; /* statements of roles the hash had no room for */
	LWLock	   *lock;			/* role hash, waiters[], next_seq */
	uint64		next_seq;
	int			nwaiters;		/* length of waiters[] and holders[] */
	LimHolder  *holders;		/* after waiters[], nwaiters of them */
	LimWaiter	waiters[FLEXIBLE_ARRAY_MEMBER];
} LimShared;

/* Per-statement state, allocated in es_query_cxt (or the utility's context). */
typedef struct LimQuery
{
	MemoryContextCallback cb;
	bool		counted;		/* holds (a share of) the backend's slot */
	uint64		generation;		/* lim_generation when counted */
} LimQuery;

/* Shared state */
static LimShared *lim_shared = NULL;
static HTAB *lim_roles = NULL;

/* Backend state */
static Oid	lim_cached_roleid = InvalidOid;
static LimRole *lim_cached_role = NULL;
static int	lim_held = 0;			/* live statements sharing our slot */
static LimRole *lim_held_role = NULL;	/* role entry whose active we bumped */
static bool lim_held_total = false;	/* we bumped total_active */
static TimestampTz lim_held_since = 0;
static uint64 lim_generation = 1;
static bool lim_exit_registered = false;
static volatile bool lim_registered_waiter = false;
static bool lim_untracked_warned = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_role_stats);
PG_FUNCTION_INFO_V1(hygiene_reset_role_stats);
PG_FUNCTION_INFO_V1(hygiene_limits_summary);

const struct config_enum_entry lim_priority_options[] = {
	{"critical", LIM_PRIO_CRITICAL, false},
	{"high", LIM_PRIO_HIGH, false},
	{"normal", LIM_PRIO_NORMAL, false},
	{"low", LIM_PRIO_LOW, false},
	{"background", LIM_PRIO_BACKGROUND, false},
	{NULL, 0, false}
};

/* Number of waiter slots: one per PGPROC. */
static int
lim_waiter_count(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

/* Size of the fixed part of our shared memory. */
static Size
lim_shared_size(void)
{
	Size		size = add_size(offsetof(LimShared, waiters),
								mul_size(lim_waiter_count(), sizeof(LimWaiter)));

	size = add_size(size, PG_CACHE_LINE_SIZE);	/* alignment of holders[] */
	return add_size(size, mul_size(lim_waiter_count(), sizeof(LimHolder)));
}

/* shmem_request_hook: ask for the struct, the role hash and one LWLock. */
static void
lim_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(lim_shared_size());
	RequestAddinShmemSpace(hash_estimate_size(lim_max_tracked_roles,
											  sizeof(LimRole)));
	RequestNamedLWLockTranche("pg_hygiene_limits", 1);
}

/* shmem_startup_hook: attach, and initialise on first attach. */
static void
lim_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	lim_shared = ShmemInitStruct("pg_hygiene limits", lim_shared_size(), &found);
	if (!found)
	{
		memset(lim_shared, 0, lim_shared_size());
		lim_shared->lock = &(GetNamedLWLockTranche("pg_hygiene_limits"))->lock;
		pg_atomic_init_u32(&lim_shared->total_active.value, 0);
		pg_atomic_init_u32(&lim_shared->nwaiting, 0);
		pg_atomic_init_u64(&lim_shared->untracked, 0);
		lim_shared->next_seq = 1;
		lim_shared->nwaiters = lim_waiter_count();
		lim_shared->holders = (LimHolder *)
			CACHELINEALIGN((char *) lim_shared + offsetof(LimShared, waiters) +
						   sizeof(LimWaiter) * lim_shared->nwaiters);
		for (int i = 0; i < lim_shared->nwaiters; i++)
		{
			pg_atomic_init_u32(&lim_shared->holders[i].h.roleid, InvalidOid);
			pg_atomic_init_u64(&lim_shared->holders[i].h.since, 0);
		}
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(LimRole);
	lim_roles = ShmemInitHash("pg_hygiene limits roles",
							  lim_max_tracked_roles, lim_max_tracked_roles,
							  &info, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The shared entry of the session user (the role whose ALTER ROLE settings
 * the session runs with), created on first use; NULL when the table is full.
 */
LimRole *
lim_role_entry(void)
{
	Oid			roleid = GetSessionUserId();
	LimRole    *entry;
	bool		found;

	if (roleid == lim_cached_roleid && lim_cached_role != NULL)
		return lim_cached_role;

	LWLockAcquire(lim_shared->lock, LW_SHARED);
	entry = hash_search(lim_roles, &roleid, HASH_FIND, NULL);
	LWLockRelease(lim_shared->lock);
	if (entry == NULL)
	{
		LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
		/* bounded: a shared hash would otherwise borrow from the shared slack */
		if (hash_get_num_entries(lim_roles) >= lim_max_tracked_roles)
			entry = hash_search(lim_roles, &roleid, HASH_FIND, &found);
		else
			entry = hash_search(lim_roles, &roleid, HASH_ENTER_NULL, &found);
		if (entry != NULL && !found)
		{
			memset((char *) entry + sizeof(Oid), 0, sizeof(LimRole) - sizeof(Oid));
			pg_atomic_init_u32(&entry->active, 0);
			pg_atomic_init_u64(&entry->wal_clock, 0);
			SpinLockInit(&entry->mutex);
			entry->stats_reset = GetCurrentTimestamp();
		}
		LWLockRelease(lim_shared->lock);
	}
	if (entry == NULL)
	{
		if (!lim_untracked_warned)
			ereport(LOG,
					(errmsg("pg_hygiene: no room to track role %u, its per-role limits are not enforced", roleid),
					 errhint("Raise pg_hygiene.max_tracked_roles (currently %d) and restart.",
							 lim_max_tracked_roles)));
		lim_untracked_warned = true;
		return NULL;
	}
	lim_cached_roleid = roleid;
	lim_cached_role = entry;
	return entry;
}

/*
 * True when this session is counted but never delayed or rejected:
 * superusers (pg_hygiene.exempt_superusers) and every process that is not a
 * client backend (pg_hygiene.exempt_background).
 */
bool
lim_exempt(void)
{
	if (MyBackendType != B_BACKEND)
		return lim_exempt_background;
	if (lim_exempt_superusers && superuser_arg(GetSessionUserId()))
		return true;
	return false;
}

/*
 * Sleep on our latch until the given time (interruptible), adding the time
 * slept to *slept_us as it goes, so that the caller's count is right even when
 * an interrupt ends the sleep with an error.
 */
void
lim_sleep_until(TimestampTz until, int64 *slept_us, HygieneWaitEvent what)
{
	TimestampTz now = GetCurrentTimestamp();

	while (now < until)
	{
		long		ms = (long) ((until - now + 999) / 1000);
		TimestampTz before = now;

		if (ms > 1000)
			ms = 1000;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, hygiene_wait_event(what));
		ResetLatch(MyLatch);
		now = GetCurrentTimestamp();
		*slept_us += now - before;
		CHECK_FOR_INTERRUPTS();
	}
}

/* Does waiter a rank before waiter b (priority class, then arrival)? */
static inline bool
lim_ranks_before(const LimWaiter *a, const LimWaiter *b)
{
	return a->priority < b->priority ||
		(a->priority == b->priority && a->seq < b->seq);
}

/* Is the capacity a queued statement needs free now?  Reads the atomics only. */
static bool
lim_waiter_eligible(const LimWaiter *w)
{
	if (w->role_cap > 0 && w->role != NULL &&
		pg_atomic_read_u32(&w->role->active) >= (uint32) w->role_cap)
		return false;
	if (w->total_cap > 0 && w->priority != LIM_PRIO_CRITICAL &&
		pg_atomic_read_u32(&lim_shared->total_active.value) >= (uint32) w->total_cap)
		return false;
	return true;
}

/*
 * Is a slot free for "me"?  My own caps must allow it and no queued statement
 * that competes for the same capacity (same role under a role cap, or both
 * under the instance cap) and could run now may rank before me (by priority,
 * then arrival); if one does, its pgprocno is returned in *blocker (else -1).
 * Caller holds the lock.
 */
static bool
lim_slot_free(const LimWaiter *me, int mypgprocno, int *blocker)
{
	int			i;

	*blocker = -1;
	if (!lim_waiter_eligible(me))
		return false;
	if (pg_atomic_read_u32(&lim_shared->nwaiting) == 0)
		return true;
	for (i = 0; i < lim_shared->nwaiters; i++)
	{
		const LimWaiter *w = &lim_shared->waiters[i];
		bool		competes;

		if (!w->waiting || i == mypgprocno)
			continue;
		competes = (me->role_cap > 0 && w->role == me->role) ||
			(me->total_cap > 0 && w->total_cap > 0 &&
			 me->priority != LIM_PRIO_CRITICAL);
		if (!competes)
			continue;
		if (!lim_ranks_before(w, me))
			continue;
		if (lim_waiter_eligible(w))
		{
			*blocker = i;
			return false;
		}
	}
	return true;
}

/* Add one to a counter unless it has reached cap (0 = no cap); lock-free. */
static bool
lim_increment_below(pg_atomic_uint32 *counter, int cap)
{
	uint32		cur = pg_atomic_read_u32(counter);

	for (;;)
	{
		if (cap > 0 && cur >= (uint32) cap)
			return false;
		if (pg_atomic_compare_exchange_u32(counter, &cur, cur + 1))
			return true;
	}
}

/*
 * pg_hygiene.test_slot_pause: sleep while the role count is raised and may
 * still be taken back, so that a test can run a concurrent admission of the
 * same role inside that window (finding L12).  It takes no interrupts: an
 * error here would leave the count raised.
 */
static void
lim_test_pause(void)
{
	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	pg_usleep((long) lim_test_slot_pause * 1000L);
	pgstat_report_wait_end();
}

/*
 * Take a slot for "me": one more active statement of the role (counted even
 * without a role cap) and, under an instance cap, one more in the instance.
 * Exempt sessions are counted past every cap, and so is "me" when the caller
 * passes force.  Returns false, having changed nothing, when a cap is full.
 */
static bool
lim_take_slot(const LimWaiter *me, bool force)
{
	bool		total_capped = me->total_cap > 0 && !force &&
		me->priority != LIM_PRIO_CRITICAL;

	/*
	 * A full instance cap fails before the role count is raised: a raised
	 * and taken back role count would make a concurrent admission of the
	 * same role see its cap full while none of its statements runs.
	 */
	if (total_capped &&
		pg_atomic_read_u32(&lim_shared->total_active.value) >= (uint32) me->total_cap)
		return false;
	if (me->role != NULL &&
		!lim_increment_below(&me->role->active, force ? 0 : me->role_cap))
		return false;
	if (unlikely(lim_test_slot_pause > 0) && me->role != NULL && me->total_cap > 0)
		lim_test_pause();
	if (me->total_cap > 0 &&
		!lim_increment_below(&lim_shared->total_active.value,
							 (force || me->priority == LIM_PRIO_CRITICAL) ? 0 : me->total_cap))
	{
		if (me->role != NULL)
			pg_atomic_fetch_sub_u32(&me->role->active, 1);
		return false;
	}
	lim_held_role = me->role;
	lim_held_total = (me->total_cap > 0);
	if (me->role != NULL && MyProc != NULL)
		pg_atomic_write_u32(&lim_shared->holders[HYGIENE_MY_PROC_NUMBER].h.roleid,
							me->role->roleid);
	return true;
}

/*
 * Which limit keeps "me" out: a full role cap, else a full instance cap, else
 * (queued statements go first) the role cap if there is one.
 */
static LimReason
lim_block_reason(const LimWaiter *me)
{
	if (me->role_cap > 0 &&
		pg_atomic_read_u32(&me->role->active) >= (uint32) me->role_cap)
		return LIM_REJECT_ACTIVE;
	if (me->total_cap > 0 && me->priority != LIM_PRIO_CRITICAL &&
		pg_atomic_read_u32(&lim_shared->total_active.value) >= (uint32) me->total_cap)
		return LIM_REJECT_TOTAL;
	/* both have room: queued statements go first */
	return me->role_cap > 0 ? LIM_REJECT_ACTIVE : LIM_REJECT_TOTAL;
}

/*
 * Capacity was freed (a slot of the given role, and an instance-wide one when
 * "total"), or a statement that competed for it left the queue: wake the
 * queued statement that ranks first among those that compete for the role's
 * cap and could run now, and likewise for the instance cap; at most two.
 * Waking every queued statement would make each of them take the limits lock
 * to re-check on every release, a thundering herd exactly when the primary is
 * overloaded.  A woken statement that admits leaves the queue, which wakes
 * the next one; every queued statement also re-checks every 100 ms.  Caller
 * holds the lock (shared is enough).
 */
static void
lim_wake_waiters_locked(const LimRole *role, bool total)
{
	int			best_role = -1;
	int			best_total = -1;
	int			i;

	if (pg_atomic_read_u32(&lim_shared->nwaiting) == 0)
		return;
	for (i = 0; i < lim_shared->nwaiters; i++)
	{
		const LimWaiter *w = &lim_shared->waiters[i];

		if (!w->waiting || !lim_waiter_eligible(w))
			continue;
		if (role != NULL && w->role == role && w->role_cap > 0 &&
			(best_role < 0 || lim_ranks_before(w, &lim_shared->waiters[best_role])))
			best_role = i;
		if (total && w->total_cap > 0 &&
			(best_total < 0 || lim_ranks_before(w, &lim_shared->waiters[best_total])))
			best_total = i;
	}
	if (best_role >= 0)
		SetLatch(&GetPGProcByNumber(best_role)->procLatch);
	if (best_total >= 0 && best_total != best_role)
		SetLatch(&GetPGProcByNumber(best_total)->procLatch);
}

/*
 * Give back the backend's slot: lock-free, unless statements are queued, which
 * are then woken.  The atomic decrement and the read of nwaiting are both full
 * barriers, and a statement registers as waiting before its last check: so
 * either it sees the freed slot or we see it waiting.
 */
static void
lim_release(bool lock_held)
{
	LimRole    *role;
	bool		total;

	if (lim_held_role != NULL)
	{
		TimestampTz now = GetCurrentTimestamp();

		pg_atomic_fetch_sub_u32(&lim_held_role->active, 1);
		SpinLockAcquire(&lim_held_role->mutex);
		lim_held_role->finished++;
		lim_held_role->exec_us += now - lim_held_since;
		SpinLockRelease(&lim_held_role->mutex);
	}
	if (lim_held_total)
		pg_atomic_fetch_sub_u32(&lim_shared->total_active.value, 1);
	role = lim_held_role;
	total = lim_held_total;
	if (MyProc != NULL)
	{
		LimHolderData *h = &lim_shared->holders[HYGIENE_MY_PROC_NUMBER].h;

		if (role != NULL)
			pg_atomic_write_u32(&h->roleid, InvalidOid);
		pg_atomic_write_u64(&h->since, 0);
	}
	lim_held_role = NULL;
	lim_held_total = false;
	lim_held = 0;
	lim_generation++;
	pg_memory_barrier();
	if (pg_atomic_read_u32(&lim_shared->nwaiting) == 0)
		return;
	if (lock_held)
		lim_wake_waiters_locked(role, total);
	else
	{
		LWLockAcquire(lim_shared->lock, LW_SHARED);
		lim_wake_waiters_locked(role, total);
		LWLockRelease(lim_shared->lock);
	}
}

/* Memory context callback: the statement's executor state is going away. */
static void
lim_query_done(void *arg)
{
	LimQuery   *q = (LimQuery *) arg;

	if (!q->counted || q->generation != lim_generation || lim_shared == NULL)
		return;
	q->counted = false;
	if (--lim_held > 0)
		return;
	lim_release(false);
}

/* Remove our waiter entry, if any.  Caller holds the lock exclusively. */
static void
lim_unregister_waiter_locked(void)
{
	LimWaiter  *w = &lim_shared->waiters[HYGIENE_MY_PROC_NUMBER];

	if (w->waiting)
	{
		w->waiting = false;
		pg_atomic_fetch_sub_u32(&lim_shared->nwaiting, 1);
		lim_wake_waiters_locked(w->role, w->total_cap > 0);
	}
	lim_registered_waiter = false;
}

/* before_shmem_exit: leave the queue and give back the slot on backend exit. */
static void
lim_backend_exit(int code, Datum arg)
{
	if (lim_shared == NULL || MyProc == NULL)
		return;
	/* never true by construction; but a self-deadlock at exit would be worse */
	if (!LWLockHeldByMe(lim_shared->lock))
		LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
	lim_unregister_waiter_locked();
	if (lim_held > 0)
		lim_release(true);
	LWLockRelease(lim_shared->lock);
}

/*
 * Milliseconds a rejected client should wait before retrying: never sooner
 * than the running statements can be expected to free a slot (finding O7).
 * Once statements of the role have finished, that is their average run time
 * (for the role's cap).  Before any has, or for the instance cap, it is the
 * run time so far of the youngest slot holder competing for the same cap: a
 * statement that has run for t is, lacking other knowledge, as likely to
 * need t more; at least 100 ms.  A statement that timed out in the queue saw
 * none of the holders finish for queue_timeout: then the hint is also at
 * least the youngest holder's run time.  Never below 10 ms.  Scans holders[]
 * (one entry per backend): only on the rejection path.
 */
static int
lim_retry_after_ms(LimRole *role, bool instance, bool timed_out)
{
	int64		avg = -1;
	int64		youngest = -1;
	int64		hint;
	TimestampTz now = GetCurrentTimestamp();

	if (role != NULL && !instance)
	{
		SpinLockAcquire(&role->mutex);
		if (role->finished > 0)
			avg = role->exec_us / (int64) role->finished;
		SpinLockRelease(&role->mutex);
	}
	for (int i = 0; i < lim_shared->nwaiters; i++)
	{
		LimHolderData *h = &lim_shared->holders[i].h;
		TimestampTz since;

		if (MyProc != NULL && i == HYGIENE_MY_PROC_NUMBER)
			continue;
		since = (TimestampTz) pg_atomic_read_u64(&h->since);
		if (since == 0 || since > now)
			continue;
		if (!instance &&
			(role == NULL || pg_atomic_read_u32(&h->roleid) != role->roleid))
			continue;
		if (youngest < 0 || now - since < youngest)
			youngest = now - since;
	}
	if (avg >= 0)
		hint = avg;
	else
		hint = Max(youngest, 100000);
	if (timed_out)
		hint = Max(hint, youngest);
	hint = Max(hint, 10000);
	return (int) Min(hint / 1000, (int64) INT_MAX);
}

/* Role name for messages (not the hot path: only on rejection). */
static const char *
lim_role_name(void)
{
	char	   *name = GetUserNameFromId(GetSessionUserId(), true);

	return name ? name : "?";
}

/* Count a rejection. */
void
lim_count_reject(LimRole *role, LimReason reason)
{
	if (role == NULL)
		return;
	SpinLockAcquire(&role->mutex);
	role->rejected[reason]++;
	SpinLockRelease(&role->mutex);
}

/* Refill the role's token bucket to "now".  Caller holds the role's mutex. */
static void
lim_refill(LimRole *role, int rate, TimestampTz now)
{
	double		burst = Max((double) rate, 1.0);

	if (role->tokens_at == 0)
		role->tokens = burst;
	else if (now > role->tokens_at)
		role->tokens = Min(burst, role->tokens +
						   (double) (now - role->tokens_at) * rate / 1000000.0);
	if (now > role->tokens_at)
		role->tokens_at = now;
}

/*
 * While we are queued, is another backend waiting for a lock that we hold?
 * A queued statement holds the relation locks taken when it was parsed, its
 * virtual transaction id lock and perhaps session-level advisory locks.  If a
 * slot holder waits for one of them, directly or through others, that is a
 * deadlock PostgreSQL's detector cannot see, since one half of it is a wait
 * for a slot; if anyone else does, a lock queue is forming behind a statement
 * that is not even running (an ALTER TABLE waiting behind our ACCESS SHARE
 * lock holds up every later query of the table).  Either way the queued
 * statement should run now.  Called without the limits lock, once per
 * deadlock_timeout of queueing.  Returns the pid of a backend found waiting
 * for us, or 0.
 */
/*
 * Is the backend with this pid one of our own role's (by its login role)
 * that holds no slot?  Such a lock wait (say, the role's own LOCK TABLE,
 * which is not counted) is no deadlock: the role's running statements end
 * without it.  Admitting past the cap for it would let a role exceed its own
 * cap at will.  A wait of another role, or of any slot holder, is
 * answered by admission as before.
 */
static bool
lim_own_lock_wait(int pid, Oid myrole)
{
	PGPROC	   *proc = BackendPidGetProc(pid);

	if (proc == NULL)
		return true;			/* gone: nobody waits any more */
	return proc->roleId == myrole &&
		pg_atomic_read_u32(&lim_shared->holders[HYGIENE_PROC_NUMBER(proc)].h.roleid) == InvalidOid;
}

static int
lim_lock_waiter_behind_us(void)
{
	LockData   *data = GetLockStatusData();
	Oid			myrole = GetSessionUserId();
	int			found = 0;
	int			i;
	int			j;

	/*
	 * One snapshot of the whole lock table (no bound on the number of
	 * waiters looked at): a backend waits for us when it waits for a lock
	 * we hold in a conflicting mode.  We wait for no lock ourselves (we are
	 * queued for a slot), so only such hard conflicts can involve us.
	 */
	for (i = 0; i < data->nelements && found == 0; i++)
	{
		LockInstanceData *mine = &data->locks[i];
		LockMethod	method;

		if (mine->pid != MyProcPid || mine->holdMask == 0)
			continue;
		method = GetLockTagsMethodTable(&mine->locktag);
		for (j = 0; j < data->nelements; j++)
		{
			LockInstanceData *other = &data->locks[j];

			if (other->pid == MyProcPid || other->waitLockMode == NoLock ||
				memcmp(&other->locktag, &mine->locktag, sizeof(LOCKTAG)) != 0)
				continue;
			if ((method->conflictTab[other->waitLockMode] & mine->holdMask) &&
				!lim_own_lock_wait(other->pid, myrole))
			{
				found = other->pid;
				break;
			}
		}
	}
	pfree(data->locks);
	pfree(data);
	return found;
}

/* Take a token from the role's bucket, or wait for one when that is allowed. */
static void
lim_take_token(LimRole *role, int rate, bool may_wait, TimestampTz now,
			   int64 *waited_us, bool *counted_queued)
{
	int64		wait_us = 0;

	SpinLockAcquire(&role->mutex);
	lim_refill(role, rate, now);
	if (role->tokens >= 1.0)
		role->tokens -= 1.0;
	else
	{
		wait_us = (int64) ((1.0 - role->tokens) * 1000000.0 / rate);
		if (!may_wait || wait_us > (int64) lim_queue_timeout * 1000)
		{
			role->rejected[LIM_REJECT_RATE]++;
			SpinLockRelease(&role->mutex);
			log_rate_reject(ERRCODE_HYGIENE_RATE, 0, "limit max_statements_per_second");
			ereport(ERROR,
					(errcode(ERRCODE_HYGIENE_RATE),
					 errmsg("pg_hygiene: statement rate limit exceeded for role \"%s\"",
							lim_role_name()),
					 errdetail("pg_hygiene.max_statements_per_second is %d for this role.",
							   rate),
					 errhint("Retry after %d ms.", (int) (wait_us / 1000) + 1)));
		}
		/* Reserve the token now; it is paid for by sleeping. */
		role->tokens -= 1.0;
		role->queued++;
		*counted_queued = true;
	}
	SpinLockRelease(&role->mutex);
	if (wait_us > 0)
	{
		int64		slept = 0;

		hygiene_wait_begin(HYGIENE_WAIT_RATE_TOKEN, now + wait_us, 0, 0);
		lim_sleep_until(now + wait_us, &slept, HYGIENE_WE_RATE_TOKEN);
		hygiene_wait_end();
		*waited_us += slept;
	}
}

/* Reject a statement that may not (or may no longer) wait for a slot. */
static void
lim_reject(const LimWaiter *me, LimReason reason, bool may_wait, bool timed_out)
{
	int			retry = lim_retry_after_ms(me->role, reason != LIM_REJECT_ACTIVE,
										   timed_out);
	int			active_now;
	const char *running;

	lim_count_reject(me->role, reason);
	if (reason == LIM_REJECT_ACTIVE)
	{
		active_now = (int) pg_atomic_read_u32(&me->role->active);
		log_rate_reject(ERRCODE_HYGIENE_ROLE_ACTIVE, 0, "limit max_active_statements");
		if (timed_out)
			ereport(ERROR,
					(errcode(ERRCODE_HYGIENE_ROLE_ACTIVE),
					 errmsg("pg_hygiene: timed out waiting for an active statement slot for role \"%s\"",
							lim_role_name()),
					 errdetail("pg_hygiene.max_active_statements is %d for this role; the statement waited %d ms (pg_hygiene.queue_timeout).",
							   me->role_cap, lim_queue_timeout),
					 errhint("Retry after %d ms.", retry)));
		ereport(ERROR,
				(errcode(ERRCODE_HYGIENE_ROLE_ACTIVE),
				 errmsg("pg_hygiene: too many active statements for role \"%s\"",
						lim_role_name()),
				 errdetail_plural("pg_hygiene.max_active_statements is %d for this role and %d of its statements is running; %s.",
								  "pg_hygiene.max_active_statements is %d for this role and %d of its statements are running; %s.",
								  active_now,
								  me->role_cap, active_now,
								  may_wait ? "this statement may not queue" :
								  "the statement could not queue because its transaction already holds locks or has queue_timeout 0"),
				 errhint("Retry after %d ms.", retry)));
	}
	/* The instance-wide count is for monitoring roles only (S7). */
	active_now = (int) pg_atomic_read_u32(&lim_shared->total_active.value);
	running = (IsTransactionState() &&
			   has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS)) ?
		(active_now == 1 ? " and 1 statement is running" :
		 psprintf(" and %d statements are running", active_now)) : "";
	log_rate_reject(ERRCODE_HYGIENE_TOTAL_ACTIVE, 0, "limit max_active_total");
	if (timed_out)
		ereport(ERROR,
				(errcode(ERRCODE_HYGIENE_TOTAL_ACTIVE),
				 errmsg("pg_hygiene: timed out waiting for an active statement slot in the instance"),
				 errdetail("pg_hygiene.max_active_total is %d; the statement of priority \"%s\" waited %d ms (pg_hygiene.queue_timeout).",
						   me->total_cap, lim_priority_options[me->priority].name,
						   lim_queue_timeout),
				 errhint("Retry after %d ms.", retry)));
	ereport(ERROR,
			(errcode(ERRCODE_HYGIENE_TOTAL_ACTIVE),
			 errmsg("pg_hygiene: too many active statements in the instance"),
			 errdetail("pg_hygiene.max_active_total is %d%s; priority \"%s\" %s.",
					   me->total_cap, running,
					   lim_priority_options[me->priority].name,
					   me->priority == LIM_PRIO_BACKGROUND ?
					   "is shed rather than queued" :
					   "could not queue because its transaction already holds locks or has queue_timeout 0"),
			 errhint("Retry after %d ms.", retry)));
}

/*
 * Wait in the queue until a slot is free for "me" and take it.  Errors out on
 * rejection or timeout; returns true when admitted past a full cap because
 * another backend waits for a lock this statement holds.  Caller holds no lock.
 */
static bool
lim_queue(LimWaiter *me, bool may_wait, int64 *waited_us, bool *counted_queued)
{
	volatile TimestampTz start = 0;
	TimestampTz deadline = 0;
	TimestampTz next_lock_check = 0;
	bool		forced = false;

	PG_TRY();
	{
		LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
		for (;;)
		{
			TimestampTz now;
			long		ms;
			int			blocker;

			if (lim_slot_free(me, HYGIENE_MY_PROC_NUMBER, &blocker) &&
				lim_take_slot(me, false))
				break;
			/* a statement ahead of us could run: make sure it knows */
			if (blocker >= 0)
				SetLatch(&GetPGProcByNumber(blocker)->procLatch);

			/* Not free: decide between rejecting and (continuing to) wait. */
			if (!lim_registered_waiter)
			{
				LimReason	reason = lim_block_reason(me);

				/* background work is shed, not queued, at the instance cap */
				if (!may_wait ||
					(reason == LIM_REJECT_TOTAL && me->priority == LIM_PRIO_BACKGROUND))
				{
					LWLockRelease(lim_shared->lock);
					lim_reject(me, reason, may_wait, false);
				}
				start = GetCurrentTimestamp();
				deadline = TimestampTzPlusMilliseconds(start, lim_queue_timeout);
				next_lock_check = TimestampTzPlusMilliseconds(start, DeadlockTimeout);
				me->seq = lim_shared->next_seq++;
				me->waiting = true;
				lim_shared->waiters[HYGIENE_MY_PROC_NUMBER] = *me;
				pg_atomic_fetch_add_u32(&lim_shared->nwaiting, 1);
				lim_registered_waiter = true;
				hygiene_wait_begin(reason == LIM_REJECT_ACTIVE ?
								   HYGIENE_WAIT_ROLE_SLOT : HYGIENE_WAIT_INSTANCE_SLOT,
								   deadline, 0, 0);
				if (me->role != NULL && !*counted_queued)
				{
					SpinLockAcquire(&me->role->mutex);
					me->role->queued++;
					SpinLockRelease(&me->role->mutex);
				}
				*counted_queued = true;
				continue;		/* check once more, now that releases wake us */
			}

			now = GetCurrentTimestamp();
			if (now >= deadline)
			{
				LimReason	reason = lim_block_reason(me);

				lim_unregister_waiter_locked();
				LWLockRelease(lim_shared->lock);
				hygiene_wait_end();
				if (me->role != NULL)
				{
					SpinLockAcquire(&me->role->mutex);
					me->role->wait_us += now - start;
					SpinLockRelease(&me->role->mutex);
				}
				start = 0;
				lim_reject(me, reason, may_wait, true);
			}
			/* which cap keeps us out may change while we wait */
			hygiene_wait_set_kind(lim_block_reason(me) == LIM_REJECT_ACTIVE ?
								  HYGIENE_WAIT_ROLE_SLOT : HYGIENE_WAIT_INSTANCE_SLOT);
			LWLockRelease(lim_shared->lock);

			if (now >= next_lock_check)
			{
				int			waiter = lim_lock_waiter_behind_us();

				next_lock_check = TimestampTzPlusMilliseconds(now, DeadlockTimeout);
				if (waiter != 0)
				{
					ereport(LOG,
							(errmsg("pg_hygiene: admitting a queued statement of role \"%s\" past its cap because process %d waits for a lock it holds",
									lim_role_name(), waiter),
							 errdetail("A statement queued for a slot keeps the locks taken when it was parsed; a slot holder waiting for them would be a deadlock the deadlock detector cannot see.")));
					LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
					(void) lim_take_slot(me, true);
					forced = true;
					break;
				}
			}

			ms = (long) ((deadline - now + 999) / 1000);
			if (ms > 100)
				ms = 100;		/* re-check regularly even without a wakeup */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 ms, hygiene_wait_event(HYGIENE_WE_ACTIVE_SLOT));
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
		}

		/* Admitted (lock held). */
		if (lim_registered_waiter)
		{
			*waited_us += GetCurrentTimestamp() - start;
			lim_unregister_waiter_locked();
		}
		LWLockRelease(lim_shared->lock);
		hygiene_wait_end();
	}
	PG_CATCH();
	{
		hygiene_wait_end();
		if (lim_registered_waiter)
		{
			/* the error came from CHECK_FOR_INTERRUPTS: the lock is free */
			if (!LWLockHeldByMe(lim_shared->lock))
				LWLockAcquire(lim_shared->lock, LW_EXCLUSIVE);
			lim_unregister_waiter_locked();
			LWLockRelease(lim_shared->lock);
			if (me->role != NULL && start != 0)
			{
				SpinLockAcquire(&me->role->mutex);
				me->role->wait_us += GetCurrentTimestamp() - start;
				SpinLockRelease(&me->role->mutex);
			}
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	return forced;
}

/*
 * Admit one statement: rate limit first, then the concurrency slot, waiting
 * when allowed.  Errors out on rejection.  When nothing is queued and the
 * caps have room, the slot is taken with atomic increments and no lock.
 */
static void
lim_admit(LimQuery *q)
{
	LimRole    *role = lim_role_entry();
	bool		exempt = lim_exempt();
	bool		may_wait;
	bool		forced = false;
	int			rate = lim_max_statements_per_second;
	LimWaiter	me;
	TimestampTz now = GetCurrentTimestamp();
	int64		waited_us = 0;
	bool		counted_queued = false;

	if (role == NULL)
		pg_atomic_fetch_add_u64(&lim_shared->untracked, 1);

	may_wait = !exempt && lim_queue_timeout > 0 && !lim_xact_dirty &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny());

	if (rate > 0 && role != NULL && !exempt)
		lim_take_token(role, rate, may_wait, now, &waited_us, &counted_queued);

	/*
	 * Take a slot, unless another open portal of this backend holds one
	 * already: the statement then shares it, so a session never waits for
	 * itself.
	 */
	if (lim_held == 0)
	{
		memset(&me, 0, sizeof(me));
		me.priority = lim_priority;
		me.seq = UINT64_MAX;
		me.role = role;
		me.role_cap = (role != NULL) ? lim_max_active_statements : 0;
		me.total_cap = lim_max_active_total;

		if (exempt)
			(void) lim_take_slot(&me, true);
		else if (pg_atomic_read_u32(&lim_shared->nwaiting) > 0 ||
				 !lim_take_slot(&me, false))
			forced = lim_queue(&me, may_wait, &waited_us, &counted_queued);
		lim_held_since = (waited_us > 0) ? GetCurrentTimestamp() : now;
		if (MyProc != NULL)
			pg_atomic_write_u64(&lim_shared->holders[HYGIENE_MY_PROC_NUMBER].h.since,
								(uint64) lim_held_since);
	}
	lim_held++;
	q->counted = true;
	q->generation = lim_generation;
	if (role != NULL)
	{
		SpinLockAcquire(&role->mutex);
		role->admitted++;
		role->wait_us += waited_us;
		if (forced)
			role->admitted_over_cap++;
		SpinLockRelease(&role->mutex);
	}
}

/* Make sure the backend gives back its slot when it exits. */
static void
lim_register_exit(void)
{
	if (!lim_exit_registered)
	{
		before_shmem_exit(lim_backend_exit, (Datum) 0);
		lim_exit_registered = true;
	}
}

/*
 * Admission of one top-level statement whose executor state has just been set
 * up: tie the slot to es_query_cxt (released whenever the executor state goes
 * away: success, error, cancel, portal drop), then admit (may wait or error
 * out).
 */
void
lim_admit_statement(QueryDesc *queryDesc)
{
	LimQuery   *q;

	lim_register_exit();
	q = MemoryContextAllocZero(queryDesc->estate->es_query_cxt, sizeof(LimQuery));
	q->cb.func = lim_query_done;
	q->cb.arg = q;
	MemoryContextRegisterResetCallback(queryDesc->estate->es_query_cxt, &q->cb);
	lim_admit(q);
}

/*
 * The slot of the top-level utility statement that runs queries (DO, CALL,
 * EXECUTE, CREATE TABLE AS, EXPLAIN ANALYZE, COPY) now executing, if any.
 * Only a top-level utility statement is admitted, so there is at most one;
 * it is not tied to a memory context because a procedure may commit, and
 * so end every transaction-lived context, while it runs.
 */
static LimQuery lim_utility_query;

/* Admit a top-level utility statement; the queries it runs share its slot. */
void
lim_admit_utility(void)
{
	lim_register_exit();
	Assert(!lim_utility_query.counted);
	lim_admit(&lim_utility_query);
}

/*
 * The utility statement admitted by lim_admit_utility is over (normally or
 * by an error); a no-op when it was rejected.
 */
void
lim_utility_done(void)
{
	lim_query_done(&lim_utility_query);
}

/* Install the shared memory hooks of the limits module; called from limits_init. */
void
lim_admit_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = lim_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = lim_shmem_startup;
}

/*
 * hygiene._role_stats(): one row per tracked role (see hygiene.role_stats).
 */
Datum
hygiene_role_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	LimRole    *e;
	LimRole    *copy;
	uint32	   *active;
	int			n = 0;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (lim_shared == NULL)
		return (Datum) 0;

	/*
	 * Copy under the locks, then build tuples (which may allocate and look up
	 * names).  The copy's own mutex and atomic are never used.
	 */
	LWLockAcquire(lim_shared->lock, LW_SHARED);
	copy = palloc(sizeof(LimRole) * Max(1, hash_get_num_entries(lim_roles)));
	active = palloc(sizeof(uint32) * Max(1, hash_get_num_entries(lim_roles)));
	hash_seq_init(&seq, lim_roles);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		SpinLockAcquire(&e->mutex);
		copy[n] = *e;
		SpinLockRelease(&e->mutex);
		active[n++] = pg_atomic_read_u32(&e->active);
	}
	LWLockRelease(lim_shared->lock);

	for (i = 0; i < n; i++)
	{
		Datum		values[16];
		bool		nulls[16] = {false};
		char	   *name;
		int			c = 0;

		e = &copy[i];
		values[c++] = ObjectIdGetDatum(e->roleid);
		name = GetUserNameFromId(e->roleid, true);
		if (name)
			values[c++] = CStringGetTextDatum(name);
		else
			nulls[c++] = true;
		values[c++] = Int32GetDatum((int32) active[i]);
		values[c++] = Int64GetDatum((int64) e->admitted);
		values[c++] = Int64GetDatum((int64) e->queued);
		values[c++] = Float8GetDatum((double) e->wait_us / 1000.0);
		values[c++] = Int64GetDatum((int64) e->rejected[LIM_REJECT_ACTIVE]);
		values[c++] = Int64GetDatum((int64) e->rejected[LIM_REJECT_TOTAL]);
		values[c++] = Int64GetDatum((int64) e->rejected[LIM_REJECT_RATE]);
		values[c++] = Int64GetDatum((int64) e->rejected[LIM_REJECT_PLAN_COST]);
		values[c++] = Int64GetDatum((int64) e->rejected[LIM_REJECT_JOIN_RELS]);
		values[c++] = Float8GetDatum((double) e->throttle_us / 1000.0);
		values[c++] = Int64GetDatum((int64) e->wal_bytes);
		values[c++] = TimestampTzGetDatum(e->stats_reset);
		/* added in 0.2; the 0.1 function (before ALTER EXTENSION UPDATE) has 14 */
		if (rsinfo->setDesc->natts > c)
			values[c++] = Int64GetDatum((int64) e->admitted_over_cap);
		Assert(c == rsinfo->setDesc->natts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * hygiene.reset_role_stats(role oid): zero the statistics of one role, or
 * of all roles when NULL.  Live state (active counts, buckets, WAL clock) is
 * kept.
 */
Datum
hygiene_reset_role_stats(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	LimRole    *e;
	Oid			only = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	TimestampTz now = GetCurrentTimestamp();
	int64		n = 0;

	if (lim_shared == NULL)
		PG_RETURN_INT64(0);
	LWLockAcquire(lim_shared->lock, LW_SHARED);
	hash_seq_init(&seq, lim_roles);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (OidIsValid(only) && e->roleid != only)
			continue;
		SpinLockAcquire(&e->mutex);
		e->admitted = 0;
		e->queued = 0;
		memset(e->rejected, 0, sizeof(e->rejected));
		e->wait_us = 0;
		e->throttle_us = 0;
		e->exec_us = 0;
		e->finished = 0;
		e->wal_bytes = 0;
		e->admitted_over_cap = 0;
		e->stats_reset = now;
		SpinLockRelease(&e->mutex);
		n++;
	}
	LWLockRelease(lim_shared->lock);
	PG_RETURN_INT64(n);
}

/*
 * hygiene._limits_summary(): instance-wide state of the limiter.
 */
Datum
hygiene_limits_summary(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false};
	long		nroles = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (lim_shared == NULL)
	{
		memset(nulls, true, sizeof(nulls));
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	LWLockAcquire(lim_shared->lock, LW_SHARED);
	values[0] = Int32GetDatum((int32) pg_atomic_read_u32(&lim_shared->total_active.value));
	values[1] = Int32GetDatum((int32) pg_atomic_read_u32(&lim_shared->nwaiting));
	nroles = hash_get_num_entries(lim_roles);
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&lim_shared->untracked));
	LWLockRelease(lim_shared->lock);
	values[2] = Int32GetDatum((int32) nroles);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
