/*-------------------------------------------------------------------------
 *
 * ddl_guard.c
 *		The DDL guard: refuses (or reports) schema changes that would stall
 *		a busy primary, and bounds how long DDL may wait for and hold its
 *		lock.  GUCs, the ProcessUtility hook, the ddl_timeout timers, the
 *		overrides and the table_rewrite event trigger function live here;
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
 *	- table_rewrite for ALTER TABLE is decided in the extension's
 *	  table_rewrite event trigger.  Whether ALTER COLUMN TYPE rewrites
 *	  depends on binary coercibility, typmods, collations and USING; whether
 *	  ADD COLUMN rewrites depends on the default's volatility, identity,
 *	  generated columns and domain constraints; and all of it per partition.
 *	  Reasoning from the AlterTableCmd list would re-implement tablecmds.c
 *	  and drift from it; the event trigger is called by tablecmds.c itself,
 *	  exactly when it has decided to rewrite a given table and before a
 *	  single row is copied.  At that point the AccessExclusiveLock is held
 *	  (bounded by ddl_timeout's lock limit) and only catalog changes, which
 *	  the error rolls back, have been made.  So the block is exact and comes
 *	  before the expensive work.  The cost: the rule needs the extension's
 *	  event trigger, i.e. CREATE EXTENSION in each guarded database.
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

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

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

/* The statement limit timer: one per backend, armed by the outermost DDL. */
static bool ddl_timer_registered = false;
static TimeoutId ddl_timer_id;
static bool ddl_timer_armed = false;
static volatile sig_atomic_t ddl_timer_fired = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

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
				(errmsg("ddl guard rule \"%s\" allowed by override: %s", rule, v->what)));
		return;
	}

	if (ddl_guard_mode == DDL_GUARD_WARN)
	{
		ddl_events_record(DDL_ACTION_WARN, v->rule, v->relname, v->size, stmt, v->what);
		ereport(WARNING,
				(errmsg("ddl guard rule \"%s\": %s", rule, v->what),
				 v->detail ? errdetail_internal("%s", v->detail) : 0,
				 v->hint ? errhint("%s", v->hint) : 0));
		return;
	}

	ddl_events_record(DDL_ACTION_BLOCK, v->rule, v->relname, v->size, stmt, v->what);
	ereport(ERROR,
			(errcode(ERRCODE_HYGIENE_DDL_BLOCKED),
			 errmsg("ddl guard rule \"%s\": %s", rule, v->what),
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

/*
 * Replace a cancel caused by the guard's own limits with the guard's own
 * error, after recording it.  Called in PG_CATCH; returns only when the
 * error is not the guard's.
 */
static void
ddl_convert_timeout_error(MemoryContext cxt, bool stmt_fired, bool lock_lowered,
						  TimestampTz started, const char *stmt)
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
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("ddl guard rule \"ddl_timeout\": %s", what),
				 errdetail("DDL on an existing table holds its lock while it runs, and every query on the table waits behind it."),
				 errhint("Use the online form of the change (CONCURRENTLY, NOT VALID followed by VALIDATE CONSTRAINT, batched backfills), or have a DBA run SELECT hygiene.allow_ddl('ddl_timeout') in the migration's transaction.")));
	}
	if (lock_lowered && edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
		waited_ms >= ddl_lock_timeout_ms)
	{
		char	   *what = psprintf("gave up waiting for a lock after pg_hygiene.ddl_lock_timeout (%d ms)",
									ddl_lock_timeout_ms);

		FlushErrorState();
		ddl_events_record(DDL_ACTION_BLOCK, DDL_RULE_TIMEOUT, NULL, -1,
						  stmt, what);
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("ddl guard rule \"ddl_timeout\": %s", what),
				 errdetail("While DDL waits for its lock, every later query on the table queues behind it."),
				 errhint("Retry the statement later, in a loop with a short pause between attempts; pg_blocking_pids() shows which sessions hold the lock.")));
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
			hygiene_debug_notice("ddl guard: %s: %d rule hit(s), lock limit %s, statement limit %s",
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
			ddl_convert_timeout_error(cxt, fired, lock_lowered, started, stmt);
		}
		ddl_cur_query = save_query;
		ddl_cur_location = save_location;
		ddl_cur_len = save_len;
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

/* Define the GUCs, attach the event ring and install the hook. */
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
				 errmsg("unknown DDL guard rule \"%s\"", name),
				 errhint("Name one rule: table_rewrite, index_not_concurrent, new_table, full_scan_constraint, ddl_timeout, or all.")));

	if (!IsTransactionBlock())
		ereport(WARNING,
				(errmsg("hygiene.allow_ddl() outside a transaction block lasts only for this statement"),
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
	ereport(LOG, (errmsg("ddl guard override: %s", what)));

	PG_RETURN_VOID();
}

/*
 * hygiene._ddl_table_rewrite(): the table_rewrite event trigger.  Called by
 * ALTER TABLE / ALTER TYPE once per table it is about to rewrite.
 */
Datum
hygiene_ddl_table_rewrite(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	LOCAL_FCINFO(inner, 0);
	Oid			relid;
	int			reason;
	List	   *hits;
	ListCell   *lc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hygiene._ddl_table_rewrite() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	if (ddl_guard_mode == DDL_GUARD_OFF || ddl_exempt() ||
		!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE))
		PG_RETURN_NULL();

	InitFunctionCallInfoData(*inner, NULL, 0, InvalidOid, NULL, NULL);
	relid = DatumGetObjectId(pg_event_trigger_table_rewrite_oid(inner));
	InitFunctionCallInfoData(*inner, NULL, 0, InvalidOid, NULL, NULL);
	reason = DatumGetInt32(pg_event_trigger_table_rewrite_reason(inner));

	hits = ddl_check_rewrite(relid, reason, trigdata->parsetree);
	foreach(lc, hits)
		ddl_report((DdlViolation *) lfirst(lc));

	PG_RETURN_NULL();
}
