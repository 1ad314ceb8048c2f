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

/* shmem.c */
extern void shmem_init(void);
extern bool hygiene_shared_ready(void);
extern void hygiene_count_statement(void);
extern uint64 hygiene_statements_seen(void);
extern TimestampTz hygiene_started_at(void);

#endif							/* PG_HYGIENE_H */
