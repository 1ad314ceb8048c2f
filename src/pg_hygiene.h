/*-------------------------------------------------------------------------
 *
 * pg_hygiene.h
 *		Declarations shared by every pg_hygiene module.
 *
 * Each concern (shared memory, no-op updates, limits, DDL guard, advice) lives
 * in its own src/<concern>.c, exposes one <concern>_init() called from
 * _PG_init(), and installs and chains its own hooks there.  This file holds
 * what they share: the nesting depth of the executor and planner, the debug
 * switch, and the gate macro.
 *
 * IDENTIFICATION
 *	  src/pg_hygiene.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_HYGIENE_H
#define PG_HYGIENE_H

#include "postgres.h"

#include "access/parallel.h"
#include "miscadmin.h"
#include "tcop/pquery.h"
#include "utils/backend_status.h"
#include "tcop/utility.h"

#include "compat.h"

#define HYGIENE_LIBRARY_VERSION "0.3"

/*
 * Nesting depth of ExecutorRun/Finish/ProcessUtility and of the planner, kept
 * by pg_hygiene.c.  Its hooks are installed after every module's, so they are
 * the outermost: inside a module's ExecutorStart/ExecutorEnd hook a top-level
 * statement sees hygiene_exec_nesting_level == 0, inside a module's
 * ExecutorRun/ExecutorFinish/ProcessUtility hook it sees 1 (the current call
 * is already counted); likewise hygiene_plan_nesting_level is 1 inside a
 * module's planner hook for a top-level plan.
 */
extern int	hygiene_exec_nesting_level;
extern int	hygiene_plan_nesting_level;

/*
 * Nesting depth of ExecutorStart, kept likewise: 1 inside a module's
 * ExecutorStart hook for a statement whose start is not nested in another
 * ExecutorStart (initial partition pruning may call functions that run
 * queries), 0 elsewhere at top level.  Kept without a PG_TRY: after an
 * error, the abort of the (sub)transaction that catches it restores it (see
 * hygiene_ExecutorStart).
 */
extern int	hygiene_start_nesting_level;

/*
 * Is the current hook call (ExecutorStart: start_level 1; ExecutorRun,
 * ExecutorFinish or ProcessUtility: exec_level 1) the work of a statement a
 * client sent?  "Top level" is not nesting level 0: deferred triggers and
 * deferred foreign-key checks run at COMMIT outside any portal, and
 * functions folded while planning run before the statement's portal exists.
 * Both belong to the client statement that caused them and are never
 * admitted, counted or rejected on their own.  A client statement always
 * runs in a portal (ActivePortal), at no plan or executor nesting, except a
 * fast-path function call, told apart by its activity state (reported while
 * track_activities is on, which only a superuser can turn off).
 */
static inline bool
hygiene_in_client_request(void)
{
	/* a fast-path function call (PQfn) runs no portal */
	return ActivePortal != NULL ||
		(MyBEEntry != NULL && MyBEEntry->st_state == STATE_FASTPATH);
}

static inline bool
hygiene_client_level(int exec_level, int start_level)
{
	return hygiene_exec_nesting_level == exec_level &&
		hygiene_start_nesting_level == start_level &&
		hygiene_plan_nesting_level == 0 &&
		hygiene_in_client_request();
}

/*
 * Work run at COMMIT or PREPARE TRANSACTION (deferred triggers and
 * foreign-key checks) in a client backend: outside any client request and
 * not while planning.
 */
#define HYGIENE_COMMIT_WORK() \
	(MyBackendType == B_BACKEND && hygiene_plan_nesting_level == 0 && \
	 !hygiene_in_client_request())

/* Inside an ExecutorStart hook: is this a client statement's start? */
#define HYGIENE_CLIENT_START()		hygiene_client_level(0, 1)
/* Inside an ExecutorRun/ExecutorFinish/ProcessUtility hook: a client statement? */
#define HYGIENE_CLIENT_TOP()		hygiene_client_level(1, 0)

/* pg_hygiene.debug: NOTICE every hook decision (for tests). */
extern bool hygiene_debug;

/*
 * Gate for per-statement work: never in parallel workers (the leader decides
 * for them) and only once shared memory is attached.
 */
#define HYGIENE_ACTIVE() \
	(!IsParallelWorker() && hygiene_shared_ready())

/* Emit a debug NOTICE when pg_hygiene.debug is on. */
#define hygiene_debug_notice(...) \
	do { \
		if (hygiene_debug) \
			ereport(NOTICE, (errmsg_internal(__VA_ARGS__))); \
	} while (0)

/*
 * Run the rest of the ProcessUtility chain: the hook that was installed before
 * the caller's (saved in its prev_ProcessUtility), or the standard function.
 */
static inline void
hygiene_next_ProcessUtility(ProcessUtility_hook_type prev,
							PlannedStmt *pstmt, const char *queryString,
							bool readOnlyTree, ProcessUtilityContext context,
							ParamListInfo params, QueryEnvironment *queryEnv,
							DestReceiver *dest, QueryCompletion *qc)
{
	if (prev)
		prev(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* policy.c: role and database settings reaching open sessions */
extern void policy_init(void);

/* shmem.c */
extern void shmem_init(void);
extern bool hygiene_shared_ready(void);
extern void hygiene_count_statement(void);
extern uint64 hygiene_statements_seen(void);
extern TimestampTz hygiene_started_at(void);

#endif							/* PG_HYGIENE_H */
