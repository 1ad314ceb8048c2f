/*-------------------------------------------------------------------------
 *
 * pg_hygiene.c
 *		Entry point: _PG_init, the GUCs shared by every module, and the
 *		hooks that track executor and planner nesting.
 *
 * pg_hygiene must be loaded through shared_preload_libraries: it needs shared
 * memory and must see every statement.  _PG_init refuses anything else.
 *
 * Hooks here only keep the nesting levels and count statements; each module
 * (see pg_hygiene.h) installs and chains its own hooks from its <concern>_init()
 * so that the modules stay independent.  The order of the *_init() calls in
 * _PG_init is the order the hooks run in, outermost last: keep shared memory
 * first.  Every hook saves the previous one and calls
 * "prev ? prev(...) : standard_...(...)" exactly once.
 *
 * IDENTIFICATION
 *	  src/pg_hygiene.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "optimizer/planner.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "extension_objects.h"
#include "pg_hygiene.h"
#include "log_rate.h"
#include "table_stats.h"
#include "ddl_guard.h"
#include "advice.h"
#include "noop_update.h"
#include "query_rules.h"
#include "limits_common.h"
#include "index_disable.h"
#include "waits.h"

PG_MODULE_MAGIC;

int			hygiene_exec_nesting_level = 0;
int			hygiene_plan_nesting_level = 0;
int			hygiene_start_nesting_level = 0;
bool		hygiene_debug = false;

static planner_hook_type prev_planner_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(hygiene_status);

/* Planner hook: count the planner's nesting depth. */
static PlannedStmt *
hygiene_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	PlannedStmt *result;

	hygiene_plan_nesting_level++;
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions,
									   boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions,
									  boundParams);
	}
	PG_FINALLY();
	{
		hygiene_plan_nesting_level--;
	}
	PG_END_TRY();

	return result;
}

/*
 * ExecutorStart hook: track its nesting; count client statements.
 *
 * No PG_TRY here (it would cost every statement a sigsetjmp): an error that
 * leaves this hook early is either caught by a subtransaction, whose abort
 * restores the level it started with, or ends the transaction, whose abort
 * resets it (hygiene_subxact_callback, hygiene_xact_callback).  Core catches
 * no error without a subtransaction.
 */
static void
hygiene_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	hygiene_start_nesting_level++;
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	if (HYGIENE_CLIENT_START() && HYGIENE_ACTIVE())
		hygiene_count_statement();
	hygiene_start_nesting_level--;
}

/*
 * ExecutorStart nesting level when each open subtransaction started, indexed
 * by the subtransaction's nesting level (grown on demand, in TopMemoryContext;
 * its size is the deepest subtransaction nesting the backend has seen).
 */
static int *hygiene_subxact_start_level = NULL;
static int	hygiene_subxact_start_cap = 0;

/* Subtransaction start and abort: keep and restore the ExecutorStart level. */
static void
hygiene_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			nest = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_START_SUB)
	{
		if (nest >= hygiene_subxact_start_cap)
		{
			int			newcap = Max(nest + 1, hygiene_subxact_start_cap * 2);

			newcap = Max(newcap, 16);
			if (hygiene_subxact_start_level == NULL)
				hygiene_subxact_start_level =
					MemoryContextAlloc(TopMemoryContext, newcap * sizeof(int));
			else
				hygiene_subxact_start_level =
					repalloc(hygiene_subxact_start_level, newcap * sizeof(int));
			hygiene_subxact_start_cap = newcap;
		}
		hygiene_subxact_start_level[nest] = hygiene_start_nesting_level;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB && nest < hygiene_subxact_start_cap)
		hygiene_start_nesting_level = hygiene_subxact_start_level[nest];
}

/* Transaction abort: no ExecutorStart is running any more. */
static void
hygiene_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		hygiene_start_nesting_level = 0;
}

/* ExecutorRun hook: track nesting so that modules can tell top level apart. */
static void
hygiene_ExecutorRun(HYGIENE_EXECUTOR_RUN_PARAMS)
{
	hygiene_exec_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(HYGIENE_EXECUTOR_RUN_ARGS);
	}
	PG_FINALLY();
	{
		hygiene_exec_nesting_level--;
	}
	PG_END_TRY();
}

/* ExecutorFinish hook: AFTER triggers run here, nested like ExecutorRun. */
static void
hygiene_ExecutorFinish(QueryDesc *queryDesc)
{
	hygiene_exec_nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		hygiene_exec_nesting_level--;
	}
	PG_END_TRY();
}

/* ExecutorEnd hook: pass through. */
static void
hygiene_ExecutorEnd(QueryDesc *queryDesc)
{
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/* ProcessUtility hook: utility statements nest like the executor. */
static void
hygiene_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	hygiene_exec_nesting_level++;
	PG_TRY();
	{
		hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
										readOnlyTree, context, params, queryEnv,
										dest, qc);
	}
	PG_FINALLY();
	{
		hygiene_exec_nesting_level--;
	}
	PG_END_TRY();
}

/* Module load: refuse unless preloaded, define GUCs, install hooks. */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_hygiene: the library must be loaded via shared_preload_libraries"),
				 errdetail("pg_hygiene needs shared memory and must see every statement from server start."),
				 errhint("Add pg_hygiene to shared_preload_libraries in postgresql.conf and restart the server.")));

	DefineCustomBoolVariable("pg_hygiene.debug",
							 "Emits a NOTICE for every pg_hygiene hook decision.",
							 "Meant for tests and troubleshooting; off in production.",
							 &hygiene_debug,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* Shared memory first: the other modules' hooks rely on it. */
	shmem_init();
	/* Extension members, not names, for every module (S1, S3). */
	extension_objects_init();

	/*
	 * Each module defines its GUCs and chains its hooks here.  A hook
	 * installed later runs earlier (it wraps the ones before it).
	 */
	table_stats_init();
	ddl_guard_init();
	advice_init();
	noop_update_init();
	query_rules_init();
	limits_init();
	index_disable_init();
	log_rate_init();
	/* outside the limits: they see role settings changed since login */
	policy_init();
	waits_init();

	MarkGUCPrefixReserved("pg_hygiene");

	RegisterXactCallback(hygiene_xact_callback, NULL);
	RegisterSubXactCallback(hygiene_subxact_callback, NULL);

	prev_planner_hook = planner_hook;
	planner_hook = hygiene_planner;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = hygiene_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = hygiene_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = hygiene_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = hygiene_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = hygiene_ProcessUtility;
}

/*
 * hygiene._status(): one row describing the loaded library, for the
 * hygiene.status view.
 */
Datum
hygiene_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = CStringGetTextDatum(HYGIENE_LIBRARY_VERSION);
	values[1] = BoolGetDatum(hygiene_shared_ready());
	if (hygiene_shared_ready())
		values[2] = TimestampTzGetDatum(hygiene_started_at());
	else
		nulls[2] = true;
	values[3] = Int64GetDatum((int64) hygiene_statements_seen());

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
