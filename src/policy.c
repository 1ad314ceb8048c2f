/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Role and database settings (pg_hygiene.* in pg_db_role_setting) that
 *		reach sessions already open, and the primary-only and standby-only
 *		scopes pg_hygiene.on_primary and pg_hygiene.on_standby.
 *
 * Core applies ALTER ROLE/DATABASE ... SET only at login; a pooled server
 * connection keeps its login values for hours.  Here:
 *
 * - ALTER ROLE/DATABASE ... SET/RESET of a pg_hygiene setting (or RESET ALL)
 *   registers a relcache invalidation of pg_db_role_setting.  It is sent at
 *   commit (and only then), to every backend of every database (the catalog
 *   is shared), and it is part of the commit record, so hot standbys replay
 *   it into their backends as well.
 * - Each client backend's relcache callback sets pol_pending.  The next
 *   statement (planner, ExecutorStart or ProcessUtility, whichever comes
 *   first, in a valid transaction) re-reads pg_db_role_setting for the
 *   session's database and login role at the four levels core reads at login
 *   and applies only the pg_hygiene entries, each with set_config_option at
 *   the source core would have used (PGC_S_GLOBAL, DATABASE, USER,
 *   DATABASE_USER).  A value of a higher-priority source (a superuser's SET,
 *   PGOPTIONS) therefore stays in force; RESET in the session then returns to
 *   the new role value, as after a fresh login.
 * - An entry removed (RESET) must go back to the postgresql.conf or built-in
 *   value, which the GUC machinery no longer holds once a role value
 *   replaced it (sources only ever rise).  So each client backend keeps the
 *   value it had before its role settings were applied (taken in the
 *   ClientAuthentication hook, which runs before them, and refreshed from
 *   the reset value whenever no role setting covers it), lowers the role
 *   levels' sources of the setting to that value's source, as core does for
 *   removed postgresql.conf lines, and applies it again.
 * - When pol_pending is false the hot path tests two booleans and nothing
 *   else: no catalog access, no lock.
 *
 * pg_hygiene.on_standby and pg_hygiene.on_primary hold "name=value" pairs
 * (comma separated) of other pg_hygiene settings, which replace the plain
 * setting of the same level on a server in recovery, respectively on a
 * primary.  They are read from role and database settings only.
 *
 * IDENTIFICATION
 *	  src/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "pg_hygiene.h"

/*
 * ClientAuthentication_hook, declared as libpq/auth.h declares it: that
 * header pulls in libpq-be.h and with it the GSSAPI headers, which a server
 * development package does not bring.  The type is the same in 15 to 18.
 */
struct Port;
typedef void (*pol_client_auth_hook_type) (struct Port *port, int status);
extern PGDLLIMPORT pol_client_auth_hook_type ClientAuthentication_hook;

#define POL_PREFIX "pg_hygiene."
#define POL_PREFIX_LEN (sizeof(POL_PREFIX) - 1)

/* GUCs */
static char *pol_on_primary = NULL;
static char *pol_on_standby = NULL;

/* One pg_hygiene setting a role or database may carry, and its baseline. */
typedef struct PolVar
{
	struct config_generic *rec;
	char	   *base_value;		/* value before role settings, or NULL */
	GucSource	base_source;
} PolVar;

/* Backend state */
static PolVar *pol_vars = NULL;
static int	pol_nvars = 0;
static MemoryContext pol_cxt = NULL;
static bool pol_pending = true; /* first statement: see pol_refresh_if_pending */
static bool pol_inval_seen = false; /* an invalidation came since login */
static bool pol_standby_scope = false;	/* refreshed in recovery, scopes set */

static planner_hook_type prev_planner_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static pol_client_auth_hook_type prev_ClientAuthentication = NULL;

/* Is this source one of the role and database levels of pg_db_role_setting? */
static inline bool
pol_role_level(GucSource s)
{
	return s >= PGC_S_GLOBAL && s <= PGC_S_DATABASE_USER;
}

/* Collect the pg_hygiene settings a role or database may carry (once). */
static void
pol_collect_vars(void)
{
	struct config_generic **all;
	int			n;

	if (pol_vars != NULL)
		return;
	if (pol_cxt == NULL)
		pol_cxt = AllocSetContextCreate(TopMemoryContext, "pg_hygiene policy",
										ALLOCSET_SMALL_SIZES);
	all = hygiene_guc_variables(&n);
	pol_vars = MemoryContextAllocZero(pol_cxt, sizeof(PolVar) * Max(n, 1));
	pol_nvars = 0;
	for (int i = 0; i < n; i++)
	{
		struct config_generic *rec = all[i];

		if (pg_strncasecmp(rec->name, POL_PREFIX, POL_PREFIX_LEN) != 0 ||
			(rec->flags & GUC_CUSTOM_PLACEHOLDER) ||
			(rec->context != PGC_SUSET && rec->context != PGC_USERSET))
			continue;
		pol_vars[pol_nvars++].rec = rec;
	}
}

/* Find a collected setting by its full name (case-insensitive, as GUCs are). */
static PolVar *
pol_find_var(const char *name)
{
	pol_collect_vars();
	for (int i = 0; i < pol_nvars; i++)
		if (pg_strcasecmp(pol_vars[i].rec->name, name) == 0)
			return &pol_vars[i];
	return NULL;
}

/* The reset value of a setting as text that parses back to the same value. */
static char *
pol_reset_string(struct config_generic *rec)
{
	if (rec->vartype == PGC_REAL)
		return psprintf("%.17g", ((struct config_real *) rec)->reset_val);
	return pstrdup(GetConfigOptionResetString(rec->name));
}

/* Remember a setting's value as its baseline, when no role level covers it. */
static void
pol_take_baseline(PolVar *v)
{
	MemoryContext old;

	if (pol_role_level(v->rec->reset_source) || v->rec->reset_source > PGC_S_DATABASE_USER)
		return;
	old = MemoryContextSwitchTo(pol_cxt);
	if (v->base_value)
		pfree(v->base_value);
	v->base_value = pol_reset_string(v->rec);
	v->base_source = v->rec->reset_source;
	MemoryContextSwitchTo(old);
}

/*
 * ClientAuthentication hook: runs before the login's role and database
 * settings are applied, so the values now are the baselines.
 */
static void
pol_client_auth(struct Port *port, int status)
{
	if (prev_ClientAuthentication)
		prev_ClientAuthentication(port, status);
	if (status != STATUS_OK)
		return;
	pol_collect_vars();
	for (int i = 0; i < pol_nvars; i++)
		pol_take_baseline(&pol_vars[i]);
}

/* Relcache callback: pg_db_role_setting changed (or every entry was reset). */
static void
pol_relcache_cb(Datum arg, Oid relid)
{
	if (relid == DbRoleSettingRelationId || relid == InvalidOid)
	{
		pol_pending = true;
		pol_inval_seen = true;
	}
}

/*
 * Split a scope string "name=value, name=value" into full setting names and
 * values.  Returns false (with *bad set to the offending item) on a syntax
 * error.  Names may be given with or without the pg_hygiene. prefix.
 */
static bool
pol_parse_scope(const char *str, List **names, List **values, char **bad)
{
	char	   *copy = pstrdup(str);
	char	   *item;
	char	   *save = NULL;

	*names = NIL;
	*values = NIL;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *eq = strchr(item, '=');
		char	   *name;
		char	   *value;
		char	   *end;

		if (eq == NULL)
		{
			*bad = pstrdup(item);
			return false;
		}
		*eq = '\0';
		name = item;
		value = eq + 1;
		while (*name == ' ' || *name == '\t' || *name == '\n')
			name++;
		end = name + strlen(name);
		while (end > name && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			*--end = '\0';
		while (*value == ' ' || *value == '\t' || *value == '\n')
			value++;
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
			*--end = '\0';
		if (*name == '\0')
		{
			*eq = '=';
			*bad = pstrdup(item);
			return false;
		}
		if (pg_strncasecmp(name, POL_PREFIX, POL_PREFIX_LEN) != 0)
			name = psprintf(POL_PREFIX "%s", name);
		*names = lappend(*names, pstrdup(name));
		*values = lappend(*values, pstrdup(value));
	}
	return true;
}

/* Check hook of on_primary and on_standby: every pair names a valid setting and value. */
static bool
pol_check_scope(char **newval, void **extra, GucSource source)
{
	List	   *names;
	List	   *values;
	char	   *bad = NULL;
	ListCell   *lc1,
			   *lc2;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (source != PGC_S_DEFAULT && source != PGC_S_TEST && !pol_role_level(source))
	{
		GUC_check_errdetail("pg_hygiene.on_primary and pg_hygiene.on_standby are read from role and database settings only.");
		GUC_check_errhint("Use ALTER ROLE or ALTER DATABASE ... SET; in postgresql.conf or a session, set the setting itself (each server reads its own postgresql.conf).");
		return false;
	}
	if (!pol_parse_scope(*newval, &names, &values, &bad))
	{
		GUC_check_errdetail("\"%s\" is not of the form name=value.", bad);
		GUC_check_errhint("Give comma-separated pairs, e.g. 'max_active_statements=8, priority=low'.");
		return false;
	}
	forboth(lc1, names, lc2, values)
	{
		const char *name = lfirst(lc1);
		const char *value = lfirst(lc2);
		PolVar	   *v = pol_find_var(name);
		int			ok;

		if (v == NULL)
		{
			GUC_check_errdetail("\"%s\" is not a pg_hygiene setting that a role or database can carry.", name);
			return false;
		}
		if (pg_strcasecmp(name, POL_PREFIX "on_primary") == 0 ||
			pg_strcasecmp(name, POL_PREFIX "on_standby") == 0)
		{
			GUC_check_errdetail("pg_hygiene.on_primary and pg_hygiene.on_standby cannot name each other.");
			return false;
		}
		/* ALTER ROLE/DATABASE checks the privilege on each setting it stores */
		if (source == PGC_S_TEST && IsTransactionState() && !superuser() &&
			pg_parameter_aclcheck(v->rec->name, GetUserId(), ACL_SET) != ACLCHECK_OK)
		{
			GUC_check_errdetail("Permission denied to set parameter \"%s\", which this pair would set.", v->rec->name);
			return false;
		}
		ok = set_config_option(v->rec->name, value, PGC_SUSET, PGC_S_TEST,
							   GUC_ACTION_SET, false, DEBUG5, false);
		/* the nested check may have left its own texts behind */
		GUC_check_errmsg_string = NULL;
		GUC_check_errdetail_string = NULL;
		GUC_check_errhint_string = NULL;
		if (ok == 0)
		{
			GUC_check_errdetail("\"%s\" is not a valid value for %s.", value, v->rec->name);
			GUC_check_errhint("SET %s = '%s' in a session shows why.", v->rec->name, value);
			return false;
		}
	}
	return true;
}

/* One pg_hygiene entry of pg_db_role_setting, at its level. */
typedef struct PolEntry
{
	PolVar	   *var;
	const char *value;
	GucSource	source;
} PolEntry;

/*
 * Read the pg_hygiene entries of one level, put them into want[] (a higher
 * level read later replaces a lower one), then the pairs of the level's
 * scope setting for this server's role.  *any_scope is set when the level
 * has a non-empty on_primary or on_standby.
 */
static void
pol_read_level(Relation rel, Oid dbid, Oid roleid, GucSource source,
			   PolEntry *want, bool standby, bool *any_scope)
{
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	const char *scope_name = standby ? POL_PREFIX "on_standby" : POL_PREFIX "on_primary";
	char	   *scope = NULL;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(dbid));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
							  NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
									 RelationGetDescr(rel), &isnull);
		ArrayType  *a;
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;

		if (isnull)
			continue;
		a = DatumGetArrayTypeP(d);
		if (ARR_NDIM(a) != 1 || ARR_ELEMTYPE(a) != TEXTOID)
			continue;
		deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			char	   *s;
			char	   *name;
			char	   *value;
			PolVar	   *v;

			if (nulls[i])
				continue;
			s = TextDatumGetCString(elems[i]);
			if (pg_strncasecmp(s, POL_PREFIX, POL_PREFIX_LEN) != 0)
				continue;
			ParseLongOption(s, &name, &value);
			if (value == NULL)
				continue;
			if (pg_strcasecmp(name, scope_name) == 0)
				scope = value;
			if (value[0] != '\0' &&
				(pg_strcasecmp(name, POL_PREFIX "on_primary") == 0 ||
				 pg_strcasecmp(name, POL_PREFIX "on_standby") == 0))
				*any_scope = true;
			v = pol_find_var(name);
			if (v == NULL)
				continue;
			want[v - pol_vars].var = v;
			want[v - pol_vars].value = value;
			want[v - pol_vars].source = source;
		}
	}
	systable_endscan(scan);

	if (scope != NULL && scope[0] != '\0')
	{
		List	   *names;
		List	   *values;
		char	   *bad;
		ListCell   *lc1,
				   *lc2;

		if (pol_parse_scope(scope, &names, &values, &bad))
		{
			forboth(lc1, names, lc2, values)
			{
				PolVar	   *v = pol_find_var(lfirst(lc1));

				if (v == NULL)
					continue;
				want[v - pol_vars].var = v;
				want[v - pol_vars].value = lfirst(lc2);
				want[v - pol_vars].source = source;
			}
		}
	}
}

/* Lower the role levels' sources of a setting to its baseline's source. */
static void
pol_lower_sources(struct config_generic *rec, GucSource to)
{
	GucStack   *stack;

	if (pol_role_level(rec->source))
		rec->source = to;
	if (pol_role_level(rec->reset_source))
		rec->reset_source = to;
	for (stack = rec->stack; stack; stack = stack->prev)
		if (pol_role_level(stack->source))
			stack->source = to;
}

/* Does a role level set this setting's current, reset or a stacked value? */
static bool
pol_has_role_level(struct config_generic *rec)
{
	GucStack   *stack;

	if (pol_role_level(rec->source) || pol_role_level(rec->reset_source))
		return true;
	for (stack = rec->stack; stack; stack = stack->prev)
		if (pol_role_level(stack->source))
			return true;
	return false;
}

/* Re-read pg_db_role_setting and apply its pg_hygiene entries (see header). */
static void
pol_refresh(void)
{
	MemoryContext cxt;
	MemoryContext old;
	Relation	rel;
	PolEntry   *want;
	bool		standby = RecoveryInProgress();
	bool		any_scope = false;
	/* the role whose settings core applied at login (SET SESSION AUTHORIZATION aside) */
	Oid			roleid = GetAuthenticatedUserId();

	pol_collect_vars();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_hygiene policy refresh",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	want = palloc0(sizeof(PolEntry) * Max(pol_nvars, 1));

	/* lowest priority first: a later level replaces an earlier one */
	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	pol_read_level(rel, InvalidOid, InvalidOid, PGC_S_GLOBAL, want, standby, &any_scope);
	pol_read_level(rel, MyDatabaseId, InvalidOid, PGC_S_DATABASE, want, standby, &any_scope);
	pol_read_level(rel, InvalidOid, roleid, PGC_S_USER, want, standby, &any_scope);
	pol_read_level(rel, MyDatabaseId, roleid, PGC_S_DATABASE_USER, want, standby, &any_scope);
	table_close(rel, AccessShareLock);
	/* a promotion then switches this session from on_standby to on_primary */
	pol_standby_scope = standby && any_scope;

	for (int i = 0; i < pol_nvars; i++)
	{
		PolVar	   *v = &pol_vars[i];
		struct config_generic *rec = v->rec;
		GucSource	base_source;

		/* no role level now or before: the baseline is the reset value */
		if (!pol_has_role_level(rec))
		{
			pol_take_baseline(v);
			if (want[i].var == NULL)
				continue;
		}

		/* a bad value (which ALTER ROLE had accepted) keeps the old one */
		if (want[i].var != NULL &&
			set_config_option(rec->name, want[i].value, PGC_SUSET,
							  want[i].source, GUC_ACTION_SET, false, DEBUG5,
							  false) == 0)
		{
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pg_hygiene: role or database setting %s = '%s' is not valid, the session keeps %s = '%s'",
							rec->name, want[i].value, rec->name,
							GetConfigOption(rec->name, false, false)),
					 errhint("Correct it with ALTER ROLE or ALTER DATABASE ... SET %s.",
							 rec->name)));
			continue;
		}

		/*
		 * Back to the baseline, at its own source, so that RESET and a later
		 * postgresql.conf reload behave as in a session that never had the
		 * role value.  DEFAULT becomes DYNAMIC_DEFAULT: both show as
		 * "default", and the variable keeps its place in core's list of
		 * non-default variables (16 and later).
		 */
		if (v->base_value != NULL)
		{
			base_source = Max(v->base_source, PGC_S_DYNAMIC_DEFAULT);
			pol_lower_sources(rec, base_source);
			(void) set_config_option(rec->name, v->base_value, PGC_SUSET,
									 base_source, GUC_ACTION_SET, true,
									 WARNING, false);
		}
		if (want[i].var != NULL)
			(void) set_config_option(rec->name, want[i].value, PGC_SUSET,
									 want[i].source, GUC_ACTION_SET, true,
									 WARNING, false);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * The hot-path test: apply changed role and database settings before the
 * statement, when an invalidation came (or, at the first statement, when a
 * scope setting needs expanding).  Only in a valid transaction of a client
 * backend.
 */
static inline void
pol_refresh_if_pending(void)
{
	if (likely(!pol_pending))
	{
		/* a standby promoted: its scope settings give way to on_primary */
		if (unlikely(pol_standby_scope) && !RecoveryInProgress())
			pol_pending = true;
		else
			return;
	}
	if (MyBackendType != B_BACKEND || !IsTransactionState() || !IsNormalProcessingMode())
	{
		if (MyBackendType != B_BACKEND)
			pol_pending = false;
		return;
	}
	pol_pending = false;
	/* at login core applied every level: only a scope needs expanding */
	if (!pol_inval_seen && !pol_standby_scope &&
		(pol_on_primary == NULL || pol_on_primary[0] == '\0') &&
		(pol_on_standby == NULL || pol_on_standby[0] == '\0'))
		return;
	pol_refresh();
}

/* Planner hook: the plan caps see the settings in force. */
static PlannedStmt *
pol_planner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	pol_refresh_if_pending();
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* ExecutorStart hook: admission sees the settings in force. */
static void
pol_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	pol_refresh_if_pending();
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* Does this statement change pg_hygiene role or database settings? */
static bool
pol_changes_settings(Node *stmt)
{
	VariableSetStmt *set;

	if (IsA(stmt, AlterRoleSetStmt))
		set = ((AlterRoleSetStmt *) stmt)->setstmt;
	else if (IsA(stmt, AlterDatabaseSetStmt))
		set = ((AlterDatabaseSetStmt *) stmt)->setstmt;
	else
		return false;
	return set == NULL || set->name == NULL ||
		pg_strncasecmp(set->name, POL_PREFIX, POL_PREFIX_LEN) == 0;
}

/*
 * ProcessUtility hook: refresh before the statement (never before
 * transaction control, which may run in an aborted transaction); after
 * ALTER ROLE/DATABASE ... SET of a pg_hygiene setting, have every backend
 * re-read the settings once the change commits.
 */
static void
pol_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (!IsA(stmt, TransactionStmt))
		pol_refresh_if_pending();
	hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
								readOnlyTree, context, params, queryEnv,
								dest, qc);
	if (pol_changes_settings(stmt))
		CacheInvalidateRelcacheByRelid(DbRoleSettingRelationId);
}

/* Define the GUCs and install the hooks; called from _PG_init. */
void
policy_init(void)
{
	DefineCustomStringVariable("pg_hygiene.on_primary",
							   "pg_hygiene settings of this role or database that apply only on a primary.",
							   "Comma-separated name=value pairs of other pg_hygiene settings, e.g. 'max_active_statements=1'; they replace the plain setting of the same level (ALTER ROLE, ALTER DATABASE, IN DATABASE) on a server not in recovery.",
							   &pol_on_primary, "",
							   PGC_SUSET, 0, pol_check_scope, NULL, NULL);
	DefineCustomStringVariable("pg_hygiene.on_standby",
							   "pg_hygiene settings of this role or database that apply only on a hot standby.",
							   "Comma-separated name=value pairs of other pg_hygiene settings, e.g. 'max_active_statements=8'; they replace the plain setting of the same level on a server in recovery.",
							   &pol_on_standby, "",
							   PGC_SUSET, 0, pol_check_scope, NULL, NULL);

	CacheRegisterRelcacheCallback(pol_relcache_cb, (Datum) 0);

	prev_ClientAuthentication = ClientAuthentication_hook;
	ClientAuthentication_hook = pol_client_auth;
	prev_planner_hook = planner_hook;
	planner_hook = pol_planner;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = pol_ExecutorStart;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pol_ProcessUtility;
}
