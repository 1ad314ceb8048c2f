/*-------------------------------------------------------------------------
 *
 * limits.c
 *		Per-role statement and priority limits (design §2): the GUCs, the
 *		executor/planner/utility hooks, the timeout ceilings a user cannot
 *		lift, and the plan caps.  Admission (concurrency caps, priority queue,
 *		rate limit) is in limits_admit.c, the write budget in limits_wal.c.
 *
 * Policy is a set of PGC_SUSET GUCs, normally set with ALTER ROLE/DATABASE
 * ... SET, so the values are resolved once per session and the hot path only
 * compares integers: when no limit applies to the session nothing else
 * happens (no lock, no catalog lookup, no allocation, no PG_TRY).
 *
 * Admission happens in ExecutorStart of top-level statements, and for the
 * top-level utility statements that run queries: DO, CALL, EXECUTE, CREATE
 * TABLE AS / SELECT INTO, EXPLAIN ANALYZE and COPY are admitted in
 * ProcessUtility before they run, and the queries they run share their slot;
 * DECLARE CURSOR admits the query it opens, which holds the slot until the
 * cursor is closed.  Other utility statements (DDL above all) are never
 * counted.  lim_xact_dirty records whether an earlier statement of the
 * transaction ran (and so may hold locks): only a statement that is the first
 * of its transaction may wait for a slot.
 *
 * Ceilings: after each top-level statement the session's statement_timeout
 * and idle_in_transaction_session_timeout are lowered to the ceilings when
 * they are off or above them (core then arms its own timers); for the
 * statement already running, STATEMENT_TIMEOUT is armed here at execution
 * start and disarmed when it ends.
 *
 * IDENTIFICATION
 *	  src/limits.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <limits.h>

#include "access/xact.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/geqo.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "log_rate.h"
#include "pg_hygiene.h"
#include "limits_common.h"

/* GUCs (the admission ones are shared with limits_admit.c) */
int			lim_priority = LIM_PRIO_NORMAL;
int			lim_max_active_statements = 0;
int			lim_max_active_total = 0;
int			lim_max_statements_per_second = 0;
int			lim_max_wal_bytes_per_second = 0;
int			lim_wal_budget_replay_lag = 0;
static int	lim_statement_timeout_max = 0;
static int	lim_idle_timeout_max = 0;
static int	lim_max_join_rels = 0;
static double lim_max_plan_cost = 0;
int			lim_queue_timeout = 5000;
bool		lim_exempt_superusers = true;
bool		lim_exempt_background = true;
int			lim_max_tracked_roles = 1000;
int			lim_test_slot_pause = 0;

/* Backend state */
bool		lim_xact_dirty = false;	/* an earlier statement of this xact ran */

/*
 * What lim_clamp_ceilings last wrote into each timeout, and what was there
 * before, so that a ceiling lowered or removed while the session runs (a
 * role setting reaching an open session, see policy.c) gives the session
 * its own value back instead of leaving the old ceiling in place.
 */
typedef struct LimClamp
{
	bool		active;
	int			before;
	int			after;
} LimClamp;
static LimClamp lim_st_clamp;
static LimClamp lim_it_clamp;
static bool lim_ceiling_changed = true; /* a ceiling GUC was assigned */

/* Is there clamping (or undoing of it) to do after a statement? */
#define LIM_CEILING_WORK() \
	(lim_statement_timeout_max > 0 || lim_idle_timeout_max > 0 || lim_ceiling_changed)
static bool lim_admit_cursor = false;	/* admit the query a DECLARE opens */
static bool lim_timer_armed = false;	/* we armed STATEMENT_TIMEOUT */

static planner_hook_type prev_planner_hook = NULL;
static join_search_hook_type prev_join_search_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Transaction end: the next statement starts with no locks held. */
static void
lim_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			lim_xact_dirty = false;

			/*
			 * A COMMIT or ROLLBACK inside a procedure or DO block, and the
			 * internal commits of VACUUM or CREATE INDEX CONCURRENTLY, end a
			 * transaction while the statement we armed the ceiling for still
			 * runs: its PG_FINALLY disarms it.  Only with nothing on the
			 * stack is a timer still marked armed stale.
			 */
			if (lim_timer_armed && hygiene_exec_nesting_level == 0)
			{
				disable_timeout(STATEMENT_TIMEOUT, false);
				lim_timer_armed = false;
			}
			/* WAL written by a failed statement is charged too */
			if (event == XACT_EVENT_ABORT && lim_max_wal_bytes_per_second > 0 &&
				HYGIENE_ACTIVE())
				lim_wal_charge();
			break;
		default:
			break;
	}
}

/* Does any admission limit (concurrency or rate) apply to this session? */
static inline bool
lim_admission_applies(void)
{
	return lim_max_active_statements > 0 || lim_max_active_total > 0 ||
		lim_max_statements_per_second > 0;
}

/* Does any ceiling apply that the current settings exceed? */
static inline bool
lim_ceiling_violated(void)
{
	return (lim_statement_timeout_max > 0 &&
			(StatementTimeout == 0 || StatementTimeout > lim_statement_timeout_max)) ||
		(lim_idle_timeout_max > 0 &&
		 (IdleInTransactionSessionTimeout == 0 ||
		  IdleInTransactionSessionTimeout > lim_idle_timeout_max));
}

/*
 * Arm STATEMENT_TIMEOUT for the statement ceiling when the session's own
 * statement_timeout is off or longer, unless a nearer deadline is armed.
 * Returns true if we armed it (the caller then disarms it).
 */
static bool
lim_arm_ceiling(void)
{
	TimestampTz fin;

	if (lim_timer_armed || lim_statement_timeout_max <= 0)
		return false;
	if (StatementTimeout > 0 && StatementTimeout <= lim_statement_timeout_max)
		return false;
	if (!HYGIENE_ACTIVE() || lim_exempt())
		return false;
	fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), lim_statement_timeout_max);
	if (get_timeout_active(STATEMENT_TIMEOUT) &&
		get_timeout_finish_time(STATEMENT_TIMEOUT) <= fin)
		return false;
	enable_timeout_after(STATEMENT_TIMEOUT, lim_statement_timeout_max);
	lim_timer_armed = true;
	return true;
}

/* Disarm the timer lim_arm_ceiling armed. */
static void
lim_disarm_ceiling(void)
{
	if (lim_timer_armed)
	{
		disable_timeout(STATEMENT_TIMEOUT, false);
		lim_timer_armed = false;
	}
}

/*
 * After a top-level statement: lower statement_timeout and
 * idle_in_transaction_session_timeout to their ceilings when the session's
 * values are off or above them, so that core arms them for the next
 * statement and for idle time, and SHOW reports the effective value.
 */
static void
lim_clamp_ceilings(void)
{
	/* a value set since our clamp is the session's own: nothing to undo */
	if (lim_st_clamp.active && StatementTimeout != lim_st_clamp.after)
		lim_st_clamp.active = false;
	if (lim_it_clamp.active && IdleInTransactionSessionTimeout != lim_it_clamp.after)
		lim_it_clamp.active = false;
	/* a ceiling changed: give back what the clamp replaced, then clamp anew */
	if (lim_ceiling_changed)
	{
		lim_ceiling_changed = false;
		if (lim_st_clamp.active)
			StatementTimeout = lim_st_clamp.before;
		if (lim_it_clamp.active)
			IdleInTransactionSessionTimeout = lim_it_clamp.before;
		lim_st_clamp.active = lim_it_clamp.active = false;
	}
	if (!lim_ceiling_violated() || !HYGIENE_ACTIVE() || lim_exempt())
		return;
	if (lim_statement_timeout_max > 0 &&
		(StatementTimeout == 0 || StatementTimeout > lim_statement_timeout_max))
	{
		lim_st_clamp.before = StatementTimeout;
		lim_st_clamp.after = StatementTimeout = lim_statement_timeout_max;
		lim_st_clamp.active = true;
	}
	if (lim_idle_timeout_max > 0 &&
		(IdleInTransactionSessionTimeout == 0 ||
		 IdleInTransactionSessionTimeout > lim_idle_timeout_max))
	{
		lim_it_clamp.before = IdleInTransactionSessionTimeout;
		lim_it_clamp.after = IdleInTransactionSessionTimeout = lim_idle_timeout_max;
		lim_it_clamp.active = true;
	}
}

/* Assign hook of the ceilings: the next clamp first undoes the last one. */
static void
lim_assign_ceiling(int newval, void *extra)
{
	lim_ceiling_changed = true;
}

/* Count the relations joined in one FROM clause (views and FROM subqueries included). */
static int
lim_count_from(Query *q, Node *jtnode)
{
	if (jtnode == NULL)
		return 0;
	if (IsA(jtnode, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) jtnode)->rtindex, q->rtable);

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL &&
			rte->subquery->setOperations == NULL)
			return Max(1, lim_count_from(rte->subquery,
										 (Node *) rte->subquery->jointree));
		return 1;
	}
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;
		int			n = 0;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			n += lim_count_from(q, lfirst(lc));
		return n;
	}
	if (IsA(jtnode, JoinExpr))
		return lim_count_from(q, ((JoinExpr *) jtnode)->larg) +
			lim_count_from(q, ((JoinExpr *) jtnode)->rarg);
	return 0;
}

/* The largest join problem of a query: its FROM clause, CTEs and set-operation branches. */
static int
lim_count_join_rels(Query *q)
{
	int			n = lim_count_from(q, (Node *) q->jointree);
	ListCell   *lc;

	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

		if (IsA(cte->ctequery, Query))
			n = Max(n, lim_count_join_rels((Query *) cte->ctequery));
	}
	if (q->setOperations != NULL)
	{
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
				n = Max(n, lim_count_join_rels(rte->subquery));
		}
	}
	return n;
}

/* Reject a query that joins n relations, more than max_join_rels. */
static void
lim_reject_join_rels(int n)
{
	lim_count_reject(lim_role_entry(), LIM_REJECT_JOIN_RELS);
	log_rate_reject(ERRCODE_HYGIENE_JOIN_RELS, 0, "limit max_join_rels");
	ereport(ERROR,
			(errcode(ERRCODE_HYGIENE_JOIN_RELS),
			 errmsg("pg_hygiene: query joins %d relations, more than the %d allowed", n,
					lim_max_join_rels),
			 errdetail("pg_hygiene.max_join_rels is %d for this role.",
					   lim_max_join_rels),
			 errhint("Split the query or fetch related rows in separate queries; retrying the same statement will fail again.")));
}

/*
 * Planner hook: reject queries joining more relations than max_join_rels,
 * before planning, as far as the query tree shows them.  SQL functions and
 * CTEs the planner inlines are counted by lim_join_search.
 */
static PlannedStmt *
lim_planner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	if (lim_max_join_rels > 0 && parse->commandType != CMD_UTILITY &&
		HYGIENE_ACTIVE())
	{
		int			n = lim_count_join_rels(parse);

		if (n > lim_max_join_rels && !lim_exempt())
			lim_reject_join_rels(n);
	}
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/*
 * The relations of one query level's join problem as the planner sees it:
 * after it has pulled up subqueries and sublinks and inlined set-returning
 * SQL functions and CTEs, before it removes useless joins; partitions and
 * inheritance children are not relations of the join.
 */
static int
lim_count_base_rels(PlannerInfo *root, Node *jtnode)
{
	/*
	 * The leaves of the query's join tree, which the planner has rewritten
	 * by now but which join removal leaves alone (it drops a removed
	 * relation's RelOptInfo from 16 on, so the relation arrays cannot tell).
	 */
	if (jtnode == NULL)
		return 0;
	if (IsA(jtnode, RangeTblRef))
		return rt_fetch(((RangeTblRef *) jtnode)->rtindex,
						root->parse->rtable)->rtekind != RTE_RESULT;
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;
		int			n = 0;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			n += lim_count_base_rels(root, lfirst(lc));
		return n;
	}
	if (IsA(jtnode, JoinExpr))
		return lim_count_base_rels(root, ((JoinExpr *) jtnode)->larg) +
			lim_count_base_rels(root, ((JoinExpr *) jtnode)->rarg);
	return 0;
}

/*
 * Join search hook: the join size the planner really faces (see
 * lim_count_base_rels), checked before the search.  Then the search core
 * would have run: the previous hook's, else GEQO above its threshold, else
 * the standard one.
 */
static RelOptInfo *
lim_join_search(PlannerInfo *root, int levels_needed, List *initial_rels)
{
	if (lim_max_join_rels > 0 && HYGIENE_ACTIVE())
	{
		int			n = lim_count_base_rels(root, (Node *) root->parse->jointree);

		if (n > lim_max_join_rels && !lim_exempt())
			lim_reject_join_rels(n);
	}
	if (prev_join_search_hook)
		return prev_join_search_hook(root, levels_needed, initial_rels);
	if (enable_geqo && levels_needed >= geqo_threshold)
		return geqo(root, levels_needed, initial_rels);
	return standard_join_search(root, levels_needed, initial_rels);
}

/* ExecutorStart hook: plan cost cap, write-budget debt, admission. */
static void
lim_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	/* client statements only: never work run at COMMIT or at plan time */
	bool		top = HYGIENE_CLIENT_START();
	bool		cursor = lim_admit_cursor && hygiene_exec_nesting_level == 1 &&
		hygiene_start_nesting_level == 1 && hygiene_plan_nesting_level == 0;
	bool		explain_only = (eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0;
	bool		admission = (top || cursor) && !explain_only &&
		lim_admission_applies();
	bool		wal = !explain_only && lim_max_wal_bytes_per_second > 0;

	if ((admission || wal || lim_max_plan_cost > 0) && HYGIENE_ACTIVE())
	{
		/*
		 * Plan caps: reject before the executor initialises anything; never
		 * work run at COMMIT (no portal, not planning), which would refuse
		 * the COMMIT.
		 */
		if (lim_max_plan_cost > 0 && !explain_only && !HYGIENE_COMMIT_WORK() &&
			queryDesc->plannedstmt->planTree != NULL &&
			queryDesc->plannedstmt->planTree->total_cost > lim_max_plan_cost &&
			!lim_exempt())
		{
			lim_count_reject(lim_role_entry(), LIM_REJECT_PLAN_COST);
			log_rate_reject(ERRCODE_HYGIENE_PLAN_COST, 0, "limit max_plan_cost");
			ereport(ERROR,
					(errcode(ERRCODE_HYGIENE_PLAN_COST),
					 errmsg("pg_hygiene: plan cost %.0f exceeds the limit of %.0f",
							queryDesc->plannedstmt->planTree->total_cost,
							lim_max_plan_cost),
					 errdetail("pg_hygiene.max_plan_cost is %g for this role.",
							   lim_max_plan_cost),
					 errhint("Add a selective condition or an index (EXPLAIN shows the cost); retrying the same statement will fail again.")));
		}
		if (wal && top && !lim_exempt())
			lim_wal_statement_start();
	}
	else
	{
		admission = false;
		wal = false;
	}
	if (top || cursor)
		lim_admit_cursor = false;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (admission)
		lim_admit_statement(queryDesc);
	if (wal && !lim_exempt())
		lim_wal_wrap_plan(queryDesc);
	if (top)
		lim_xact_dirty = true;
}

/* ExecutorRun hook: arm the statement ceiling for a top-level statement. */
static void
lim_ExecutorRun(HYGIENE_EXECUTOR_RUN_PARAMS)
{
	bool		armed = false;

	if (lim_statement_timeout_max > 0 && hygiene_exec_nesting_level == 1)
		armed = lim_arm_ceiling();
	if (!armed)
	{
		/* the common case: no PG_TRY on the hot path */
		if (prev_ExecutorRun)
			prev_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
	}
	else
	{
		PG_TRY();
		{
			if (prev_ExecutorRun)
				prev_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
			else
				standard_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
		}
		PG_FINALLY();
		{
			lim_disarm_ceiling();
		}
		PG_END_TRY();
	}

	/*
	 * Clamp the timeouts here too, not only at ExecutorEnd: the portal of an
	 * extended-protocol Execute stays open (no ExecutorEnd) until the next
	 * Bind, Close or the end of the transaction, and the session may go idle
	 * in between, with a set_config() made by this statement.
	 */
	if (LIM_CEILING_WORK() &&
		HYGIENE_CLIENT_TOP())
		lim_clamp_ceilings();
}

/* ExecutorFinish hook: AFTER triggers run under the ceiling too. */
static void
lim_ExecutorFinish(QueryDesc *queryDesc)
{
	bool		armed = false;

	if (lim_statement_timeout_max > 0 && hygiene_exec_nesting_level == 1)
		armed = lim_arm_ceiling();
	if (!armed)
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
		return;
	}
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		lim_disarm_ceiling();
	}
	PG_END_TRY();
}

/* ExecutorEnd hook: charge the statement's WAL, then clamp the timeouts. */
static void
lim_ExecutorEnd(QueryDesc *queryDesc)
{
	if (lim_max_wal_bytes_per_second > 0 && HYGIENE_ACTIVE())
		lim_wal_charge();

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);

	if (hygiene_exec_nesting_level == 0 &&
		LIM_CEILING_WORK() &&
		IsTransactionState())
		lim_clamp_ceilings();
}

/*
 * Does this utility statement run queries that admission should count (see
 * the file header)?  EXPLAIN only with ANALYZE.
 */
static bool
lim_utility_runs_queries(Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_DoStmt:
		case T_CallStmt:
		case T_ExecuteStmt:
		case T_CreateTableAsStmt:
		case T_CopyStmt:
			return true;
		case T_ExplainStmt:
			{
				bool		analyze = false;

				/* as ExplainQuery reads them: the last occurrence wins */
				foreach(lc, ((ExplainStmt *) stmt)->options)
				{
					DefElem    *opt = (DefElem *) lfirst(lc);

					if (strcmp(opt->defname, "analyze") == 0)
						analyze = defGetBoolean(opt);
				}
				return analyze;
			}
		case T_RefreshMatViewStmt:
			/* runs the view's query, with whatever functions it calls */
			return true;
		default:
			return false;
	}
}

/*
 * ProcessUtility hook: admission of the utility statements that run queries,
 * ceilings and write budget for all of them.  Transaction control gets no
 * work before it runs (ROLLBACK may run in an aborted transaction, where no
 * catalog may be read), only the clamp afterwards while the transaction is
 * still valid (so that a BEGIN that is followed by idle time is already under
 * the idle ceiling).
 */
static void
lim_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	bool		top = HYGIENE_CLIENT_TOP();
	Node	   *stmt = pstmt->utilityStmt;
	bool		txn_stmt = IsA(stmt, TransactionStmt);
	bool		lockless = txn_stmt || IsA(stmt, VariableSetStmt) ||
		IsA(stmt, VariableShowStmt);
	bool		admitted = false;
	bool		armed = false;
	bool		wal = false;

	if (top)
		lim_admit_cursor = false;
	if (top && !txn_stmt && IsTransactionState())
	{
		/* WAL debt first, as for other statements: no slot is held while paying */
		if (lim_max_wal_bytes_per_second > 0 && HYGIENE_ACTIVE() && !lim_exempt())
		{
			wal = true;
			lim_wal_statement_start();
		}
		if (lim_admission_applies() && HYGIENE_ACTIVE())
		{
			if (IsA(stmt, DeclareCursorStmt))
				lim_admit_cursor = true;
			else if (lim_utility_runs_queries(stmt))
			{
				lim_admit_utility();	/* may wait, or error out */
				admitted = true;
			}
		}
		if (lim_statement_timeout_max > 0 && !lockless)
			armed = lim_arm_ceiling();
	}

	if (!armed && !admitted)
	{
		hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
									readOnlyTree, context, params, queryEnv,
									dest, qc);
	}
	else
	{
		PG_TRY();
		{
			hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
										readOnlyTree, context, params, queryEnv,
										dest, qc);
		}
		PG_FINALLY();
		{
			if (armed)
				lim_disarm_ceiling();
			if (admitted)
				lim_utility_done();
		}
		PG_END_TRY();
	}

	if (top)
	{
		lim_admit_cursor = false;
		if (wal)
			lim_wal_charge();
		if (!lockless)
			lim_xact_dirty = true;
		if (LIM_CEILING_WORK() &&
			IsTransactionState())
			lim_clamp_ceilings();
	}
}

/* Check hook: a write budget below 8kB/s is a mistake, not a policy. */
static bool
lim_check_wal_budget(int *newval, void **extra, GucSource source)
{
	if (*newval > 0 && *newval < 8192)
	{
		GUC_check_errdetail("pg_hygiene.max_wal_bytes_per_second must be 0 (no budget) or at least 8kB; a single WAL page is 8kB.");
		return false;
	}
	return true;
}

/* Check hook: ceilings below 100 ms would make every statement fail. */
static bool
lim_check_ceiling(int *newval, void **extra, GucSource source)
{
	if (*newval > 0 && *newval < 100)
	{
		GUC_check_errdetail("A timeout ceiling must be 0 (no ceiling) or at least 100 ms.");
		return false;
	}
	return true;
}

/* Define the GUCs and install the hooks; called from _PG_init. */
void
limits_init(void)
{
	DefineCustomEnumVariable("pg_hygiene.priority",
							 "Priority class of this role's statements under pg_hygiene.max_active_total.",
							 "critical never waits; high, normal and low queue in that order; background is shed (rejected) rather than queued when the instance cap is reached.",
							 &lim_priority, LIM_PRIO_NORMAL, lim_priority_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.max_active_statements",
							"Maximum number of concurrently executing statements of a role, across its sessions.",
							"0 means no limit.  Utility statements are not counted.",
							&lim_max_active_statements, 0, 0, MAX_BACKENDS,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.max_active_total",
							"Maximum number of concurrently executing statements in the instance.",
							"0 means no limit.  Counts the statements of every session where it is set; set it in postgresql.conf so that all sessions take part.",
							&lim_max_active_total, 0, 0, MAX_BACKENDS,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.max_statements_per_second",
							"Maximum statement rate of a role (token bucket shared by its sessions).",
							"0 means no limit.  Bursts up to one second's worth of statements.",
							&lim_max_statements_per_second, 0, 0, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.max_wal_bytes_per_second",
							"WAL write budget of a role: its sessions are slowed, never failed, to stay under it.",
							"0 means no budget; otherwise at least 8kB.",
							&lim_max_wal_bytes_per_second, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_BYTE, lim_check_wal_budget, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.wal_budget_replay_lag",
							"Replay lag of the streaming standbys above which write budgets (pg_hygiene.max_wal_bytes_per_second) tighten.",
							"0 (the default) means never.  Above it, budgets are scaled by this lag divided by the largest replay lag of the physical standbys, never below a tenth.",
							&lim_wal_budget_replay_lag, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.statement_timeout_max",
							"Ceiling on statement_timeout that the user cannot raise or disable.",
							"0 means no ceiling; otherwise at least 100 ms.",
							&lim_statement_timeout_max, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, lim_check_ceiling, lim_assign_ceiling, NULL);
	DefineCustomIntVariable("pg_hygiene.idle_in_transaction_timeout_max",
							"Ceiling on idle_in_transaction_session_timeout that the user cannot raise or disable.",
							"0 means no ceiling; otherwise at least 100 ms.",
							&lim_idle_timeout_max, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, lim_check_ceiling, lim_assign_ceiling, NULL);
	DefineCustomIntVariable("pg_hygiene.max_join_rels",
							"Maximum number of relations in one join problem (also after the planner inlines SQL functions and CTEs); larger queries are rejected before the join search.",
							"0 means no limit.",
							&lim_max_join_rels, 0, 0, 10000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("pg_hygiene.max_plan_cost",
							 "Maximum planner total cost of a statement; costlier plans are rejected before execution.",
							 "0 means no limit.  EXPLAIN without ANALYZE is never rejected, so it shows the cost.",
							 &lim_max_plan_cost, 0, 0, DBL_MAX,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.queue_timeout",
							"How long a statement may wait for a slot or a rate token before it is rejected.",
							"0 means never wait: reject at once.",
							&lim_queue_timeout, 5000, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_hygiene.exempt_superusers",
							 "Superuser sessions are counted but never delayed or rejected by pg_hygiene limits.",
							 NULL,
							 &lim_exempt_superusers, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pg_hygiene.exempt_background",
							 "Background and replication processes are counted but never delayed or rejected by pg_hygiene limits.",
							 NULL,
							 &lim_exempt_background, true,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.max_tracked_roles",
							"Number of roles whose limits and statistics shared memory can hold.",
							"Roles beyond it run without per-role limits (logged once per session).",
							&lim_max_tracked_roles, 1000, 16, 1000000,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_hygiene.test_slot_pause",
							"Developer option: pause while a session holds a role count it may still take back.",
							"For tests only (test/t/207_limits_role_total.pl): an admission under an instance cap sleeps this long after raising its role's count and before taking an instance slot, without taking interrupts.  0 (the default) never pauses.",
							&lim_test_slot_pause, 0, 0, 10000,
							PGC_SUSET, GUC_UNIT_MS | GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							NULL, NULL, NULL);

	lim_admit_init();
	lim_wal_init();
	prev_planner_hook = planner_hook;
	planner_hook = lim_planner;
	prev_join_search_hook = join_search_hook;
	join_search_hook = lim_join_search;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = lim_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = lim_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = lim_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = lim_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = lim_ProcessUtility;

	RegisterXactCallback(lim_xact_callback, NULL);
}

