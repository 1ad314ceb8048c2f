/*-------------------------------------------------------------------------
 *
 * ddl_guard.c
 *		The DDL guard: refuses (or reports) schema changes that would stall
 *		a busy primary, and bounds how long DDL may wait for and hold its
 *		lock.  GUCs, the ProcessUtility and object access hooks, the
 *		ddl_timeout timers and the overrides live here;
 *		ddl_rules.c decides what a statement would do, ddl_events.c keeps
 *		the record.
 *
 * Where each rule is decided, and why:
 *	- index_not_concurrent, new_table, full_scan_constraint and the rewrites
 *	  whose statement says it all (VACUUM FULL, CLUSTER, REFRESH
 *	  MATERIALIZED VIEW) are decided in ProcessUtility, before the statement
 *	  takes its lock or does any work.  The guard measures the table under a
 *	  short AccessShareLock that it releases at once (keeping it would turn
 *	  the statement's own stronger lock into a lock upgrade, which deadlocks
 *	  between two sessions running the same migration).
 *	- table_rewrite for ALTER TABLE / ALTER TYPE is decided in the object
 *	  access hook, when the statement creates the new heap of a table.
 *	  Whether ALTER COLUMN TYPE rewrites depends on binary coercibility,
 *	  typmods, collations and USING; whether ADD COLUMN rewrites depends on
 *	  the default's volatility, identity, generated columns and domain
 *	  constraints; and all of it per partition.  Reasoning from the
 *	  AlterTableCmd list would re-implement tablecmds.c and drift from it;
 *	  make_new_heap() is called by tablecmds.c itself, exactly when it has
 *	  decided to rewrite a given table and before a single row is copied.
 *	  At that point the AccessExclusiveLock is held (bounded by
 *	  ddl_timeout's lock limit) and only catalog changes, which the error
 *	  rolls back, have been made.  So the block is exact, comes before the
 *	  expensive work, and needs no SQL object: it holds in databases
 *	  without the extension too.  (Up to 0.2 this was the extension's
 *	  table_rewrite event trigger; the update to 0.3 drops it.)
 *	- ddl_timeout: lock_timeout is lowered for the statement by setting the
 *	  LockTimeout variable and restoring it afterwards (on error too), not
 *	  through a GUC nest level, because VACUUM FULL and CLUSTER commit
 *	  internally and would pop the nest level under us.  The statement limit
 *	  is the guard's own registered timeout (statement_timeout is armed at
 *	  statement start, before the guard knows what the statement is); it
 *	  raises a query cancel, which is turned into the guard's own message.
 *	  CONCURRENTLY forms are exempt from both limits: their locks do not block
 *	  reads or writes, and a lock timeout while they wait for old snapshots
 *	  would leave an INVALID index behind.
 *
 * Exempt: extension scripts (creating_extension), binary upgrade, recovery,
 * parallel workers, sub-commands of a statement already checked, and the
 * guard's own functions (they run no DDL).
 *
 * State: the per-transaction overrides are a bit mask cleared by an
 * XactCallback; the current statement text and the armed timer are
 * save/restore statics around the hooked call, restored on error.
 *
 * IDENTIFICATION
 *	  src/ddl_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "catalog/pg_authid.h"
#include "mb/pg_wchar.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/lsyscache.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "log_rate.h"
#include "pg_hygiene.h"
#include "ddl_guard.h"

const char *const ddl_rule_names[] = {
	"table_rewrite",
	"index_not_concurrent",
	"new_table",
	"full_scan_constraint",
	"ddl_timeout"
};

#define DDL_ALL_RULES ((1 << DDL_NUM_RULES) - 1)

static const struct config_enum_entry ddl_guard_options[] = {
	{"off", DDL_GUARD_OFF, false},
	{"warn", DDL_GUARD_WARN, false},
	{"enforce", DDL_GUARD_ENFORCE, false},
	{NULL, 0, false}
};

/* GUC variables */
int			ddl_guard_mode = DDL_GUARD_WARN;
int			ddl_small_table_size_kb = 1024;
char	   *ddl_new_table_schemas = NULL;
static char *ddl_rules_string = NULL;
static char *ddl_allow_string = NULL;
static int	ddl_lock_timeout_ms = 5000;
static int	ddl_statement_timeout_ms = 5000;

/* Rule masks derived from the list GUCs by their assign hooks. */
static int	ddl_rules_mask = DDL_ALL_RULES & ~(1 << DDL_RULE_NEW_TABLE);
static int	ddl_allow_mask = 0;

/*
 * Rules allowed by hygiene.allow_ddl() until the end of the transaction, or
 * of the savepoint it was called in if that is rolled back: for each
 * subtransaction that called it, the mask as it was before (innermost last,
 * in TopTransactionContext).
 */
static int	ddl_xact_allow_mask = 0;

typedef struct DdlAllowSave
{
	SubTransactionId subid;
	int			mask;
} DdlAllowSave;

static List *ddl_allow_saves = NIL;

/* The statement being guarded, for messages, events and the event trigger. */
static const char *ddl_cur_query = NULL;
static int	ddl_cur_location = -1;
static int	ddl_cur_len = 0;
static Node *ddl_cur_parsetree = NULL;

/* The statement limit timer: one per backend, armed by the outermost DDL. */
static bool ddl_timer_registered = false;
static TimeoutId ddl_timer_id;
static bool ddl_timer_armed = false;
static volatile sig_atomic_t ddl_timer_fired = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_allow_ddl);
PG_FUNCTION_INFO_V1(hygiene_ddl_table_rewrite);

/* Parse a comma-separated rule list into a mask; false if a name is unknown. */
static bool
ddl_parse_rule_list(const char *value, int *mask, char **bad)
{
	char	   *raw = pstrdup(value);
	List	   *names;
	ListCell   *lc;

	*mask = 0;
	*bad = NULL;
	if (!SplitIdentifierString(raw, ',', &names))
	{
		*bad = pstrdup(value);
		return false;
	}
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		int			i;

		if (pg_strcasecmp(name, "all") == 0)
		{
			*mask = DDL_ALL_RULES;
			continue;
		}
		for (i = 0; i < DDL_NUM_RULES; i++)
			if (pg_strcasecmp(name, ddl_rule_names[i]) == 0)
				break;
		if (i == DDL_NUM_RULES)
		{
			*bad = pstrdup(name);
			return false;
		}
		*mask |= 1 << i;
	}
	return true;
}

/* Check hook for pg_hygiene.ddl_rules and pg_hygiene.ddl_allow. */
static bool
ddl_check_rule_list(char **newval, void **extra, GucSource source)
{
	int			mask;
	char	   *bad;
	int		   *store;

	if (!ddl_parse_rule_list(*newval ? *newval : "", &mask, &bad))
	{
		GUC_check_errdetail("\"%s\" is not a DDL guard rule; valid names are table_rewrite, index_not_concurrent, new_table, full_scan_constraint, ddl_timeout and all.",
							bad);
		return false;
	}
	store = (int *) hygiene_guc_extra_alloc(sizeof(int));	/* GUC frees it */
	if (store == NULL)
		return false;
	*store = mask;
	*extra = store;
	return true;
}

/* Assign hook for pg_hygiene.ddl_rules. */
static void
ddl_assign_rules(const char *newval, void *extra)
{
	ddl_rules_mask = *(int *) extra;
}

/* Assign hook for pg_hygiene.ddl_allow. */
static void
ddl_assign_allow(const char *newval, void *extra)
{
	ddl_allow_mask = *(int *) extra;
}

/* Check hook for pg_hygiene.ddl_new_table_schemas: a list of names. */
static bool
ddl_check_schema_list(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval ? *newval : "");
	List	   *names;

	if (!SplitIdentifierString(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid; write schema names separated by commas.");
		return false;
	}
	return true;
}

/* Is the rule switched on by pg_hygiene.ddl_rules? */
bool
ddl_rule_enabled(DdlRule rule)
{
	return (ddl_rules_mask & (1 << rule)) != 0;
}

/* Has a DBA allowed the rule (ddl_allow or allow_ddl() in this transaction)? */
static bool
ddl_rule_allowed(DdlRule rule)
{
	return ((ddl_allow_mask | ddl_xact_allow_mask) & (1 << rule)) != 0;
}

/* The text of the statement being guarded (never NULL). */
const char *
ddl_current_statement(void)
{
	static char *buf = NULL;
	static int	buflen = 0;

	if (ddl_cur_query == NULL)
		return debug_query_string ? debug_query_string : "";
	if (ddl_cur_location < 0)
		return ddl_cur_query;
	if (ddl_cur_len <= 0)
		return ddl_cur_query + ddl_cur_location;

	/* A slice of a multi-statement string: copy it out. */
	if (buflen < ddl_cur_len + 1)
	{
		if (buf)
			pfree(buf);
		buf = MemoryContextAlloc(TopMemoryContext, ddl_cur_len + 1);
		buflen = ddl_cur_len + 1;
	}
	memcpy(buf, ddl_cur_query + ddl_cur_location, ddl_cur_len);
	buf[ddl_cur_len] = '\0';
	return buf;
}

/*
 * The whole source string of the statement being guarded, with the byte
 * range of the statement in it (parse node locations index this string).
 */
const char *
ddl_statement_source(int *start, int *end)
{
	if (ddl_cur_query == NULL)
		return NULL;
	*start = ddl_cur_location > 0 ? ddl_cur_location : 0;
	*end = ddl_cur_len > 0 ? *start + ddl_cur_len : (int) strlen(ddl_cur_query);
	return ddl_cur_query;
}

/*
 * Every event is in the server log.  An ERROR raised inside a subtransaction
 * (a PL/pgSQL exception block, a savepoint) may be caught and never logged,
 * while its event can be pushed out of the bounded ring by later ones: log
 * such blocks as LOG too.
 */
static void
ddl_log_if_catchable(const char *rule, const char *what, bool quiet)
{
	if (!quiet && GetCurrentTransactionNestLevel() > 1)
		ereport(LOG,
				(errmsg("pg_hygiene: ddl guard rule \"%s\" blocked a statement inside a subtransaction: %s",
						rule, what)));
}

/*
 * Report one rule hit: allowed hits are recorded and logged, warnings are
 * recorded and raised as WARNING, blocks are recorded and raised as ERROR.
 */
void
ddl_report(DdlViolation *v)
{
	const char *rule = ddl_rule_names[v->rule];
	const char *stmt = ddl_current_statement();

	if (ddl_rule_allowed(v->rule))
	{
		ddl_events_record(DDL_ACTION_ALLOW, v->rule, v->relname, v->size, stmt, v->what);
		ereport(LOG,
				(errmsg("pg_hygiene: ddl guard rule \"%s\" allowed by override: %s", rule, v->what)));
		return;
	}

	if (ddl_guard_mode == DDL_GUARD_WARN)
	{
		ddl_events_record(DDL_ACTION_WARN, v->rule, v->relname, v->size, stmt, v->what);
		ereport(WARNING,
				(errmsg("pg_hygiene: ddl guard rule \"%s\": %s", rule, v->what),
				 v->detail ? errdetail_internal("%s", v->detail) : 0,
				 v->hint ? errhint("%s", v->hint) : 0));
		return;
	}

	ddl_events_record(DDL_ACTION_BLOCK, v->rule, v->relname, v->size, stmt, v->what);
	ddl_log_if_catchable(rule, v->what,
						 log_rate_reject(ERRCODE_HYGIENE_DDL_BLOCKED, (uint64) v->rule,
										 psprintf("ddl guard rule \"%s\"", rule)));
	ereport(ERROR,
			(errcode(ERRCODE_HYGIENE_DDL_BLOCKED),
			 errmsg("pg_hygiene: ddl guard rule \"%s\": %s", rule, v->what),
			 v->detail ? errdetail_internal("%s", v->detail) : 0,
			 v->hint ? errhint("%s", v->hint) : 0));
}

/* Statements the guard never looks at. */
static bool
ddl_exempt(void)
{
	return creating_extension || IsBinaryUpgrade || !HYGIENE_ACTIVE() ||
		RecoveryInProgress();
}

/* Could this statement be subject to any rule?  Cheap tag test. */
static bool
ddl_candidate(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
		case T_AlterTableMoveAllStmt:
		case T_AlterDomainStmt:
		case T_ExplainStmt:
		case T_CreateSchemaStmt:
		case T_IndexStmt:
		case T_ReindexStmt:
		case T_DropStmt:
		case T_RenameStmt:
		case T_TruncateStmt:
		case T_CreateTrigStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_RuleStmt:
		case T_ClusterStmt:
		case T_VacuumStmt:
		case T_RefreshMatViewStmt:
		case T_CreateStmt:
		case T_CreateTableAsStmt:
			return true;
		default:
			return false;
	}
}

/* Timeout handler: like a statement timeout, but flagged as the guard's. */
static void
ddl_timer_handler(void)
{
	ddl_timer_fired = true;
	InterruptPending = true;
	QueryCancelPending = true;
	/* handle_sig_alarm sets our latch */
}

/* Stop the statement limit timer if this call armed it. */
static void
ddl_timer_stop(void)
{
	disable_timeout(ddl_timer_id, false);
	ddl_timer_armed = false;
	ddl_timer_fired = false;
}

/* Sessions named in a ddl_timeout lock-wait error; the rest are counted. */
#define DDL_MAX_BLOCKERS_NAMED 10

/* pg_stat_activity's words for a backend state. */
static const char *
ddl_state_name(BackendState state)
{
	switch (state)
	{
		case STATE_RUNNING:
			return "active";
		case STATE_IDLE:
			return "idle";
		case STATE_IDLEINTRANSACTION:
			return "idle in transaction";
		case STATE_FASTPATH:
			return "fastpath function call";
		case STATE_IDLEINTRANSACTION_ABORTED:
			return "idle in transaction (aborted)";
		default:
			return "state unknown";
	}
}

/*
 * The sessions holding a lock on the table that conflicts with the mode a
 * DDL statement waited for, just after it gave up: "pid N (role r)" each in
 * *brief (for the message and the event), and in *full also the state and
 * the query (clipped) of those whose activity the current user may see in
 * pg_stat_activity (privileges of that role or of pg_read_all_stats), for
 * the detail.  Returns how many.
 */
static int
ddl_describe_blockers(Oid relid, LOCKMODE mode, StringInfo brief, StringInfo full)
{
	LOCKTAG		tag;
	VirtualTransactionId *vxids;
	int			n = 0;
	int			nbackends = -1;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	for (vxids = GetLockConflicts(&tag, mode, NULL);
		 VirtualTransactionIdIsValid(*vxids); vxids++)
	{
		PGPROC	   *proc;
		PgBackendStatus *be = NULL;
		const char *sep = n++ > 0 ? ", " : "";
		char	   *who;
		int			pid;
		Oid			role;

		/* name the first few; a detail line is no place for hundreds */
		if (n > DDL_MAX_BLOCKERS_NAMED)
			continue;
		proc = hygiene_vxid_proc(vxids);
		if (proc == NULL)
		{
			appendStringInfo(brief, "%sa prepared transaction", sep);
			appendStringInfo(full, "%sa prepared transaction (see pg_prepared_xacts)", sep);
			continue;
		}
		pid = proc->pid;
		role = proc->roleId;
		who = OidIsValid(role) ? GetUserNameFromId(role, true) : NULL;
		appendStringInfo(brief, "%spid %d (role %s)", sep, pid, who ? who : "?");

		if (OidIsValid(role) &&
			(has_privs_of_role(GetUserId(), role) ||
			 has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS)))
		{
			if (nbackends < 0)
				nbackends = pgstat_fetch_stat_numbackends();
			for (int i = 1; i <= nbackends; i++)
			{
				LocalPgBackendStatus *l = hygiene_local_beentry(i);

				if (l && l->backendStatus.st_procpid == pid)
				{
					be = &l->backendStatus;
					break;
				}
			}
		}
		if (be != NULL)
		{
			char	   *query = pgstat_clip_activity(be->st_activity_raw);
			int			len = strlen(query);

			if (len > 200)
			{
				len = pg_mbcliplen(query, len, 200);
				query[len] = '\0';
			}
			for (char *c = query; *c; c++)
				if (*c == '\n' || *c == '\r' || *c == '\t')
					*c = ' ';	/* one line: it ends a "--" comment in the event */
			appendStringInfo(full, "%spid %d (role %s, %s: %s%s)", sep, pid,
							 who ? who : "?", ddl_state_name(be->st_state), query,
							 len < (int) strlen(be->st_activity_raw) ? "..." : "");
		}
		else
			appendStringInfo(full, "%spid %d (role %s)", sep, pid, who ? who : "?");
	}
	if (n > DDL_MAX_BLOCKERS_NAMED)
	{
		appendStringInfo(brief, " and %d more", n - DDL_MAX_BLOCKERS_NAMED);
		appendStringInfo(full, " and %d more sessions", n - DDL_MAX_BLOCKERS_NAMED);
	}
	return n;
}

/*
 * Replace a cancel caused by the guard's own limits with the guard's own
 * error, after recording it.  Called in PG_CATCH; returns only when the
 * error is not the guard's.
 */
static void
ddl_convert_timeout_error(MemoryContext cxt, bool stmt_fired, bool lock_lowered,
						  TimestampTz started, const char *stmt, Node *parsetree)
{
	ErrorData  *edata;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	long		secs;
	int			usecs;
	int64		waited_ms;

	edata = CopyErrorData();
	TimestampDifference(started, GetCurrentTimestamp(), &secs, &usecs);
	waited_ms = (int64) secs * 1000 + usecs / 1000;

	if (stmt_fired && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
	{
		char	   *what = psprintf("statement canceled after pg_hygiene.ddl_statement_timeout (%d ms)",
									ddl_statement_timeout_ms);

		FlushErrorState();
		ddl_events_record(DDL_ACTION_BLOCK, DDL_RULE_TIMEOUT, NULL, -1,
						  stmt, what);
		ddl_log_if_catchable("ddl_timeout", what,
							 log_rate_reject(ERRCODE_QUERY_CANCELED, DDL_RULE_TIMEOUT,
											 "ddl guard rule \"ddl_timeout\""));
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("pg_hygiene: ddl guard rule \"ddl_timeout\": %s", what),
				 errdetail("DDL on an existing table holds its lock while it runs, and every query on the table waits behind it."),
				 errhint("Use the online form of the change (CONCURRENTLY, NOT VALID followed by VALIDATE CONSTRAINT, batched backfills), or have a DBA run SELECT hygiene.allow_ddl('ddl_timeout') in the migration's transaction.")));
	}
	if (lock_lowered && edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
		waited_ms >= ddl_lock_timeout_ms)
	{
		char	   *what;
		Oid			relid = InvalidOid;
		LOCKMODE	mode;
		char	   *qualname = NULL;
		char	   *detail;
		char	   *event_stmt = (char *) stmt;
		StringInfoData brief,
					full;
		int			nblockers = 0;

		FlushErrorState();
		initStringInfo(&brief);
		initStringInfo(&full);
		if (parsetree && ddl_lock_target(parsetree, &relid, &mode))
		{
			char	   *nsp = get_namespace_name(get_rel_namespace(relid));
			char	   *rel = get_rel_name(relid);

			if (nsp && rel)
			{
				qualname = quote_qualified_identifier(nsp, rel);
				nblockers = ddl_describe_blockers(relid, mode, &brief, &full);
				what = psprintf("gave up waiting for a lock on \"%s.%s\" after pg_hygiene.ddl_lock_timeout (%d ms)",
								nsp, rel, ddl_lock_timeout_ms);
				detail = nblockers > 0 ?
					psprintf("The %s it asked for was held by %s. While DDL waits for its lock, every later query on the table queues behind it.",
							 GetLockmodeName(DEFAULT_LOCKMETHOD, mode), full.data) :
					psprintf("The %s it asked for was no longer held in a conflicting mode when it gave up. While DDL waits for its lock, every later query on the table queues behind it.",
							 GetLockmodeName(DEFAULT_LOCKMETHOD, mode));
				if (nblockers > 0)
					event_stmt = psprintf("%s\n-- waited for: %s", stmt, full.data);
			}
		}
		if (qualname == NULL)
		{
			what = psprintf("gave up waiting for a lock after pg_hygiene.ddl_lock_timeout (%d ms)",
							ddl_lock_timeout_ms);
			detail = pstrdup("While DDL waits for its lock, every later query on the table queues behind it.");
		}
		/* the event: who (pids, roles) for every reader; what they ran with the statement */
		ddl_events_record(DDL_ACTION_BLOCK, DDL_RULE_TIMEOUT, qualname, -1, event_stmt,
						  nblockers > 0 ? psprintf("%s; lock held by %s", what, brief.data) : what);
		ddl_log_if_catchable("ddl_timeout", what,
							 log_rate_reject(ERRCODE_LOCK_NOT_AVAILABLE, DDL_RULE_TIMEOUT,
											 "ddl guard rule \"ddl_timeout\""));
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("pg_hygiene: ddl guard rule \"ddl_timeout\": %s", what),
				 errdetail_internal("%s", detail),
				 errhint("Retry the statement later, in a loop with a short pause between attempts, or end what holds the lock first (pg_terminate_backend() for a session left idle in transaction).")));
	}
	FreeErrorData(edata);
	MemoryContextSwitchTo(old);
}

/* ProcessUtility hook: check the rules, arm the limits, run the statement. */
static void
ddl_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		guarded;
	bool		timeout_applies = false;
	bool		target_exempt = false;

	/*
	 * Everything PG_CATCH reads is volatile: the flags are set inside
	 * PG_TRY, and the saved copies of globals that PG_TRY changes
	 * (LockTimeout, the statement statics) must not be re-read from those
	 * globals after the longjmp.
	 */
	const char *volatile save_query = ddl_cur_query;
	volatile int save_location = ddl_cur_location;
	volatile int save_len = ddl_cur_len;
	Node	   *volatile save_parsetree = ddl_cur_parsetree;
	volatile int save_lock_timeout = LockTimeout;
	volatile bool lock_lowered = false;
	volatile bool timer_mine = false;
	volatile TimestampTz started = 0;
	MemoryContext volatile cxt = CurrentMemoryContext;

	guarded = ddl_guard_mode != DDL_GUARD_OFF &&
		ddl_candidate(parsetree) && !ddl_exempt();

	if (!guarded)
	{
		hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
										readOnlyTree, context, params, queryEnv,
										dest, qc);
		return;
	}

	/* Sub-commands of a statement were checked with their parent. */
	if (context != PROCESS_UTILITY_SUBCOMMAND)
	{
		ddl_cur_query = queryString;
		ddl_cur_location = pstmt->stmt_location;
		ddl_cur_len = pstmt->stmt_len;
		ddl_cur_parsetree = parsetree;
		timeout_applies = ddl_rule_enabled(DDL_RULE_TIMEOUT) &&
			ddl_statement_needs_timeout(parsetree);
	}

	PG_TRY();
	{
		List	   *hits = NIL;
		ListCell   *lc;

		started = GetCurrentTimestamp();

		/* The lock limit first: measuring the table takes a lock too. */
		if (timeout_applies && ddl_guard_mode == DDL_GUARD_ENFORCE &&
			!ddl_rule_allowed(DDL_RULE_TIMEOUT) && ddl_lock_timeout_ms > 0 &&
			(LockTimeout == 0 || LockTimeout > ddl_lock_timeout_ms))
		{
			LockTimeout = ddl_lock_timeout_ms;
			lock_lowered = true;
		}

		/* a table of CREATE SCHEMA ... CREATE TABLE (rule new_table) */
		if (context == PROCESS_UTILITY_SUBCOMMAND && IsA(parsetree, CreateStmt))
		{
			bool		ignored;

			hits = ddl_check_statement(parsetree, &ignored);
		}

		if (context != PROCESS_UTILITY_SUBCOMMAND)
			hits = ddl_check_statement(parsetree, &target_exempt);

		/*
		 * No limits for an exempt target: a temporary table or one created
		 * in this transaction, or a VACUUM whose tables the role may not
		 * vacuum (stock waits for their lock, then skips them).
		 */
		if (target_exempt && lock_lowered)
		{
			LockTimeout = save_lock_timeout;
			lock_lowered = false;
		}
		foreach(lc, hits)
			ddl_report((DdlViolation *) lfirst(lc));

		if (timeout_applies && !target_exempt &&
			ddl_guard_mode == DDL_GUARD_ENFORCE)
		{
			if (ddl_rule_allowed(DDL_RULE_TIMEOUT))
			{
				DdlViolation v = {DDL_RULE_TIMEOUT, InvalidOid, NULL, -1,
				"ran without the DDL lock and statement limits", NULL, NULL};

				ddl_report(&v);
			}
			else if (ddl_statement_timeout_ms > 0 && !ddl_timer_armed)
			{
				if (!ddl_timer_registered)
				{
					ddl_timer_id = RegisterTimeout(USER_TIMEOUT, ddl_timer_handler);
					ddl_timer_registered = true;
				}
				ddl_timer_fired = false;
				ddl_timer_armed = true;
				timer_mine = true;
				enable_timeout_after(ddl_timer_id, ddl_statement_timeout_ms);
			}
		}

		if (context != PROCESS_UTILITY_SUBCOMMAND)
			hygiene_debug_notice("pg_hygiene: ddl guard: %s: %d rule hit(s), lock limit %s, statement limit %s",
								 GetCommandTagName(CreateCommandTag(parsetree)),
								 list_length(hits),
								 lock_lowered ? "armed" : "not armed",
								 timer_mine ? "armed" : "not armed");

		hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
										readOnlyTree, context, params, queryEnv,
										dest, qc);
	}
	PG_CATCH();
	{
		bool		fired = timer_mine && ddl_timer_fired;

		if (timer_mine)
			ddl_timer_stop();
		if (lock_lowered)
			LockTimeout = save_lock_timeout;
		if (fired || lock_lowered)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);
			char	   *stmt = pstrdup(ddl_current_statement());

			MemoryContextSwitchTo(old);
			ddl_cur_query = save_query;
			ddl_cur_location = save_location;
			ddl_cur_len = save_len;
			ddl_cur_parsetree = save_parsetree;
			ddl_convert_timeout_error(cxt, fired, lock_lowered, started, stmt,
									  parsetree);
		}
		ddl_cur_query = save_query;
		ddl_cur_location = save_location;
		ddl_cur_len = save_len;
		ddl_cur_parsetree = save_parsetree;
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (timer_mine)
	{
		/* Fired just as the statement finished: drop the pending cancel. */
		if (ddl_timer_fired)
			QueryCancelPending = false;
		ddl_timer_stop();
	}
	if (lock_lowered)
		LockTimeout = save_lock_timeout;

	/* warn mode: report DDL that ran longer than the statement limit. */
	if (timeout_applies && !target_exempt && ddl_guard_mode == DDL_GUARD_WARN &&
		ddl_statement_timeout_ms > 0 &&
		TimestampDifferenceExceeds(started, GetCurrentTimestamp(),
								   ddl_statement_timeout_ms))
	{
		DdlViolation v = {DDL_RULE_TIMEOUT, InvalidOid, NULL, -1, NULL, NULL, NULL};

		v.what = psprintf("statement ran longer than pg_hygiene.ddl_statement_timeout (%d ms)",
						  ddl_statement_timeout_ms);
		v.detail = pstrdup("With pg_hygiene.ddl_guard = enforce it would have been canceled; DDL on an existing table holds its lock while it runs.");
		v.hint = pstrdup("Use the online form of the change, or run it at a quiet time with SELECT hygiene.allow_ddl('ddl_timeout') in its transaction.");
		ddl_report(&v);
	}

	ddl_cur_query = save_query;
	ddl_cur_location = save_location;
	ddl_cur_len = save_len;
	ddl_cur_parsetree = save_parsetree;
}

/* Forget the per-transaction overrides when the transaction ends. */
static void
ddl_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			ddl_xact_allow_mask = 0;
			ddl_allow_saves = NIL;	/* freed with TopTransactionContext */
			break;
		default:
			break;
	}
}

/*
 * Subtransaction end: ROLLBACK TO SAVEPOINT (or an exception block) undoes
 * hygiene.allow_ddl() calls made inside it; RELEASE hands them to the parent.
 */
static void
ddl_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	DdlAllowSave *last;

	if (ddl_allow_saves == NIL)
		return;
	last = (DdlAllowSave *) llast(ddl_allow_saves);
	if (last->subid != mySubid)
		return;
	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			ddl_xact_allow_mask = last->mask;
			ddl_allow_saves = list_delete_last(ddl_allow_saves);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			/* the parent keeps the older saved mask, if it has one */
			if (parentSubid == TopSubTransactionId ||
				(list_length(ddl_allow_saves) > 1 &&
				 ((DdlAllowSave *) list_nth(ddl_allow_saves,
											list_length(ddl_allow_saves) - 2))->subid == parentSubid))
				ddl_allow_saves = list_delete_last(ddl_allow_saves);
			else
				last->subid = parentSubid;
			break;
		default:
			break;
	}
}

/*
 * The table a relation being created is the new heap of, or InvalidOid.
 * Every table rewrite (ALTER TABLE / ALTER TYPE, VACUUM FULL, CLUSTER,
 * REFRESH MATERIALIZED VIEW) builds its new heap in make_new_heap(), as an
 * internal relation whose pg_class.relrewrite is the table it replaces.
 * The new row is not visible to the catalog caches yet (no command counter
 * increment since it was inserted), so it is read with SnapshotSelf, as
 * contrib/sepgsql reads new rows in its post-create hooks.
 */
static Oid
ddl_rewritten_table(Oid newrelid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			oldrelid = InvalidOid;

	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(newrelid));
	scan = systable_beginscan(rel, ClassOidIndexId, true, SnapshotSelf, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		oldrelid = ((Form_pg_class) GETSTRUCT(tup))->relrewrite;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return oldrelid;
}

/*
 * Object access hook: rule table_rewrite for ALTER TABLE / ALTER TYPE.
 *
 * Called when the new heap of a rewrite is created, before a single row is
 * copied, with the old table locked.  This needs no SQL object, so the rule
 * holds in every database of a server that preloads the library, with or
 * without CREATE EXTENSION.  VACUUM FULL, CLUSTER and REFRESH were judged
 * as statements in ProcessUtility (before their lock): skipped here.  The
 * cheap tests come first; the catalog read is only for internal relations
 * created while the rule applies.
 */
static void
ddl_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	Oid			oldrelid;
	List	   *hits;
	ListCell   *lc;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_POST_CREATE || classId != RelationRelationId ||
		subId != 0 || arg == NULL ||
		!((ObjectAccessPostCreate *) arg)->is_internal)
		return;
	if (ddl_guard_mode == DDL_GUARD_OFF ||
		!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE) || ddl_exempt())
		return;
	if (ddl_cur_parsetree != NULL &&
		(IsA(ddl_cur_parsetree, VacuumStmt) ||
		 IsA(ddl_cur_parsetree, ClusterStmt) ||
		 IsA(ddl_cur_parsetree, RefreshMatViewStmt)))
		return;

	oldrelid = ddl_rewritten_table(objectId);
	if (!OidIsValid(oldrelid))
		return;
	hits = ddl_check_rewrite(oldrelid, ddl_cur_parsetree);
	foreach(lc, hits)
		ddl_report((DdlViolation *) lfirst(lc));
}

/* Define the GUCs, attach the event ring and install the hooks. */
void
ddl_guard_init(void)
{
	DefineCustomEnumVariable("pg_hygiene.ddl_guard",
							 "What the DDL guard does with dangerous schema changes.",
							 "off: nothing; warn: report them (WARNING, server log, hygiene.ddl_events) and run them; enforce: refuse them and bound DDL lock waits and run time.",
							 &ddl_guard_mode,
							 DDL_GUARD_WARN,
							 ddl_guard_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("pg_hygiene.ddl_rules",
							   "DDL guard rules that are switched on.",
							   "Comma-separated: table_rewrite, index_not_concurrent, new_table, full_scan_constraint, ddl_timeout, or all.  new_table is opt-in.",
							   &ddl_rules_string,
							   "table_rewrite,index_not_concurrent,full_scan_constraint,ddl_timeout",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   ddl_check_rule_list, ddl_assign_rules, NULL);

	DefineCustomStringVariable("pg_hygiene.ddl_allow",
							   "DDL guard rules deliberately allowed.",
							   "Comma-separated rule names, or all.  Allowed hits are still recorded in hygiene.ddl_events.",
							   &ddl_allow_string,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   ddl_check_rule_list, ddl_assign_allow, NULL);

	DefineCustomStringVariable("pg_hygiene.ddl_new_table_schemas",
							   "Schemas where the new_table rule lets permanent tables be created.",
							   "Comma-separated schema names; empty means none.",
							   &ddl_new_table_schemas,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   ddl_check_schema_list, NULL, NULL);

	DefineCustomIntVariable("pg_hygiene.ddl_small_table_size",
							"Tables up to this size may be indexed without CONCURRENTLY and materialized views refreshed without it.",
							"Partitioned tables count the sum of their partitions.",
							&ddl_small_table_size_kb,
							1024,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_hygiene.ddl_lock_timeout",
							"Longest wait for a lock by DDL on an existing table (rule ddl_timeout).",
							"Applies when shorter than lock_timeout; 0 disables the limit.  CONCURRENTLY forms are exempt.",
							&ddl_lock_timeout_ms,
							5000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pg_hygiene.ddl_statement_timeout",
							"Longest run time of DDL on an existing table (rule ddl_timeout).",
							"Applies besides statement_timeout; 0 disables the limit.  CONCURRENTLY forms are exempt.",
							&ddl_statement_timeout_ms,
							5000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	ddl_events_init();

	RegisterXactCallback(ddl_xact_callback, NULL);
	RegisterSubXactCallback(ddl_subxact_callback, NULL);

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = ddl_ProcessUtility;
	prev_object_access_hook = object_access_hook;
	object_access_hook = ddl_object_access;
}

/*
 * hygiene.allow_ddl(rule): allow one rule until the end of the current
 * transaction (or until its savepoint is rolled back).  EXECUTE is revoked from PUBLIC; a DBA grants it to the
 * roles that run migrations.
 */
Datum
hygiene_allow_ddl(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			mask;
	char	   *bad;
	char	   *what;

	if (!ddl_parse_rule_list(name, &mask, &bad) || mask == 0 ||
		strchr(name, ',') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_hygiene: unknown DDL guard rule \"%s\"", name),
				 errhint("Name one rule: table_rewrite, index_not_concurrent, new_table, full_scan_constraint, ddl_timeout, or all.")));

	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("pg_hygiene: hygiene.allow_ddl() outside a transaction block lasts only for this statement"),
				 errhint("Run BEGIN first, then hygiene.allow_ddl(), then the DDL, then COMMIT.")));

	/* remember what to go back to if this savepoint is rolled back */
	if (GetCurrentSubTransactionId() != TopSubTransactionId &&
		(ddl_allow_saves == NIL ||
		 ((DdlAllowSave *) llast(ddl_allow_saves))->subid != GetCurrentSubTransactionId()))
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		DdlAllowSave *save = palloc(sizeof(DdlAllowSave));

		save->subid = GetCurrentSubTransactionId();
		save->mask = ddl_xact_allow_mask;
		ddl_allow_saves = lappend(ddl_allow_saves, save);
		MemoryContextSwitchTo(old);
	}
	ddl_xact_allow_mask |= mask;

	what = psprintf("hygiene.allow_ddl('%s') for the current transaction", name);
	for (int i = 0; i < DDL_NUM_RULES; i++)
		if (mask & (1 << i))
			ddl_events_record(DDL_ACTION_OVERRIDE, (DdlRule) i, NULL, -1,
							  debug_query_string, what);
	ereport(LOG, (errmsg("pg_hygiene: ddl guard override: %s", what)));

	PG_RETURN_VOID();
}

/*
 * hygiene._ddl_table_rewrite(): the table_rewrite event trigger of
 * pg_hygiene 0.1 and 0.2, dropped by the update to 0.3 (the object access
 * hook above decides the rule now, with or without the extension).  Kept,
 * doing nothing, because the 0.1 script that CREATE EXTENSION runs first
 * still creates the function.
 */
Datum
hygiene_ddl_table_rewrite(PG_FUNCTION_ARGS)
{
	PG_RETURN_NULL();
}
