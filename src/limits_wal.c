/*-------------------------------------------------------------------------
 *
 * limits_wal.c
 *		Write budget per role (pg_hygiene.max_wal_bytes_per_second): the
 *		role's sessions are slowed, never failed, so that the WAL they write
 *		stays under the budget.
 *
 * Each role has a "WAL clock" in shared memory: the time at which the WAL it
 * has written so far is paid for at the budgeted rate.  Charging n bytes
 * moves the clock n / rate seconds forward (from no earlier than 100 ms ago,
 * which is the only burst allowed); a session whose role's clock is in the
 * future sleeps until it, on its latch with wait event Extension, so the
 * wait shows in pg_stat_activity and is cancellable.
 *
 * Where: WAL is read from this backend's pgWalUsage.wal_bytes.  Inside one
 * long statement the ExecProcNodeReal of its top node and of every
 * ModifyTable subplan is wrapped, so that every 8kB of WAL is charged and
 * paid for before the next row is fetched; between statements the rest is
 * charged at ExecutorEnd (or after a utility statement such as COPY FROM,
 * which has no plan to wrap), at transaction abort (a failed statement's WAL
 * counts too), and paid for at the start of the next statement that may
 * wait.
 *
 * The wrapped nodes are kept in a small backend-local table keyed by the
 * node; each entry is removed by a reset callback on the query's
 * es_query_cxt, so nested statements cannot overwrite each other's state.
 *
 * Replay lag (pg_hygiene.wal_budget_replay_lag, off by default): when the
 * largest replay lag of the physical standbys streaming from this server
 * exceeds the setting, every charge is scaled: n bytes cost n / (budget *
 * scale) seconds, scale = setting / lag, never below LIM_WAL_SCALE_FLOOR, so
 * a budget slows but never stops.  The lag is the one the walsenders keep
 * for pg_stat_replication.replay_lag, read under each walsender's spinlock
 * at most every LIM_LAG_INTERVAL_US for the whole instance: a shared cached
 * value with its timestamp, refreshed by the first backend that finds it
 * stale (it claims the refresh with a compare-and-swap on the timestamp, so
 * only one backend scans the walsenders at a time).  Only charges under a
 * budget read it: statements of roles without a budget never do.
 *
 * IDENTIFICATION
 *	  src/limits_wal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "nodes/nodeFuncs.h"
#include "replication/walsender.h"
#include "tcop/pquery.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"

#include "compat.h"
#include "pg_hygiene.h"
#include "limits_common.h"
#include "waits.h"

/* Charge and pay every this many WAL bytes inside a statement. */
#define LIM_WAL_CHUNK		8192
/* Idle credit: a role may write this much of its budget at once (µs). */
#define LIM_WAL_BURST_US	100000
/* Most ModifyTable nodes wrapped at once in one backend (nested statements). */
#define LIM_MAX_WRAPPED		64
/* Replay lag: measured at most this often (µs); the budget never below this share. */
#define LIM_LAG_INTERVAL_US	100000
#define LIM_WAL_SCALE_FLOOR	0.1
/* lag_us when no streaming physical standby reports a replay lag */
#define LIM_LAG_NONE		PG_UINT64_MAX

/* The instance's replay lag, as last measured (shared memory). */
typedef struct LimLagCache
{
	pg_atomic_uint64 checked_at;	/* TimestampTz of the measurement, 0 = never */
	pg_atomic_uint64 lag_us;	/* largest replay lag then, or LIM_LAG_NONE */
} LimLagCache;

typedef struct LimWrapped
{
	PlanState  *node;
	ExecProcNodeMtd orig;
} LimWrapped;

/* Callback that unwraps one query's nodes when its executor state goes away. */
typedef struct LimWrapCb
{
	MemoryContextCallback cb;
	int			n;
	PlanState  *nodes[FLEXIBLE_ARRAY_MEMBER];
} LimWrapCb;

static LimWrapped lim_wrapped[LIM_MAX_WRAPPED];
static int	lim_nwrapped = 0;
static uint64 lim_wal_mark = 0;		/* pgWalUsage.wal_bytes already charged */
static bool lim_wal_mark_valid = false;
static int64 lim_wal_slept = 0;		/* time slept in the current lim_wal_pay */
static LimLagCache *lim_lag = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_wal_budget_lag);

/* shmem_request_hook: the lag cache. */
static void
lim_wal_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(LimLagCache)));
}

/* shmem_startup_hook: attach to the lag cache, initialise on first attach. */
static void
lim_wal_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	lim_lag = ShmemInitStruct("pg_hygiene wal lag", sizeof(LimLagCache), &found);
	if (!found)
	{
		pg_atomic_init_u64(&lim_lag->checked_at, 0);
		pg_atomic_init_u64(&lim_lag->lag_us, LIM_LAG_NONE);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Install the shared memory hooks of the write budget; called from limits_init. */
void
lim_wal_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = lim_wal_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = lim_wal_shmem_startup;
}

/*
 * The largest replay lag (µs) of the physical standbys streaming from this
 * server now, or LIM_LAG_NONE when none reports one.  Walsenders that are
 * not streaming (starting up, catching up from the archive or pg_wal,
 * stopping) and those of logical decoding are skipped; a disconnected
 * standby has no walsender and no lag to read.  applyLag is -1 while the
 * standby has replayed everything sent (or before its first reply).
 */
static uint64
lim_measure_replay_lag(void)
{
	uint64		max = LIM_LAG_NONE;

	if (WalSndCtl == NULL)
		return max;
	for (int i = 0; i < max_wal_senders; i++)
	{
		WalSnd	   *walsnd = &WalSndCtl->walsnds[i];
		pid_t		pid;
		WalSndState state;
		TimeOffset	lag;
		bool		logical;

		SpinLockAcquire(&walsnd->mutex);
		pid = walsnd->pid;
		state = walsnd->state;
		lag = walsnd->applyLag;
		logical = HYGIENE_WALSND_LOGICAL_LOCKED(walsnd);
		SpinLockRelease(&walsnd->mutex);
		if (pid == 0 || state != WALSNDSTATE_STREAMING || lag < 0 || logical)
			continue;
		if (HYGIENE_WALSND_LOGICAL_PID(pid))
			continue;
		if (max == LIM_LAG_NONE || (uint64) lag > max)
			max = (uint64) lag;
	}
	return max;
}

/*
 * The replay lag, measured at most every LIM_LAG_INTERVAL_US for the whole
 * instance: the first caller that finds the cached value stale claims the
 * refresh; the others use the cached value meanwhile.
 */
static uint64
lim_replay_lag_us(TimestampTz now)
{
	uint64		at;
	uint64		lag;

	if (lim_lag == NULL)
		return LIM_LAG_NONE;
	at = pg_atomic_read_u64(&lim_lag->checked_at);
	if (at != 0 && (TimestampTz) at <= now &&
		now - (TimestampTz) at < LIM_LAG_INTERVAL_US)
		return pg_atomic_read_u64(&lim_lag->lag_us);
	if (!pg_atomic_compare_exchange_u64(&lim_lag->checked_at, &at, (uint64) now))
		return pg_atomic_read_u64(&lim_lag->lag_us);
	lag = lim_measure_replay_lag();
	pg_atomic_write_u64(&lim_lag->lag_us, lag);
	return lag;
}

/* The share of a write budget in force at a replay lag (µs). */
static double
lim_scale_for_lag(uint64 lag)
{
	int64		limit_us = (int64) lim_wal_budget_replay_lag * 1000;

	if (limit_us <= 0 || lag == LIM_LAG_NONE || lag <= (uint64) limit_us)
		return 1.0;
	return Max((double) limit_us / (double) lag, LIM_WAL_SCALE_FLOOR);
}

/*
 * The share of their budget that write budgets have now (1 = all of it):
 * below 1 only while pg_hygiene.wal_budget_replay_lag is set and the replay
 * lag exceeds it.
 */
double
lim_wal_budget_scale(TimestampTz now)
{
	if (lim_wal_budget_replay_lag <= 0)
		return 1.0;
	return lim_scale_for_lag(lim_replay_lag_us(now));
}

/*
 * hygiene._wal_budget_lag(): the replay lag the write budgets follow (NULL
 * when no streaming physical standby reports one) and the share of their
 * budget they have now.  Refreshes a stale measurement, also while the
 * setting is off, so that the lag can be watched before it is switched on.
 */
Datum
hygiene_wal_budget_lag(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false};
	uint64		lag;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	lag = lim_replay_lag_us(GetCurrentTimestamp());
	if (lag == LIM_LAG_NONE)
		nulls[0] = true;
	else
		values[0] = Float8GetDatum((double) lag / USECS_PER_SEC);
	values[1] = Float8GetDatum(lim_scale_for_lag(lag));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Start charging from the current WAL position, if not yet doing so. */
static void
lim_wal_begin(void)
{
	if (!lim_wal_mark_valid)
	{
		lim_wal_mark = pgWalUsage.wal_bytes;
		lim_wal_mark_valid = true;
	}
}

/* Charge the WAL written since the last charge to the role's clock. */
void
lim_wal_charge(void)
{
	LimRole    *role;
	uint64		delta;
	TimestampTz now;
	TimestampTz clock;
	uint64		old_clock;
	double		cost_us;
	int			rate = lim_max_wal_bytes_per_second;

	if (!lim_wal_mark_valid || rate <= 0)
		return;
	delta = pgWalUsage.wal_bytes - lim_wal_mark;
	if (delta == 0)
		return;
	lim_wal_mark += delta;
	role = lim_role_entry();
	if (role == NULL)
		return;
	now = GetCurrentTimestamp();
	cost_us = (double) delta * 1000000.0 / (rate * lim_wal_budget_scale(now));
	old_clock = pg_atomic_read_u64(&role->wal_clock);
	do
	{
		clock = Max((TimestampTz) old_clock, now - LIM_WAL_BURST_US);
		clock += (TimestampTz) cost_us;
	} while (!pg_atomic_compare_exchange_u64(&role->wal_clock, &old_clock,
											 (uint64) clock));
	SpinLockAcquire(&role->mutex);
	role->wal_bytes += delta;
	SpinLockRelease(&role->mutex);
}

/*
 * Sleep until the role's WAL clock, if it is ahead of now.  The time slept is
 * accumulated in a static (safe across the longjmp of a cancel) and added to
 * the role's statistics however the sleep ends.
 */
static void
lim_wal_pay(void)
{
	LimRole    *role = lim_role_entry();
	TimestampTz clock;

	if (role == NULL)
		return;
	clock = (TimestampTz) pg_atomic_read_u64(&role->wal_clock);
	/* the statement's start is in the past: no clock read when no debt is due */
	if (clock <= GetCurrentStatementStartTimestamp() || clock <= GetCurrentTimestamp())
		return;
	lim_wal_slept = 0;
	hygiene_wait_begin(HYGIENE_WAIT_WAL_BUDGET, clock, 0, 0);
	PG_TRY();
	{
		lim_sleep_until(clock, &lim_wal_slept, HYGIENE_WE_WAL_BUDGET);
	}
	PG_FINALLY();
	{
		hygiene_wait_end();
		SpinLockAcquire(&role->mutex);
		role->throttle_us += lim_wal_slept;
		SpinLockRelease(&role->mutex);
	}
	PG_END_TRY();
}

/*
 * Start of a client statement under a budget: charge what is left over, and
 * pay the role's debt first when waiting is safe, as for admission: the
 * statement is the first of its transaction and holds no xid, so that it
 * holds no lock but its own relation locks.  Later statements of a
 * transaction do not stall at their start for debt made by others; they pay
 * for their own writes row by row, and any debt left is paid by the next
 * statement that may wait.
 */
void
lim_wal_statement_start(void)
{
	lim_wal_begin();
	lim_wal_charge();
	if (!lim_xact_dirty && !TransactionIdIsValid(GetTopTransactionIdIfAny()))
		lim_wal_pay();
}

/*
 * Replacement ExecProcNodeReal of a wrapped node (the top node of a
 * statement, and ModifyTable subplans): charge every 8kB, and pay for it
 * while a client request runs; work run at COMMIT (deferred triggers, no
 * client request) is charged but never stalled.
 */
static TupleTableSlot *
lim_wal_exec_node(PlanState *node)
{
	int			i;

	if (lim_wal_mark_valid && lim_max_wal_bytes_per_second > 0 &&
		pgWalUsage.wal_bytes - lim_wal_mark >= LIM_WAL_CHUNK)
	{
		lim_wal_charge();
		if (hygiene_in_client_request())
			lim_wal_pay();
	}
	for (i = lim_nwrapped - 1; i >= 0; i--)
	{
		if (lim_wrapped[i].node == node)
			return lim_wrapped[i].orig(node);
	}
	elog(ERROR, "pg_hygiene: wrapped plan node not found");
	return NULL;				/* keep compiler quiet */
}

/* Forget a wrapped node (its query is ending). */
void
lim_wal_unwrap(PlanState *node)
{
	int			i;

	for (i = lim_nwrapped - 1; i >= 0; i--)
	{
		if (lim_wrapped[i].node == node)
		{
			lim_wrapped[i] = lim_wrapped[lim_nwrapped - 1];
			lim_nwrapped--;
			return;
		}
	}
}

/* Reset callback of es_query_cxt: unwrap this query's nodes. */
static void
lim_wal_query_done(void *arg)
{
	LimWrapCb  *cb = (LimWrapCb *) arg;
	int			i;

	for (i = 0; i < cb->n; i++)
		lim_wal_unwrap(cb->nodes[i]);
}

/* Collect the ModifyTable subplans of a plan state tree. */
static bool
lim_find_modify(PlanState *ps, void *context)
{
	List	  **found = (List **) context;

	if (ps == NULL)
		return false;
	if (IsA(ps, ModifyTableState) && outerPlanState(ps) != NULL)
		*found = lappend(*found, outerPlanState(ps));
	return planstate_tree_walker(ps, lim_find_modify, context);
}

/*
 * After ExecutorStart: wrap the top node and each ModifyTable subplan so that
 * WAL is charged row by row, also where rows are written by the statement's
 * destination (CREATE TABLE AS, SELECT INTO, REFRESH MATERIALIZED VIEW) or by
 * functions it calls, instead of in one burst at the end.
 */
void
lim_wal_wrap_plan(QueryDesc *queryDesc)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	List	   *found = NIL;
	int			nfound;
	LimWrapCb  *cb;
	MemoryContext cxt = queryDesc->estate->es_query_cxt;

	lim_wal_begin();
	if (queryDesc->planstate == NULL)
		return;

	/*
	 * ModifyTable nodes exist only in a writing statement or one with a
	 * data-modifying CTE: a plain read wraps its top node alone, without
	 * walking the tree.
	 */
	if (stmt->commandType == CMD_SELECT && !stmt->hasModifyingCTE)
		nfound = 1;
	else
	{
		(void) lim_find_modify(queryDesc->planstate, &found);
		nfound = 1 + list_length(found);
	}

	cb = MemoryContextAllocZero(cxt, offsetof(LimWrapCb, nodes) +
								sizeof(PlanState *) * nfound);
	for (int i = 0; i < nfound && lim_nwrapped < LIM_MAX_WRAPPED; i++)
	{
		/* the top node first, then the ModifyTable subplans */
		PlanState  *sub = i == 0 ? queryDesc->planstate :
			(PlanState *) list_nth(found, i - 1);

		/* past LIM_MAX_WRAPPED: charged at ExecutorEnd instead */
		lim_wrapped[lim_nwrapped].node = sub;
		lim_wrapped[lim_nwrapped].orig = sub->ExecProcNodeReal;
		lim_nwrapped++;
		sub->ExecProcNodeReal = lim_wal_exec_node;
		cb->nodes[cb->n++] = sub;
	}
	list_free(found);
	cb->cb.func = lim_wal_query_done;
	cb->cb.arg = cb;
	MemoryContextRegisterResetCallback(cxt, &cb->cb);
}
