/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL version difference pg_hygiene cares about.
 *
 * pg_hygiene supports PostgreSQL 15, 17 and 18 (16 is neither built nor tested).
 * Each PG_VERSION_NUM test lives here and nowhere else, so that the logic in
 * the other files reads the same on every version.  Every difference below
 * was read in the headers and sources of each version, not guessed.
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_COMPAT_H
#define HYGIENE_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pg_hygiene requires PostgreSQL 15 or later"
#endif

#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "replication/walsender_private.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/rel.h"
#include "utils/relcache.h"

/* 16 moved the query jumbling header from utils/ to nodes/. */
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#else
#include "utils/queryjumble.h"
#endif

/*
 * ExecutorRun hooks: 18 dropped the execute_once argument.  Hook functions
 * are declared with HYGIENE_EXECUTOR_RUN_PARAMS and pass the call on with
 * HYGIENE_EXECUTOR_RUN_ARGS.
 */
#if PG_VERSION_NUM >= 180000
#define HYGIENE_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define HYGIENE_EXECUTOR_RUN_ARGS queryDesc, direction, count
#else
#define HYGIENE_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once
#define HYGIENE_EXECUTOR_RUN_ARGS queryDesc, direction, count, execute_once
#endif

/*
 * This backend's (and a PGPROC's) index into the PGPROC array: 17 removed
 * PGPROC.pgprocno and added MyProcNumber and GetNumberFromPGProc().
 */
#if PG_VERSION_NUM >= 170000
#define HYGIENE_MY_PROC_NUMBER ((int) MyProcNumber)
#define HYGIENE_PROC_NUMBER(proc) ((int) GetNumberFromPGProc(proc))
#else
#define HYGIENE_MY_PROC_NUMBER (MyProc->pgprocno)
#define HYGIENE_PROC_NUMBER(proc) ((proc)->pgprocno)
#endif

/*
 * The columns whose change prevents a HOT update.  In 15 every column an
 * index uses (key, expression or predicate) does: INDEX_ATTR_BITMAP_ALL.  16
 * split that set into HOT_BLOCKING and SUMMARIZED (BRIN-style indexes, whose
 * columns no longer block HOT).
 */
#if PG_VERSION_NUM >= 160000
#define HYGIENE_INDEX_ATTR_BITMAP_HOT_BLOCKING INDEX_ATTR_BITMAP_HOT_BLOCKING
#else
#define HYGIENE_INDEX_ATTR_BITMAP_HOT_BLOCKING INDEX_ATTR_BITMAP_ALL
#endif

/*
 * Memory for a GUC check hook's *extra.  Up to 15 GUC code releases it with
 * free(), so it must come from malloc(); 16 moved GUC memory into its own
 * memory context and releases it with guc_free() (pfree), so it must come
 * from guc_malloc().  NULL when out of memory (the hook then fails).
 */
static inline void *
hygiene_guc_extra_alloc(size_t size)
{
#if PG_VERSION_NUM >= 160000
	return guc_malloc(LOG, size);
#else
	return malloc(size);
#endif
}

/* Compute a query's id: 16 dropped JumbleQuery's query text argument. */
static inline JumbleState *
hygiene_jumble_query(Query *query, const char *querytext)
{
#if PG_VERSION_NUM >= 160000
	(void) querytext;
	return JumbleQuery(query);
#else
	return JumbleQuery(query, querytext);
#endif
}

/*
 * MERGE.  17 added WHEN NOT MATCHED BY SOURCE: MergeAction.matched became
 * matchKind, and ResultRelInfo.ri_matchedMergeAction/ri_notMatchedMergeAction
 * became the array ri_MergeActions[] indexed by match kind.  A target row the
 * subplan returns with a row id then runs the WHEN MATCHED actions, or, when
 * the relation has NOT MATCHED BY SOURCE actions and ri_MergeJoinCondition
 * fails, those (ExecMergeMatched in nodeModifyTable.c).
 */
static inline bool
hygiene_merge_action_is_matched(MergeAction *action)
{
#if PG_VERSION_NUM >= 170000
	return action->matchKind == MERGE_WHEN_MATCHED;
#else
	return action->matched;
#endif
}

/* The WHEN MATCHED action states (MergeActionState) of a result relation. */
static inline List *
hygiene_merge_matched_actions(ResultRelInfo *rri)
{
#if PG_VERSION_NUM >= 170000
	return rri->ri_MergeActions[MERGE_WHEN_MATCHED];
#else
	return rri->ri_matchedMergeAction;
#endif
}

/*
 * Has the relation WHEN NOT MATCHED BY SOURCE actions (17 and later)?  Then a
 * target row may run other actions than the WHEN MATCHED ones.
 */
static inline bool
hygiene_merge_has_not_matched_by_source(ResultRelInfo *rri)
{
#if PG_VERSION_NUM >= 170000
	return rri->ri_MergeActions[MERGE_WHEN_NOT_MATCHED_BY_SOURCE] != NIL;
#else
	(void) rri;
	return false;
#endif
}

/*
 * May the current user run VACUUM, CLUSTER, REFRESH MATERIALIZED VIEW or
 * REINDEX on this table, by the check those commands make?  Up to 16 they
 * require its owner's privileges; 17 added the MAINTAIN privilege, which
 * they check instead (the owner has it unless revoked, members of
 * pg_maintain have it on every table).  VACUUM also lets the database owner
 * through; the caller checks that.
 */
static inline bool
hygiene_may_maintain(Oid relid, Oid relowner)
{
#if PG_VERSION_NUM >= 170000
	(void) relowner;
	return pg_class_aclcheck(relid, GetUserId(), ACL_MAINTAIN) == ACLCHECK_OK;
#else
	(void) relid;
	return has_privs_of_role(GetUserId(), relowner);
#endif
}

/* The ACL check on a schema (object_aclcheck() from PostgreSQL 16 on). */
#if PG_VERSION_NUM >= 160000
#define hygiene_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define hygiene_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/*
 * The PGPROC of a virtual transaction id's backend (NULL for a prepared
 * transaction): 17 numbers backends by ProcNumber, 15 by BackendId.
 */
#if PG_VERSION_NUM >= 170000
#define hygiene_vxid_proc(vxid) ProcNumberGetProc((vxid)->procNumber)
#else
#define hygiene_vxid_proc(vxid) BackendIdGetProc((vxid)->backendId)
#endif

/* The i-th (1-based) local backend status entry (renamed in 17; 16 is not built). */
#if PG_VERSION_NUM >= 170000
#define hygiene_local_beentry(i) pgstat_get_local_beentry_by_index(i)
#else
#define hygiene_local_beentry(i) pgstat_fetch_stat_local_beentry(i)
#endif

/* build_attrmap_by_name() took a missing_ok argument in 16. */
#if PG_VERSION_NUM >= 160000
#define hygiene_attrmap_by_name(indesc, outdesc) \
	build_attrmap_by_name((indesc), (outdesc), false)
#else
#define hygiene_attrmap_by_name(indesc, outdesc) \
	build_attrmap_by_name((indesc), (outdesc))
#endif

/*
 * Names for an extension's waits: 17 added custom wait events
 * (WaitEventExtensionNew registers a name in shared memory and returns its
 * wait_event_info).  15 has only the generic PG_WAIT_EXTENSION, shown as
 * wait_event "Extension" for every extension.
 */
#if PG_VERSION_NUM >= 170000
#include "utils/wait_event.h"
#define HYGIENE_WAIT_EVENT(name) WaitEventExtensionNew(name)
#else
#include "pgstat.h"
#define HYGIENE_WAIT_EVENT(name) ((void) (name), (uint32) PG_WAIT_EXTENSION)
#endif

/*
 * Every GUC record: 16 made get_guc_variables() return the count as well
 * (15 has GetNumConfigOptions() for it).
 */
static inline struct config_generic **
hygiene_guc_variables(int *num_vars)
{
#if PG_VERSION_NUM >= 160000
	return get_guc_variables(num_vars);
#else
	*num_vars = GetNumConfigOptions();
	return get_guc_variables();
#endif
}

/*
 * May the current user run the analysed query (its range table's privileges,
 * as ExecutorStart checks them)?  Errors out like the executor when not.
 * PostgreSQL 16 moved the permissions into Query.rteperminfos.
 */
static inline void
hygiene_check_query_permissions(Query *query)
{
#if PG_VERSION_NUM >= 160000
	(void) ExecCheckPermissions(query->rtable, query->rteperminfos, true);
#else
	(void) ExecCheckRTPerms(query->rtable, true);
#endif
}

/*
 * Is this walsender (fields read under its spinlock, pid after it is
 * released) streaming logical decoding, not WAL to a physical standby?  16
 * added WalSnd.kind; 15 has no such field, and there a logical walsender is
 * the one connected to a database (a standby's walreceiver connects with
 * replication=true, to no database), which its PGPROC says.
 */
#if PG_VERSION_NUM >= 160000
#define HYGIENE_WALSND_LOGICAL_LOCKED(walsnd) \
	((walsnd)->kind == REPLICATION_KIND_LOGICAL)
#define HYGIENE_WALSND_LOGICAL_PID(pid) (false)
#else
#define HYGIENE_WALSND_LOGICAL_LOCKED(walsnd) (false)
#define HYGIENE_WALSND_LOGICAL_PID(pid) hygiene_pid_has_database(pid)

static inline bool
hygiene_pid_has_database(int pid)
{
	PGPROC	   *proc = BackendPidGetProc(pid);

	return proc != NULL && OidIsValid(proc->databaseId);
}
#endif

#endif							/* HYGIENE_COMPAT_H */
