/*-------------------------------------------------------------------------
 *
 * ddl_guard.h
 *		Declarations shared by the DDL guard's files: ddl_guard.c (GUCs,
 *		hooks, timers, overrides), ddl_rules.c (what each statement would
 *		do, and the safe alternative) and ddl_events.c (the shared ring of
 *		guard events).
 *
 * IDENTIFICATION
 *	  src/ddl_guard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_DDL_GUARD_H
#define HYGIENE_DDL_GUARD_H

#include "postgres.h"

#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"
#include "utils/elog.h"

/*
 * The one SQLSTATE of every DDL guard block: class "PH" (pg_hygiene),
 * subclass "D01".  Documented in docs/ddl_guard.md.
 */
#define ERRCODE_HYGIENE_DDL_BLOCKED MAKE_SQLSTATE('P','H','D','0','1')

/* The named rules.  Keep ddl_rule_names[] in ddl_guard.c in this order. */
typedef enum DdlRule
{
	DDL_RULE_TABLE_REWRITE = 0,
	DDL_RULE_INDEX_NOT_CONCURRENT,
	DDL_RULE_NEW_TABLE,
	DDL_RULE_FULL_SCAN_CONSTRAINT,
	DDL_RULE_TIMEOUT,
	DDL_NUM_RULES
} DdlRule;

/* What the guard did about one rule hit; shown in hygiene.ddl_events. */
typedef enum DdlAction
{
	DDL_ACTION_WARN = 0,		/* ddl_guard = warn: reported, ran anyway */
	DDL_ACTION_BLOCK,			/* ddl_guard = enforce: statement refused */
	DDL_ACTION_ALLOW,			/* rule hit, but allowed by a DBA override */
	DDL_ACTION_OVERRIDE			/* hygiene.allow_ddl() was called */
} DdlAction;

/* pg_hygiene.ddl_guard */
typedef enum DdlGuardMode
{
	DDL_GUARD_OFF = 0,
	DDL_GUARD_WARN,
	DDL_GUARD_ENFORCE
} DdlGuardMode;

/*
 * One rule hit, fully described: everything the client message and the
 * event row need.  Strings are palloc'd in the current memory context.
 */
typedef struct DdlViolation
{
	DdlRule		rule;
	Oid			relid;			/* InvalidOid when not about one table */
	char	   *relname;		/* qualified name, or NULL */
	int64		size;			/* bytes, or -1 when not known */
	char	   *what;			/* errmsg text after the rule name */
	char	   *detail;			/* errdetail: lock level, size, why */
	char	   *hint;			/* errhint: the safe alternative */
} DdlViolation;

/* ddl_guard.c */
extern int	ddl_guard_mode;
extern int	ddl_small_table_size_kb;
extern char *ddl_new_table_schemas;
extern const char *const ddl_rule_names[];
extern void ddl_guard_init(void);
extern bool ddl_rule_enabled(DdlRule rule);
extern void ddl_report(DdlViolation *v);
extern const char *ddl_current_statement(void);
extern const char *ddl_statement_source(int *start, int *end);

/* ddl_rules.c */
extern List *ddl_check_statement(Node *parsetree, bool *is_concurrent);
extern List *ddl_check_rewrite(Oid relid, Node *parsetree);
extern bool ddl_statement_needs_timeout(Node *parsetree);
extern char *ddl_size_pretty(int64 bytes);
extern bool ddl_lock_target(Node *parsetree, Oid *relid, LOCKMODE *mode);

/* ddl_events.c */
extern void ddl_events_init(void);
extern void ddl_events_record(DdlAction action, DdlRule rule, const char *relname,
							  int64 size, const char *statement, const char *what);

#endif							/* HYGIENE_DDL_GUARD_H */
