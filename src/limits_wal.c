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
 * IDENTIFICATION
 *	  src/limits_wal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "nodes/nodeFuncs.h"
#include "tcop/pquery.h"
#include "utils/memutils.h"

#include "pg_hygiene.h"
#include "limits_common.h"
#include "waits.h"

/* Charge and pay every this many WAL bytes inside a statement. */
#define LIM_WAL_CHUNK		8192
/* Idle credit: a role may write this much of its budget at once (µs). */
#define LIM_WAL_BURST_US	100000
/* Most ModifyTable nodes wrapped at once in one backend (nested statements). */
#define LIM_MAX_WRAPPED		64

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
	old_clock = pg_atomic_read_u64(&role->wal_clock);
	do
	{
		clock = Max((TimestampTz) old_clock, now - LIM_WAL_BURST_US);
		clock += (TimestampTz) ((double) delta * 1000000.0 / rate);
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
