/*-------------------------------------------------------------------------
 *
 * ddl_rules.c
 *		What a DDL statement would do to an existing table, and the safe
 *		alternative written out for that very statement.
 *
 * ddl_check_statement() is called from ProcessUtility before the statement
 * runs; ddl_check_rewrite() from the table_rewrite event trigger, once per
 * table ALTER TABLE is about to rewrite (see ddl_guard.c for why rewrites
 * are decided there).  Both return a list of DdlViolation for the caller to
 * report; they never raise the guard's errors themselves.
 *
 * Measuring a table: its name is resolved and locked with AccessShareLock,
 * which is released again as soon as the size is read, so that the
 * statement's own lock is never an upgrade of ours.  Partitioned tables count
 * the sum of their partitions.  Tables that are temporary, created in this
 * transaction, or empty never hit a rule (nobody else can be waiting for
 * them, or there is nothing to scan or copy).
 *
 * Hints are built from the statement's own text (inserting CONCURRENTLY or
 * ONLY at the right token, appending NOT VALID) or from its parse tree
 * (names, columns, types), always fully qualified as the user wrote them.
 *
 * IDENTIFICATION
 *	  src/ddl_rules.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/attmap.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_type.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_inherits.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "commands/tablecmds.h"
#include "commands/tablespace.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "pg_hygiene.h"
#include "compat.h"
#include "ddl_guard.h"

/* One table a statement works on, as measured by ddl_measure(). */
typedef struct DdlTarget
{
	bool		found;
	Oid			relid;
	char		relkind;
	bool		exempt;			/* temporary or created in this transaction */
	int64		size;			/* bytes; partitions summed */
	char	   *qualname;		/* SQL form, for hints and events */
	char	   *dispname;		/* schema.name unquoted, for "%s" in messages */
} DdlTarget;

/* Is the TypeName one of the serial pseudo-types, as ADD COLUMN reads it? */
static bool
ddl_is_serial(TypeName *tn)
{
	const char *name;

	if (list_length(tn->names) != 1 || tn->pct_type || tn->arrayBounds != NIL)
		return false;
	name = strVal(linitial(tn->names));
	return strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0 ||
		strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0 ||
		strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0;
}

/*
 * The default of a column as SQL (deparsed from the catalog), or NULL.
 * Called while ALTER TABLE rewrites: the new column and its default are
 * already in the catalogs (and in the relcache) at that point.
 */
static char *
ddl_column_default_sql(Oid relid, const char *colname)
{
	Relation	rel = try_relation_open(relid, NoLock);
	AttrNumber	attnum;
	char	   *result = NULL;

	if (rel == NULL)
		return NULL;
	attnum = get_attnum(relid, colname);
	if (attnum > 0 && attnum <= RelationGetNumberOfAttributes(rel) &&
		!TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attgenerated &&
		rel->rd_att->constr)
	{
		TupleConstr *constr = rel->rd_att->constr;

		for (int i = 0; i < constr->num_defval; i++)
			if (constr->defval[i].adnum == attnum)
				result = deparse_expression(stringToNode(constr->defval[i].adbin),
											NIL, false, false);
	}
	relation_close(rel, NoLock);
	return result;
}

/*
 * A TypeName as the user would write it ("bigint", "varchar(20)").  The
 * serial pseudo-types are no types (ADD COLUMN turns them into an integer
 * column and a sequence): they are given as the integer type they stand
 * for.  A name that does not resolve is printed as written; this is only
 * for a hint and must never raise an error of its own.
 */
static char *
ddl_type_string(TypeName *tn)
{
	Type		tup;
	int32		typmod;
	char	   *result;

	if (list_length(tn->names) == 1 && tn->pct_type == false &&
		tn->arrayBounds == NIL)
	{
		const char *name = strVal(linitial(tn->names));

		if (strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0)
			return pstrdup("smallint");
		if (strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0)
			return pstrdup("integer");
		if (strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0)
			return pstrdup("bigint");
	}
	tup = LookupTypeName(NULL, tn, &typmod, true);
	if (tup == NULL)
		return TypeNameToString(tn);
	result = format_type_with_typemod(typeTypeId(tup), typmod);
	ReleaseSysCache(tup);
	return result;
}

/* pg_size_pretty() of a byte count. */
char *
ddl_size_pretty(int64 bytes)
{
	return text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
															  Int64GetDatum(bytes))));
}

/*
 * A relation's two names: the SQL form (quote_qualified_identifier) for
 * hints and hygiene.ddl_events, and the plain schema.name that messages
 * put in double quotes, as PostgreSQL's own messages do.
 */
static void
ddl_target_names(DdlTarget *t, Relation rel)
{
	char	   *nsp = get_namespace_name(RelationGetNamespace(rel));

	t->qualname = quote_qualified_identifier(nsp, RelationGetRelationName(rel));
	t->dispname = psprintf("%s.%s", nsp, RelationGetRelationName(rel));
}

/* Bytes in the main fork of a relation with storage. */
static int64
ddl_rel_bytes(Relation rel)
{
	if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
		return 0;
	return (int64) RelationGetNumberOfBlocks(rel) * BLCKSZ;
}

/*
 * Measure a table by OID: lock it briefly, read kind, persistence, whether
 * it is new in this transaction, and its size (summed over partitions for a
 * partitioned table, or over all inheritance children when recurse).
 */
static void
ddl_measure_oid(Oid relid, bool recurse, DdlTarget *t)
{
	Relation	rel;

	memset(t, 0, sizeof(*t));
	t->relid = relid;
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return;
	t->found = true;
	t->relkind = rel->rd_rel->relkind;
	t->exempt = rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		rel->rd_createSubid != InvalidSubTransactionId;
	ddl_target_names(t, rel);
	t->size = ddl_rel_bytes(rel);

	if (t->relkind == RELKIND_PARTITIONED_TABLE ||
		(recurse && rel->rd_rel->relhassubclass))
	{
		List	   *children = find_all_inheritors(relid, AccessShareLock, NULL);
		ListCell   *lc;

		foreach(lc, children)
		{
			Oid			child = lfirst_oid(lc);
			Relation	crel;

			if (child == relid)
				continue;
			crel = try_relation_open(child, NoLock);
			if (crel != NULL)
			{
				t->size += ddl_rel_bytes(crel);
				relation_close(crel, NoLock);
			}
			UnlockRelationOid(child, AccessShareLock);
		}
	}
	relation_close(rel, AccessShareLock);
}

/*
 * The permission the statement's own check asks for.  The guard must not
 * lock, measure or record a table on behalf of a role that may not run the
 * command on it: for such a role it makes no decision at all, and the
 * command raises (or, for VACUUM, warns) exactly as stock does.
 */
typedef enum DdlPerm
{
	DDL_PERM_OWNER,				/* owner of the relation: ALTER TABLE, CREATE
								 * INDEX */
	DDL_PERM_MAINTAIN,			/* REINDEX, CLUSTER, REFRESH: owner, or from
								 * 17 on MAINTAIN (hygiene_may_maintain) */
	DDL_PERM_VACUUM,			/* like MAINTAIN, or owner of the database
								 * unless the table is shared */
	DDL_PERM_DROP				/* owner of the relation or of its schema */
} DdlPerm;

/* Does the current user have the privileges of the owner of this schema? */
static bool
ddl_owns_namespace(Oid nspid)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	bool		ok = false;

	if (HeapTupleIsValid(tup))
	{
		ok = has_privs_of_role(GetUserId(), ((Form_pg_namespace) GETSTRUCT(tup))->nspowner);
		ReleaseSysCache(tup);
	}
	return ok;
}

/* Does the current user have the privileges of the current database's owner? */
static bool
ddl_owns_database(void)
{
	HeapTuple	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(MyDatabaseId));
	bool		ok = false;

	if (HeapTupleIsValid(tup))
	{
		ok = has_privs_of_role(GetUserId(), ((Form_pg_database) GETSTRUCT(tup))->datdba);
		ReleaseSysCache(tup);
	}
	return ok;
}

/*
 * May the current user run the command on this relation?  Reads the catalog
 * cache only: no lock is taken.  A relation that has gone is "no".
 */
static bool
ddl_may_run(Oid relid, DdlPerm perm)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		return false;
	form = (Form_pg_class) GETSTRUCT(tup);
	if (perm == DDL_PERM_MAINTAIN || perm == DDL_PERM_VACUUM)
		ok = hygiene_may_maintain(relid, form->relowner);
	else
		ok = has_privs_of_role(GetUserId(), form->relowner);
	if (!ok && perm == DDL_PERM_VACUUM && !form->relisshared)
		ok = ddl_owns_database();
	if (!ok && perm == DDL_PERM_DROP)
		ok = ddl_owns_namespace(form->relnamespace);
	ReleaseSysCache(tup);
	return ok;
}

/*
 * Measure a table named by a RangeVar; t->found is false if it is missing
 * or the current user may not run the command on it (then nothing is
 * locked: the name is resolved without a lock).
 */
static void
ddl_measure(RangeVar *rv, bool recurse, DdlPerm perm, DdlTarget *t)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	memset(t, 0, sizeof(*t));
	if (OidIsValid(relid) && ddl_may_run(relid, perm))
		ddl_measure_oid(relid, recurse, t);
}

/*
 * Would defGetBoolean() accept this option's value?  The same inputs as
 * core's: no value, 0 or 1, or one of true/false/on/off in any case, as
 * spelled by defGetString() for the node kinds it knows.
 */
static bool
ddl_boolean_ok(DefElem *opt)
{
	const char *s;

	if (opt->arg == NULL)
		return true;
	switch (nodeTag(opt->arg))
	{
		case T_Integer:
			return intVal(opt->arg) == 0 || intVal(opt->arg) == 1;
		case T_Float:
		case T_Boolean:
		case T_String:
		case T_TypeName:
		case T_List:
		case T_A_Star:
			break;
		default:
			return false;
	}
	s = defGetString(opt);
	return pg_strcasecmp(s, "true") == 0 || pg_strcasecmp(s, "false") == 0 ||
		pg_strcasecmp(s, "on") == 0 || pg_strcasecmp(s, "off") == 0;
}

/*
 * A DefElem option list: is the named boolean option on?  Read as the
 * command reads it: every occurrence counts and the last one wins.  When an
 * occurrence has a value the command's defGetBoolean() would reject, the
 * command fails before doing anything; the answer is then "unknown", and
 * *known is set false so that the caller takes the stock path.
 */
static bool
ddl_option_value(List *options, const char *name, bool *known)
{
	ListCell   *lc;
	bool		on = false;

	*known = true;
	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, name) != 0)
			continue;
		if (!ddl_boolean_ok(opt))
		{
			*known = false;
			return false;
		}
		on = defGetBoolean(opt);
	}
	return on;
}

/* The option is known and on: the statement will run in that form. */
static bool
ddl_option_on(List *options, const char *name)
{
	bool		known;
	bool		on = ddl_option_value(options, name, &known);

	return known && on;
}

/* The option is known and off (or absent). */
static bool
ddl_option_off(List *options, const char *name)
{
	bool		known;
	bool		on = ddl_option_value(options, name, &known);

	return known && !on;
}

/* Allocate a violation. */
static DdlViolation *
ddl_violation(DdlRule rule, DdlTarget *t)
{
	DdlViolation *v = palloc0(sizeof(DdlViolation));

	v->rule = rule;
	v->relid = t ? t->relid : InvalidOid;
	v->relname = t ? t->qualname : NULL;
	v->size = t ? t->size : -1;
	return v;
}

/* "<name>" (<size>) for messages. */
static char *
ddl_table_and_size(DdlTarget *t)
{
	return psprintf("\"%s\" (%s)", t->dispname, ddl_size_pretty(t->size));
}

/* Is the table larger than pg_hygiene.ddl_small_table_size? */
static bool
ddl_is_big(DdlTarget *t)
{
	return t->size > (int64) ddl_small_table_size_kb * 1024;
}

/* ---- a tiny lexer over the statement text, for hints ---- */

/* Skip whitespace and comments. */
static int
ddl_skip_space(const char *s, int pos)
{
	for (;;)
	{
		while (s[pos] && isspace((unsigned char) s[pos]))
			pos++;
		if (s[pos] == '-' && s[pos + 1] == '-')
		{
			while (s[pos] && s[pos] != '\n')
				pos++;
			continue;
		}
		if (s[pos] == '/' && s[pos + 1] == '*')
		{
			int			depth = 1;

			pos += 2;
			while (s[pos] && depth > 0)
			{
				if (s[pos] == '/' && s[pos + 1] == '*')
					depth++, pos++;
				else if (s[pos] == '*' && s[pos + 1] == '/')
					depth--, pos++;
				pos++;
			}
			continue;
		}
		return pos;
	}
}

/*
 * Read one (possibly qualified, possibly quoted) name or keyword at pos.
 * Returns the position after it, or -1 if there is none.
 */
static int
ddl_read_word(const char *s, int pos, int *start)
{
	pos = ddl_skip_space(s, pos);
	*start = pos;
	for (;;)
	{
		if (s[pos] == '"')
		{
			pos++;
			while (s[pos] && !(s[pos] == '"' && s[pos + 1] != '"'))
				pos += (s[pos] == '"') ? 2 : 1;
			if (!s[pos])
				return -1;
			pos++;
		}
		else if (isalnum((unsigned char) s[pos]) || s[pos] == '_' ||
				 s[pos] == '$' || IS_HIGHBIT_SET(s[pos]))
		{
			while (isalnum((unsigned char) s[pos]) || s[pos] == '_' ||
				   s[pos] == '$' || IS_HIGHBIT_SET(s[pos]))
				pos++;
		}
		else
			return pos > *start ? pos : -1;
		if (s[pos] != '.')
			return pos;
		pos++;
	}
}

/* Does the word at [start, end) equal the keyword kw (case-insensitive)? */
static bool
ddl_word_is(const char *s, int start, int end, const char *kw)
{
	return end - start == (int) strlen(kw) &&
		pg_strncasecmp(s + start, kw, end - start) == 0;
}

/* s with text inserted at pos. */
static char *
ddl_insert_at(const char *s, int pos, const char *text)
{
	return psprintf("%.*s%s%s", pos, s, text, s + pos);
}

/* The statement text without trailing blanks and semicolons. */
static char *
ddl_statement_trimmed(void)
{
	char	   *s = pstrdup(ddl_current_statement());
	int			len = strlen(s);

	while (len > 0 && (isspace((unsigned char) s[len - 1]) || s[len - 1] == ';'))
		s[--len] = '\0';
	return s;
}

/*
 * For CREATE [UNIQUE] INDEX: the position right after INDEX, and (if on_pos
 * is given) right after the ON that precedes the table name; -1 if the text
 * does not parse that simply.
 */
static int
ddl_find_index_keyword(const char *s, int *on_pos)
{
	int			start,
				pos,
				after_index;

	pos = ddl_read_word(s, 0, &start);
	if (pos < 0 || !ddl_word_is(s, start, pos, "create"))
		return -1;
	pos = ddl_read_word(s, pos, &start);
	if (pos >= 0 && ddl_word_is(s, start, pos, "unique"))
		pos = ddl_read_word(s, pos, &start);
	if (pos < 0 || !ddl_word_is(s, start, pos, "index"))
		return -1;
	after_index = pos;
	if (on_pos)
	{
		*on_pos = -1;
		for (int i = 0; i < 6 && pos >= 0; i++)
		{
			pos = ddl_read_word(s, pos, &start);
			if (pos >= 0 && ddl_word_is(s, start, pos, "on"))
			{
				*on_pos = pos;
				break;
			}
		}
	}
	return after_index;
}

/* ---- index_not_concurrent ---- */

/* CREATE INDEX without CONCURRENTLY on a big table. */
static List *
ddl_check_index(IndexStmt *stmt, bool *target_exempt)
{
	DdlTarget	t;
	DdlViolation *v;
	char	   *sql;
	int			after_index,
				on_pos = -1;

	if (stmt->concurrent)
		return NIL;
	ddl_measure(stmt->relation, false, DDL_PERM_OWNER, &t);
	if (!t.found)
		return NIL;
	*target_exempt = t.exempt;
	if (t.exempt)
		return NIL;
	/* ON ONLY a partitioned parent: catalog only, partitions untouched. */
	if (t.relkind == RELKIND_PARTITIONED_TABLE && !stmt->relation->inh)
		return NIL;
	if (!ddl_is_big(&t))
		return NIL;

	v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, &t);
	v->what = psprintf("CREATE %sINDEX on \"%s\" without CONCURRENTLY",
					   stmt->unique ? "UNIQUE " : "", t.dispname);
	sql = ddl_statement_trimmed();
	after_index = ddl_find_index_keyword(sql, &on_pos);

	if (t.relkind == RELKIND_PARTITIONED_TABLE)
	{
		const char *idx = stmt->idxname ? quote_identifier(stmt->idxname) : "<index>";

		v->detail = psprintf("CREATE INDEX holds a ShareLock on the partitioned table %s, larger than pg_hygiene.ddl_small_table_size, and on every partition while it builds the index on each: every INSERT, UPDATE and DELETE waits.",
							 ddl_table_and_size(&t));
		v->hint = psprintf("CONCURRENTLY does not work on a partitioned table; build it partition by partition instead: %s; then for each partition: CREATE %sINDEX CONCURRENTLY <partition_index> ON <partition> (...same columns...); ALTER INDEX %s ATTACH PARTITION <partition_index>;",
						   on_pos >= 0 ? ddl_insert_at(sql, on_pos, " ONLY") :
						   psprintf("CREATE %sINDEX %s ON ONLY %s (...)",
									stmt->unique ? "UNIQUE " : "", idx, t.qualname),
						   stmt->unique ? "UNIQUE " : "", idx);
	}
	else
	{
		v->detail = psprintf("CREATE INDEX holds a ShareLock on %s, larger than pg_hygiene.ddl_small_table_size, for the whole build: every INSERT, UPDATE and DELETE on it waits.",
							 ddl_table_and_size(&t));
		v->hint = psprintf("Build it without blocking writes (outside a transaction block): %s;",
						   after_index >= 0 ? ddl_insert_at(sql, after_index, " CONCURRENTLY") :
						   "CREATE INDEX CONCURRENTLY ...");
	}
	return list_make1(v);
}

/* DROP INDEX without CONCURRENTLY on a big table. */
static List *
ddl_check_drop_index(DropStmt *stmt, bool *target_exempt)
{
	List	   *hits = NIL;
	ListCell   *lc;

	if (stmt->concurrent)
		return NIL;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			indexoid = RangeVarGetRelid(rv, NoLock, true);
		Oid			heapoid;
		DdlTarget	t;
		DdlViolation *v;
		char	   *idxname;

		if (!OidIsValid(indexoid) || !ddl_may_run(indexoid, DDL_PERM_DROP))
			continue;
		heapoid = IndexGetRelation(indexoid, true);
		if (!OidIsValid(heapoid))
			continue;
		ddl_measure_oid(heapoid, false, &t);
		if (!t.found || t.exempt || !ddl_is_big(&t))
		{
			*target_exempt = t.found && t.exempt && list_length(stmt->objects) == 1;
			continue;
		}
		idxname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
											 get_rel_name(indexoid));
		v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, &t);
		v->what = psprintf("DROP INDEX %s without CONCURRENTLY", idxname);
		v->detail = psprintf("DROP INDEX takes an AccessExclusiveLock on table %s: it waits behind every running query on the table, and every later query waits behind it.",
							 ddl_table_and_size(&t));
		if (t.relkind == RELKIND_PARTITIONED_TABLE)
			v->hint = psprintf("A partitioned index has no CONCURRENTLY form; drop it at a quiet time in a transaction that first runs SELECT hygiene.allow_ddl('index_not_concurrent');");
		else
			v->hint = psprintf("Drop it without blocking queries (outside a transaction block, one index per statement): DROP INDEX CONCURRENTLY %s%s;",
							   stmt->missing_ok ? "IF EXISTS " : "", idxname);
		hits = lappend(hits, v);
	}
	return hits;
}

/* REINDEX without CONCURRENTLY. */
static List *
ddl_check_reindex(ReindexStmt *stmt, bool *target_exempt)
{
	DdlTarget	t;
	DdlViolation *v;
	const char *kind;
	char	   *name;

	if (!ddl_option_off(stmt->params, "concurrently"))
		return NIL;

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			{
				Oid			indexoid = RangeVarGetRelid(stmt->relation, NoLock, true);
				Oid			heapoid;

				/*
				 * REINDEX INDEX checks ownership of the index (which its
				 * table's owner owns), from 17 on MAINTAIN on its table.
				 */
				if (!OidIsValid(indexoid))
					return NIL;
				heapoid = IndexGetRelation(indexoid, true);
				if (!OidIsValid(heapoid) || !ddl_may_run(heapoid, DDL_PERM_MAINTAIN))
					return NIL;
				ddl_measure_oid(heapoid, false, &t);
				kind = "INDEX";
				name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(indexoid)),
												  get_rel_name(indexoid));
				break;
			}
		case REINDEX_OBJECT_TABLE:
			ddl_measure(stmt->relation, false, DDL_PERM_MAINTAIN, &t);
			kind = "TABLE";
			name = t.qualname;
			break;
		case REINDEX_OBJECT_SCHEMA:
		case REINDEX_OBJECT_DATABASE:
			/* Only for the owner of the schema or the (current) database. */
			if (stmt->kind == REINDEX_OBJECT_SCHEMA)
			{
				Oid			nspid = get_namespace_oid(stmt->name, true);

				if (!OidIsValid(nspid) || !ddl_owns_namespace(nspid))
					return NIL;
			}
			else if ((stmt->name &&
					  strcmp(stmt->name, get_database_name(MyDatabaseId)) != 0) ||
					 !ddl_owns_database())
				return NIL;
			v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, NULL);
			kind = stmt->kind == REINDEX_OBJECT_SCHEMA ? "SCHEMA" : "DATABASE";
			name = (char *) quote_identifier(stmt->name ? stmt->name : get_database_name(MyDatabaseId));
			v->what = psprintf("REINDEX %s %s without CONCURRENTLY", kind, name);
			v->detail = pstrdup("REINDEX holds a ShareLock on each table and an AccessExclusiveLock on each index while it rebuilds them: writes, and reads that use the index, wait.");
			v->hint = psprintf("Rebuild them without blocking (outside a transaction block): REINDEX %s CONCURRENTLY %s;", kind, name);
			return list_make1(v);
		case REINDEX_OBJECT_SYSTEM:
			/* Only for the owner of the (current) database, as the command checks. */
			if ((stmt->name &&
				 strcmp(stmt->name, get_database_name(MyDatabaseId)) != 0) ||
				!ddl_owns_database())
				return NIL;
			v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, NULL);
			name = (char *) quote_identifier(get_database_name(MyDatabaseId));
			v->what = psprintf("REINDEX SYSTEM %s rebuilds every system catalog index", name);
			v->detail = pstrdup("REINDEX holds a ShareLock on each system catalog and an AccessExclusiveLock on each of its indexes while it rebuilds them: DDL, temporary tables and catalog lookups that miss the caches wait, in every session of the database.");
			v->hint = pstrdup("System catalogs cannot be reindexed CONCURRENTLY; rebuild only the bloated ones, one at a time at a quiet time (REINDEX TABLE pg_catalog.<catalog>), in a transaction that first runs SELECT hygiene.allow_ddl('index_not_concurrent').");
			return list_make1(v);
		default:
			return NIL;
	}

	if (!t.found)
		return NIL;
	*target_exempt = t.exempt;
	if (t.exempt || !ddl_is_big(&t))
		return NIL;
	v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, &t);
	v->what = psprintf("REINDEX %s %s without CONCURRENTLY", kind, name);
	v->detail = psprintf("REINDEX holds a ShareLock on table %s and an AccessExclusiveLock on the index while it rebuilds: writes, and reads that use the index, wait.",
						 ddl_table_and_size(&t));
	v->hint = psprintf("Rebuild without blocking (outside a transaction block): REINDEX %s CONCURRENTLY %s;",
					   kind, name);
	return list_make1(v);
}

/* ---- table_rewrite: statements that always rewrite ---- */

/* VACUUM FULL. */
static List *
ddl_check_vacuum(VacuumStmt *stmt, bool *target_exempt)
{
	List	   *hits = NIL;
	ListCell   *lc;
	bool		all_exempt = stmt->rels != NIL;

	if (!stmt->is_vacuumcmd || !ddl_option_on(stmt->options, "full"))
		return NIL;
	if (stmt->rels == NIL)
	{
		DdlViolation *v = ddl_violation(DDL_RULE_TABLE_REWRITE, NULL);

		v->what = pstrdup("VACUUM FULL without a table list rewrites every table of the database");
		v->detail = pstrdup("VACUUM FULL holds an AccessExclusiveLock on each table while it writes a new copy of it and its indexes, all of which goes to the replicas as WAL.");
		v->hint = pstrdup("Run plain VACUUM (it takes no exclusive lock); to shrink a bloated table online, use pg_repack or pg_squeeze on that table.");
		return list_make1(v);
	}
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = (VacuumRelation *) lfirst(lc);
		DdlTarget	t;
		DdlViolation *v;

		if (vrel->relation == NULL)
			continue;
		ddl_measure(vrel->relation, true, DDL_PERM_VACUUM, &t);
		if (!t.found)
			continue;			/* missing, or the role may not vacuum it */
		if (!t.exempt)
			all_exempt = false;
		if (t.exempt || t.size == 0)
			continue;
		v = ddl_violation(DDL_RULE_TABLE_REWRITE, &t);
		v->what = psprintf("VACUUM FULL rewrites \"%s\"", t.dispname);
		v->detail = psprintf("VACUUM FULL holds an AccessExclusiveLock on %s while it writes a new copy of the table and its indexes, all of which goes to the replicas as WAL.",
							 ddl_table_and_size(&t));
		v->hint = psprintf("Run VACUUM %s instead (no exclusive lock; frees space for reuse), or shrink it online with pg_repack --table=%s or pg_squeeze.",
						   t.qualname, t.qualname);
		hits = lappend(hits, v);
	}
	*target_exempt = all_exempt;
	return hits;
}

/* CLUSTER. */
static List *
ddl_check_cluster(ClusterStmt *stmt, bool *target_exempt)
{
	DdlTarget	t;
	DdlViolation *v;

	if (stmt->relation == NULL)
	{
		v = ddl_violation(DDL_RULE_TABLE_REWRITE, NULL);
		v->what = pstrdup("CLUSTER without a table rewrites every previously clustered table");
		v->detail = pstrdup("CLUSTER holds an AccessExclusiveLock on each table while it writes a sorted copy of it and its indexes.");
		v->hint = pstrdup("Reorder tables online with pg_repack --order-by, one table at a time.");
		return list_make1(v);
	}
	ddl_measure(stmt->relation, true, DDL_PERM_MAINTAIN, &t);
	if (!t.found)
		return NIL;
	*target_exempt = t.exempt;
	if (t.exempt || t.size == 0)
		return NIL;
	v = ddl_violation(DDL_RULE_TABLE_REWRITE, &t);
	v->what = psprintf("CLUSTER rewrites \"%s\"", t.dispname);
	v->detail = psprintf("CLUSTER holds an AccessExclusiveLock on %s while it writes a sorted copy of the table and its indexes: every query on it waits.",
						 ddl_table_and_size(&t));
	v->hint = psprintf("Reorder it online with pg_repack --table=%s%s%s (later writes do not keep the order anyway).",
					   t.qualname, stmt->indexname ? " --order-by=<the columns of " : "",
					   stmt->indexname ? psprintf("%s>", quote_identifier(stmt->indexname)) : "");
	return list_make1(v);
}

/* REFRESH MATERIALIZED VIEW without CONCURRENTLY of a large matview. */
static List *
ddl_check_refresh(RefreshMatViewStmt *stmt, bool *target_exempt)
{
	DdlTarget	t;
	DdlViolation *v;

	if (stmt->concurrent || stmt->skipData)
		return NIL;
	ddl_measure(stmt->relation, false, DDL_PERM_MAINTAIN, &t);
	if (!t.found)
		return NIL;
	*target_exempt = t.exempt;
	if (t.exempt || !ddl_is_big(&t))
		return NIL;
	v = ddl_violation(DDL_RULE_TABLE_REWRITE, &t);
	v->what = psprintf("REFRESH MATERIALIZED VIEW \"%s\" without CONCURRENTLY", t.dispname);
	v->detail = psprintf("REFRESH MATERIALIZED VIEW holds an AccessExclusiveLock on %s, larger than pg_hygiene.ddl_small_table_size, while it recomputes and rewrites it: every SELECT on it waits.",
						 ddl_table_and_size(&t));
	v->hint = psprintf("REFRESH MATERIALIZED VIEW CONCURRENTLY %s; (it needs a unique index on plain columns of the view, e.g. CREATE UNIQUE INDEX CONCURRENTLY ON %s (<key columns>)).",
					   t.qualname, t.qualname);
	return list_make1(v);
}

/* ---- new_table ---- */

/* Is the schema listed in pg_hygiene.ddl_new_table_schemas? */
static bool
ddl_schema_allowed(const char *nspname)
{
	char	   *raw = pstrdup(ddl_new_table_schemas ? ddl_new_table_schemas : "");
	List	   *names;
	ListCell   *lc;

	if (!SplitIdentifierString(raw, ',', &names))
		return false;
	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), nspname) == 0)
			return true;
	return false;
}

/* CREATE TABLE / CREATE TABLE AS / SELECT INTO / CREATE MATERIALIZED VIEW. */
static List *
ddl_check_new_table(RangeVar *rv, const char *verb)
{
	Oid			nspid;
	char	   *nspname;
	DdlViolation *v;
	char	   *qualname;

	if (!ddl_rule_enabled(DDL_RULE_NEW_TABLE) ||
		rv->relpersistence == RELPERSISTENCE_TEMP)
		return NIL;
	nspid = RangeVarGetCreationNamespace(rv);
	if (isAnyTempNamespace(nspid))
		return NIL;
	/* No CREATE on the schema: the command's own check refuses it. */
	if (hygiene_namespace_aclcheck(nspid, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
		return NIL;
	nspname = get_namespace_name(nspid);
	if (ddl_schema_allowed(nspname))
		return NIL;

	qualname = quote_qualified_identifier(nspname, rv->relname);
	v = ddl_violation(DDL_RULE_NEW_TABLE, NULL);
	v->relname = qualname;
	v->what = psprintf("%s creates the new permanent table \"%s.%s\"", verb, nspname, rv->relname);
	v->detail = psprintf("New workloads do not belong on this primary: permanent tables may be created only in the schemas of pg_hygiene.ddl_new_table_schemas (%s).",
						 ddl_new_table_schemas && ddl_new_table_schemas[0] ? ddl_new_table_schemas : "none");
	if (ddl_new_table_schemas && ddl_new_table_schemas[0])
	{
		char	   *raw = pstrdup(ddl_new_table_schemas);
		List	   *names;
		const char *target;
		const char *form;

		SplitIdentifierString(raw, ',', &names);
		target = quote_qualified_identifier((char *) linitial(names), rv->relname);

		if (strcmp(verb, "SELECT INTO") == 0)
			form = psprintf("SELECT ... INTO %s ...", target);
		else if (strcmp(verb, "CREATE TABLE AS") == 0)
			form = psprintf("CREATE TABLE %s AS ...", target);
		else if (strcmp(verb, "CREATE MATERIALIZED VIEW") == 0)
			form = psprintf("CREATE MATERIALIZED VIEW %s AS ...", target);
		else
			form = psprintf("CREATE TABLE %s (...)", target);
		v->hint = psprintf("Create it in an allowed schema (%s), or have a DBA run SELECT hygiene.allow_ddl('new_table') in the transaction.",
						   form);
	}
	else
		v->hint = psprintf("Create it in a database meant for new workloads%s, or have a DBA run SELECT hygiene.allow_ddl('new_table') in the transaction.",
						   strcmp(verb, "CREATE MATERIALIZED VIEW") == 0 ? "" :
						   psprintf(", or as a temporary table if it is scratch data (%s)",
									strcmp(verb, "SELECT INTO") == 0 ? "SELECT ... INTO TEMP ..." :
									strcmp(verb, "CREATE TABLE AS") == 0 ? "CREATE TEMP TABLE ... AS ..." :
									"CREATE TEMP TABLE ..."));
	return list_make1(v);
}

/* ---- full_scan_constraint ---- */

/* Is "col IS NOT NULL" implied by the table's validated CHECK constraints? */
static bool
ddl_not_null_implied(Oid relid, const char *colname)
{
	Relation	rel;
	AttrNumber	attnum;
	bool		implied = false;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return false;
	attnum = get_attnum(relid, colname);
	if (attnum <= 0)
		implied = true;			/* no such column, or a system column: let
								 * ALTER TABLE complain */
	else if (TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attnotnull)
		implied = true;			/* already NOT NULL: nothing to check */
	else if (rel->rd_att->constr && rel->rd_att->constr->num_check > 0)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
		TupleConstr *constr = rel->rd_att->constr;
		List	   *exist = NIL;
		NullTest   *test = makeNode(NullTest);

		for (int i = 0; i < constr->num_check; i++)
		{
			Node	   *expr;

			if (!constr->check[i].ccvalid)
				continue;
			expr = stringToNode(constr->check[i].ccbin);
			expr = eval_const_expressions(NULL, expr);
			expr = (Node *) canonicalize_qual((Expr *) expr, true);
			exist = list_concat(exist, make_ands_implicit((Expr *) expr));
		}
		test->arg = (Expr *) makeVar(1, attnum, att->atttypid, att->atttypmod,
									 att->attcollation, 0);
		test->nulltesttype = IS_NOT_NULL;
		test->argisrow = false;
		test->location = -1;
		implied = predicate_implied_by(list_make1(test), exist, false);
	}
	relation_close(rel, AccessShareLock);
	return implied;
}

/* Name for a constraint the user left unnamed. */
static char *
ddl_default_conname(const char *relname, const char *suffix)
{
	return psprintf("%s_%s", relname, suffix);
}

/* The hint for CHECK / FOREIGN KEY without NOT VALID. */
static char *
ddl_not_valid_hint(Constraint *con, RangeVar *rv, const char *table, bool single_cmd)
{
	const char *suffix = con->contype == CONSTR_CHECK ? "check" : "fkey";
	const char *name = con->conname ? con->conname : ddl_default_conname(rv->relname, suffix);
	const char *qname = quote_identifier(name);
	int			start,
				end;
	const char *src = ddl_statement_source(&start, &end);

	/* The constraint's own text runs from its location to the statement end. */
	if (single_cmd && src && con->location >= start && con->location < end)
	{
		char	   *text = pnstrdup(src + con->location, end - con->location);
		int			len = strlen(text);

		while (len > 0 && (isspace((unsigned char) text[len - 1]) || text[len - 1] == ';'))
			text[--len] = '\0';
		return psprintf("Add it without the scan, then validate it under a weaker lock: ALTER TABLE %s ADD %s%s NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
						table, con->conname ? "" : psprintf("CONSTRAINT %s ", qname),
						text, table, qname);
	}
	return psprintf("Add each constraint in its own statement with NOT VALID, then validate it under a weaker lock: ALTER TABLE %s ADD CONSTRAINT %s %s (...) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					table, qname, con->contype == CONSTR_CHECK ? "CHECK" : "FOREIGN KEY",
					table, qname);
}

/* Column list "a, b" of a PRIMARY KEY / UNIQUE constraint. */
static char *
ddl_key_columns(Constraint *con, const char *colname, char **name_part)
{
	StringInfoData cols,
				names;
	ListCell   *lc;

	initStringInfo(&cols);
	initStringInfo(&names);
	if (con->keys == NIL && colname)
	{
		appendStringInfoString(&cols, quote_identifier(colname));
		appendStringInfoString(&names, colname);
	}
	foreach(lc, con->keys)
	{
		const char *c = strVal(lfirst(lc));

		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", quote_identifier(c));
		appendStringInfo(&names, "%s%s", names.len ? "_" : "", c);
	}
	*name_part = names.data;
	return cols.data;
}

/*
 * End of a column CHECK constraint in the statement text: just after the
 * parenthesis that closes its expression; -1 when it cannot be found.
 */
static int
ddl_check_end(const char *src, int pos, int end)
{
	int			depth = 0;

	for (; pos < end && src[pos]; pos++)
	{
		char		c = src[pos];

		if (c == '\'' || c == '"')
		{
			/* quoted literal or identifier; doubled quotes stay inside */
			for (pos++; pos < end && src[pos]; pos++)
				if (src[pos] == c)
				{
					if (pos + 1 < end && src[pos + 1] == c)
						pos++;
					else
						break;
				}
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return pos + 1;
	}
	return -1;
}

/* " ON DELETE CASCADE" etc. for a foreign key action code, or "". */
static const char *
ddl_fk_action(const char *event, char action)
{
	const char *what;

	switch (action)
	{
		case FKCONSTR_ACTION_RESTRICT:
			what = "RESTRICT";
			break;
		case FKCONSTR_ACTION_CASCADE:
			what = "CASCADE";
			break;
		case FKCONSTR_ACTION_SETNULL:
			what = "SET NULL";
			break;
		case FKCONSTR_ACTION_SETDEFAULT:
			what = "SET DEFAULT";
			break;
		default:
			return "";
	}
	return psprintf(" ON %s %s", event, what);
}

/*
 * The hint for a CHECK or REFERENCES written on ADD COLUMN: add the column
 * without it, then the constraint NOT VALID, then validate.  Every part is
 * written out (the column as the user wrote it minus the constraint when the
 * statement has one command, else its name and type).
 */
static char *
ddl_column_constraint_hint(Constraint *con, ColumnDef *coldef, RangeVar *rv,
						   const char *table, bool single_cmd)
{
	int			start,
				end;
	const char *src = ddl_statement_source(&start, &end);
	const char *qname;
	char	   *column = NULL;
	char	   *condef = NULL;
	int			con_end = -1;

	qname = quote_identifier(con->conname ? con->conname :
							 psprintf("%s_%s_%s", rv->relname, coldef->colname,
									  con->contype == CONSTR_CHECK ? "check" : "fkey"));
	if (con->contype == CONSTR_CHECK && src && con->location >= start &&
		con->location < end)
		con_end = ddl_check_end(src, con->location, end);
	if (con->contype == CONSTR_CHECK)
	{
		const char *check;
		int			cs;

		if (con_end < 0)
			return psprintf("Add the column first, then the constraint with NOT VALID, then validate it under a weaker lock: ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ADD CONSTRAINT %s CHECK (<the expression>) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
							table, quote_identifier(coldef->colname),
							ddl_type_string(coldef->typeName), table, qname, table, qname);
		/* the CHECK (...) itself, without a CONSTRAINT name before it */
		check = src + con->location;
		cs = con->location;
		if (con->conname)
		{
			int			ws,
						we = ddl_read_word(src, con->location, &ws);	/* CONSTRAINT */

			if (we > 0)
				we = ddl_read_word(src, we, &ws);	/* its name */
			if (we > 0 && we < con_end)
			{
				cs = ddl_skip_space(src, we);
				check = src + cs;
			}
		}
		condef = pnstrdup(check, con_end - cs);
	}
	else
	{
		StringInfoData fk;
		ListCell   *lc;

		initStringInfo(&fk);
		appendStringInfo(&fk, "FOREIGN KEY (%s) REFERENCES %s",
						 quote_identifier(coldef->colname),
						 quote_qualified_identifier(con->pktable->schemaname,
													con->pktable->relname));
		foreach(lc, con->pk_attrs)
			appendStringInfo(&fk, "%s%s%s", foreach_current_index(lc) == 0 ? " (" : ", ",
							 quote_identifier(strVal(lfirst(lc))),
							 lnext(con->pk_attrs, lc) ? "" : ")");
		if (con->fk_matchtype == FKCONSTR_MATCH_FULL)
			appendStringInfoString(&fk, " MATCH FULL");
		appendStringInfoString(&fk, ddl_fk_action("UPDATE", con->fk_upd_action));
		appendStringInfoString(&fk, ddl_fk_action("DELETE", con->fk_del_action));
		if (con->deferrable)
			appendStringInfo(&fk, " DEFERRABLE%s", con->initdeferred ? " INITIALLY DEFERRED" : "");
		condef = fk.data;
	}

	/* The column: as written minus the constraint, or name and type. */
	if (single_cmd && src && con_end > 0 && coldef->location >= start &&
		coldef->location < con->location)
	{
		char	   *before = pnstrdup(src + coldef->location, con->location - coldef->location);
		char	   *after = pnstrdup(src + con_end, end - con_end);
		int			len = strlen(before);

		while (len > 0 && isspace((unsigned char) before[len - 1]))
			before[--len] = '\0';

		column = psprintf("%s%s", before, after);
		len = strlen(column);
		while (len > 0 && (isspace((unsigned char) column[len - 1]) || column[len - 1] == ';'))
			column[--len] = '\0';
	}
	if (column == NULL)
		column = psprintf("%s %s", quote_identifier(coldef->colname),
						  ddl_type_string(coldef->typeName));

	return psprintf("Add the column first, then the constraint with NOT VALID, then validate it under a weaker lock: ALTER TABLE %s ADD COLUMN %s; ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					table, column, table, qname, condef, table, qname);
}

/* One constraint of ALTER TABLE: a violation if it scans the table. */
static DdlViolation *
ddl_check_constraint(Constraint *con, RangeVar *rv, DdlTarget *t,
					 ColumnDef *coldef, bool single_cmd)
{
	const char *colname = coldef ? coldef->colname : NULL;

	DdlViolation *v;
	char	   *table = t->qualname;
	char	   *disp = t->dispname;

	switch (con->contype)
	{
		case CONSTR_CHECK:
		case CONSTR_FOREIGN:
			if (con->skip_validation)
				return NULL;
			v = ddl_violation(DDL_RULE_FULL_SCAN_CONSTRAINT, t);
			v->what = psprintf("%s on \"%s\" without NOT VALID",
							   con->contype == CONSTR_CHECK ? "ADD CHECK" : "ADD FOREIGN KEY", disp);
			v->detail = psprintf("ALTER TABLE holds %s on %s%s while it reads every row to check the new constraint.",
								 con->contype == CONSTR_CHECK ?
								 "an AccessExclusiveLock" : "a ShareRowExclusiveLock",
								 ddl_table_and_size(t),
								 con->contype == CONSTR_CHECK ? "" : " and on the referenced table");
			if (coldef)
				v->hint = ddl_column_constraint_hint(con, coldef, rv, table, single_cmd);
			else
				v->hint = ddl_not_valid_hint(con, rv, table, single_cmd);
			return v;
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			{
				bool		pk = con->contype == CONSTR_PRIMARY;
				char	   *name_part;
				char	   *cols;
				char	   *idx;
				char	   *conname;

				if (con->indexname)
					return NULL;
				cols = ddl_key_columns(con, colname, &name_part);
				idx = psprintf("%s_%s_%s", rv->relname, name_part, pk ? "pkey_idx" : "key");
				conname = con->conname ? con->conname :
					psprintf("%s_%s", rv->relname, pk ? "pkey" : psprintf("%s_key", name_part));
				v = ddl_violation(DDL_RULE_FULL_SCAN_CONSTRAINT, t);
				v->what = psprintf("ADD %s on \"%s\" without USING INDEX",
								   pk ? "PRIMARY KEY" : "UNIQUE", disp);
				v->detail = psprintf("ALTER TABLE holds an AccessExclusiveLock on %s while it reads every row to build the unique index.",
									 ddl_table_and_size(t));
				v->hint = psprintf("Build the index first without blocking writes, then attach it: CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s); ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;%s",
								   quote_identifier(idx), table, cols, table,
								   quote_identifier(conname), pk ? "PRIMARY KEY" : "UNIQUE",
								   quote_identifier(idx),
								   pk ? " (Make the key columns NOT NULL first the safe way, or the PRIMARY KEY step scans the table for NULLs.)" : "");
				return v;
			}
		case CONSTR_EXCLUSION:
			v = ddl_violation(DDL_RULE_FULL_SCAN_CONSTRAINT, t);
			v->what = psprintf("ADD EXCLUDE on \"%s\"", disp);
			v->detail = psprintf("ALTER TABLE holds an AccessExclusiveLock on %s while it reads every row to build the exclusion index.",
								 ddl_table_and_size(t));
			v->hint = pstrdup("Exclusion constraints have no online form; add it at a quiet time in a transaction that first runs SELECT hygiene.allow_ddl('full_scan_constraint').");
			return v;
		default:
			return NULL;
	}
}

/*
 * The tablespace a relation would be moved to: InvalidOid for the
 * database's default, as pg_class stores it.
 */
static Oid
ddl_tablespace_target(const char *name, bool *found)
{
	Oid			ts = get_tablespace_oid(name, true);

	*found = OidIsValid(ts);
	return ts == MyDatabaseTableSpace ? InvalidOid : ts;
}

/*
 * ALTER TABLE / INDEX / MATERIALIZED VIEW ... SET TABLESPACE: copies every
 * file of the relation under an AccessExclusiveLock, block by block, without
 * a new heap (so the object access hook never sees it).  A move to the
 * tablespace it is already in does nothing, and a partitioned table only
 * changes its default: both pass.
 */
static DdlViolation *
ddl_check_set_tablespace(AlterTableStmt *stmt, AlterTableCmd *cmd,
						 bool *target_exempt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	Oid			newts;
	bool		found;
	Relation	rel;
	DdlTarget	t;
	DdlViolation *v;
	bool		is_index;

	if (!OidIsValid(relid) || !ddl_may_run(relid, DDL_PERM_OWNER))
		return NULL;
	newts = ddl_tablespace_target(cmd->name, &found);
	if (!found)
		return NULL;			/* the command reports the missing tablespace */
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return NULL;
	memset(&t, 0, sizeof(t));
	t.found = true;
	t.relid = relid;
	t.relkind = rel->rd_rel->relkind;
	t.exempt = rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		rel->rd_createSubid != InvalidSubTransactionId;
	t.size = ddl_rel_bytes(rel);
	ddl_target_names(&t, rel);
	is_index = t.relkind == RELKIND_INDEX;
	found = RELKIND_HAS_STORAGE(t.relkind) && rel->rd_rel->reltablespace != newts;
	relation_close(rel, AccessShareLock);
	if (t.exempt)
		*target_exempt = true;
	if (!found || t.exempt || t.size == 0)
		return NULL;

	v = ddl_violation(DDL_RULE_TABLE_REWRITE, &t);
	v->what = psprintf("SET TABLESPACE copies \"%s\" to tablespace \"%s\"",
					   t.dispname, cmd->name);
	v->detail = psprintf("ALTER %s holds an AccessExclusiveLock on %s while it copies every file of it to the new tablespace, all of which goes to the replicas as WAL.",
						 is_index ? "INDEX" : stmt->objtype == OBJECT_MATVIEW ? "MATERIALIZED VIEW" : "TABLE",
						 ddl_table_and_size(&t));
	if (is_index)
		v->hint = psprintf("Rebuild it in the new tablespace without blocking (outside a transaction block): REINDEX (TABLESPACE %s) INDEX CONCURRENTLY %s;",
						   quote_identifier(cmd->name), t.qualname);
	else
		v->hint = psprintf("Move it online with pg_repack --table=%s --tablespace=%s, or run it at a quiet time in a transaction that first runs SELECT hygiene.allow_ddl('table_rewrite').",
						   t.qualname, cmd->name);
	return v;
}

/* ALTER TABLE ALL IN TABLESPACE ... SET TABLESPACE: moves many relations. */
static List *
ddl_check_move_all(AlterTableMoveAllStmt *stmt)
{
	DdlViolation *v;
	bool		found_orig,
				found_new;
	Oid			orig = ddl_tablespace_target(stmt->orig_tablespacename, &found_orig);
	Oid			dest = ddl_tablespace_target(stmt->new_tablespacename, &found_new);

	if (!found_orig || !found_new || orig == dest)
		return NIL;
	v = ddl_violation(DDL_RULE_TABLE_REWRITE, NULL);
	v->what = psprintf("ALL IN TABLESPACE \"%s\" SET TABLESPACE \"%s\" copies every relation it moves",
					   stmt->orig_tablespacename, stmt->new_tablespacename);
	v->detail = pstrdup("It holds an AccessExclusiveLock on each relation it moves while it copies every file of it, and keeps them all until the end of the transaction.");
	v->hint = psprintf("Move tables one at a time online with pg_repack --tablespace=%s, indexes with REINDEX (TABLESPACE %s) INDEX CONCURRENTLY; or run it at a quiet time in a transaction that first runs SELECT hygiene.allow_ddl('table_rewrite').",
					   stmt->new_tablespacename, quote_identifier(stmt->new_tablespacename));
	return list_make1(v);
}

/*
 * ATTACH PARTITION: for each index of the partitioned table that the table
 * being attached has no valid matching index for, ATTACH builds one on it
 * (and on its partitions) while it holds an AccessExclusiveLock on it.
 * Matching is decided by core's CompareIndexInfo(), as ATTACH decides it.
 * Returns the names of the parent's indexes that would be built, or NIL.
 */
static List *
ddl_attach_missing_indexes(Relation parent, Relation part)
{
	List	   *missing = NIL;
	List	   *pidx = RelationGetIndexList(parent);
	List	   *cidx = RelationGetIndexList(part);
	AttrMap    *attmap;
	ListCell   *lc;

	if (pidx == NIL || part->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
		return NIL;
	attmap = hygiene_attrmap_by_name(RelationGetDescr(part), RelationGetDescr(parent));
	foreach(lc, pidx)
	{
		Relation	pi = index_open(lfirst_oid(lc), AccessShareLock);
		IndexInfo  *pinfo;
		bool		found = false;
		ListCell   *lc2;

		if (pi->rd_rel->relkind != RELKIND_PARTITIONED_INDEX)
		{
			index_close(pi, AccessShareLock);
			continue;
		}
		pinfo = BuildIndexInfo(pi);
		foreach(lc2, cidx)
		{
			Relation	ci = index_open(lfirst_oid(lc2), AccessShareLock);

			if (!ci->rd_rel->relispartition && ci->rd_index->indisvalid &&
				CompareIndexInfo(BuildIndexInfo(ci), pinfo,
								 ci->rd_indcollation, pi->rd_indcollation,
								 ci->rd_opfamily, pi->rd_opfamily, attmap))
				found = true;
			index_close(ci, AccessShareLock);
			if (found)
				break;
		}
		if (!found)
			missing = lappend(missing, pstrdup(RelationGetRelationName(pi)));
		index_close(pi, AccessShareLock);
	}
	return missing;
}

/* ALTER TABLE ... ATTACH PARTITION that builds indexes on a big table. */
static DdlViolation *
ddl_check_attach(RangeVar *parentrv, RangeVar *partrv)
{
	Oid			parentid = RangeVarGetRelid(parentrv, NoLock, true);
	Oid			partid = RangeVarGetRelid(partrv, NoLock, true);
	Relation	parent,
				part;
	List	   *missing = NIL;
	DdlTarget	t;
	DdlViolation *v;
	StringInfoData names;
	ListCell   *lc;

	/* ATTACH checks ownership of both tables */
	if (!OidIsValid(parentid) || !OidIsValid(partid) ||
		!ddl_may_run(parentid, DDL_PERM_OWNER) || !ddl_may_run(partid, DDL_PERM_OWNER))
		return NULL;
	ddl_measure_oid(partid, true, &t);
	if (!t.found || t.exempt || !ddl_is_big(&t))
		return NULL;
	parent = try_relation_open(parentid, AccessShareLock);
	if (parent == NULL)
		return NULL;
	part = try_relation_open(partid, AccessShareLock);
	if (part != NULL)
	{
		if (parent->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
			missing = ddl_attach_missing_indexes(parent, part);
		relation_close(part, AccessShareLock);
	}
	relation_close(parent, AccessShareLock);
	if (missing == NIL)
		return NULL;

	initStringInfo(&names);
	foreach(lc, missing)
		appendStringInfo(&names, "%s%s", names.len ? ", " : "",
						 quote_identifier((char *) lfirst(lc)));
	v = ddl_violation(DDL_RULE_INDEX_NOT_CONCURRENT, &t);
	v->what = psprintf("ATTACH PARTITION builds %d index%s on \"%s\"",
					   list_length(missing), list_length(missing) == 1 ? "" : "es",
					   t.dispname);
	v->detail = psprintf("ATTACH PARTITION holds an AccessExclusiveLock on %s, larger than pg_hygiene.ddl_small_table_size, while it builds the indexes it lacks to match those of the partitioned table (%s).",
						 ddl_table_and_size(&t), names.data);
	v->hint = psprintf("Build the matching indexes first without blocking writes (outside a transaction block, with the same columns, expressions and options as %s): CREATE INDEX CONCURRENTLY ON %s (...); then ATTACH PARTITION uses them.",
					   names.data, t.qualname);
	return v;
}

/*
 * ALTER TABLE ... DETACH PARTITION: the partition becomes a standalone
 * permanent table (rule new_table).
 */
static DdlViolation *
ddl_check_detach(RangeVar *parentrv, RangeVar *partrv)
{
	Oid			parentid;
	Oid			partid;
	char	   *nspname;
	DdlViolation *v;

	if (!ddl_rule_enabled(DDL_RULE_NEW_TABLE))
		return NULL;
	parentid = RangeVarGetRelid(parentrv, NoLock, true);
	partid = RangeVarGetRelid(partrv, NoLock, true);
	if (!OidIsValid(parentid) || !OidIsValid(partid) ||
		!ddl_may_run(parentid, DDL_PERM_OWNER) ||
		get_rel_persistence(partid) == RELPERSISTENCE_TEMP)
		return NULL;
	nspname = get_namespace_name(get_rel_namespace(partid));
	if (nspname == NULL || ddl_schema_allowed(nspname))
		return NULL;
	v = ddl_violation(DDL_RULE_NEW_TABLE, NULL);
	v->relid = partid;
	v->relname = quote_qualified_identifier(nspname, get_rel_name(partid));
	v->what = psprintf("DETACH PARTITION makes \"%s.%s\" a new permanent table",
					   nspname, get_rel_name(partid));
	v->detail = psprintf("New workloads do not belong on this primary: permanent tables may be created only in the schemas of pg_hygiene.ddl_new_table_schemas (%s).",
						 ddl_new_table_schemas && ddl_new_table_schemas[0] ? ddl_new_table_schemas : "none");
	v->hint = psprintf("To drop the partition's data, DROP TABLE %s; otherwise have a DBA run SELECT hygiene.allow_ddl('new_table') in the transaction.",
					   v->relname);
	return v;
}

/* ALTER TABLE: constraints that scan the whole table; SET TABLESPACE. */
static List *
ddl_check_alter_table(AlterTableStmt *stmt, bool *target_exempt)
{
	List	   *hits = NIL;
	ListCell   *lc;
	DdlTarget	t;
	bool		measured = false;
	bool		single = list_length(stmt->cmds) == 1;

	if (ddl_rule_enabled(DDL_RULE_TABLE_REWRITE) &&
		(stmt->objtype == OBJECT_TABLE || stmt->objtype == OBJECT_INDEX ||
		 stmt->objtype == OBJECT_MATVIEW))
	{
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
			DdlViolation *v;

			if (cmd->subtype != AT_SetTableSpace)
				continue;
			v = ddl_check_set_tablespace(stmt, cmd, target_exempt);
			if (v)
				hits = lappend(hits, v);
		}
	}
	if (stmt->objtype != OBJECT_TABLE)
		return hits;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		DdlViolation *v = NULL;

		if (cmd->subtype == AT_AttachPartition &&
			ddl_rule_enabled(DDL_RULE_INDEX_NOT_CONCURRENT))
			v = ddl_check_attach(stmt->relation, ((PartitionCmd *) cmd->def)->name);
		else if (cmd->subtype == AT_DetachPartition)
			v = ddl_check_detach(stmt->relation, ((PartitionCmd *) cmd->def)->name);
		if (v)
			hits = lappend(hits, v);
	}

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		List	   *cons = NIL;
		ColumnDef  *coldef = NULL;
		ListCell   *lc2;
		bool		set_not_null = false;

		if (cmd->subtype == AT_AddConstraint && IsA(cmd->def, Constraint))
			cons = list_make1(cmd->def);
		else if (cmd->subtype == AT_AddColumn && IsA(cmd->def, ColumnDef))
		{
			cons = ((ColumnDef *) cmd->def)->constraints;
			coldef = (ColumnDef *) cmd->def;
		}
		else if (cmd->subtype == AT_SetNotNull)
			set_not_null = true;
		else
			continue;

		if (!measured)
		{
			ddl_measure(stmt->relation, stmt->relation->inh, DDL_PERM_OWNER, &t);
			measured = true;
			if (!t.found)
				return NIL;
			*target_exempt = t.exempt;
		}
		if (t.exempt || t.size == 0 ||
			!ddl_rule_enabled(DDL_RULE_FULL_SCAN_CONSTRAINT))
			continue;

		if (set_not_null)
		{
			DdlViolation *v;
			char	   *ck;
			const char *col = quote_identifier(cmd->name);

			if (ddl_not_null_implied(t.relid, cmd->name))
				continue;
			ck = (char *) quote_identifier(psprintf("%s_%s_not_null", stmt->relation->relname, cmd->name));
			v = ddl_violation(DDL_RULE_FULL_SCAN_CONSTRAINT, &t);
			v->what = psprintf("SET NOT NULL on \"%s\".%s without a validated CHECK (%s IS NOT NULL)",
							   t.dispname, col, col);
			v->detail = psprintf("ALTER TABLE holds an AccessExclusiveLock on %s while it reads every row to look for NULLs.",
								 ddl_table_and_size(&t));
			v->hint = psprintf("Prove it with a constraint first, then SET NOT NULL needs no scan: ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s; ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; ALTER TABLE %s DROP CONSTRAINT %s;",
							   t.qualname, ck, col, t.qualname, ck, t.qualname, col,
							   t.qualname, ck);
			hits = lappend(hits, v);
			continue;
		}
		foreach(lc2, cons)
		{
			Node	   *n = (Node *) lfirst(lc2);
			DdlViolation *v;

			if (!IsA(n, Constraint))
				continue;
			v = ddl_check_constraint((Constraint *) n, stmt->relation, &t, coldef, single);
			if (v)
				hits = lappend(hits, v);
		}
	}
	if (!measured)
	{
		/* Still find out whether the table is temporary or new, for the timers. */
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (OidIsValid(relid) && !ddl_may_run(relid, DDL_PERM_OWNER))
			return hits;
		if (OidIsValid(relid) && get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
			*target_exempt = true;
		else if (OidIsValid(relid))
		{
			Relation	rel = try_relation_open(relid, AccessShareLock);

			if (rel != NULL)
			{
				*target_exempt = rel->rd_createSubid != InvalidSubTransactionId;
				relation_close(rel, AccessShareLock);
			}
		}
	}
	return hits;
}

/*
 * Tables with a column of this domain (or of a domain over it), as ALTER
 * DOMAIN finds them: pg_depend rows of columns that reference the type.
 */
static List *
ddl_domain_tables(Oid typid, List *found, int depth)
{
	Relation	dep;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (depth > 32)
		return found;
	dep = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(typid));
	scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);

		if (d->classid == RelationRelationId && d->objsubid > 0)
			found = list_append_unique_oid(found, d->objid);
		else if (d->classid == TypeRelationId &&
				 get_typtype(d->objid) == TYPTYPE_DOMAIN)
			found = ddl_domain_tables(d->objid, found, depth + 1);
	}
	systable_endscan(scan);
	table_close(dep, AccessShareLock);
	return found;
}

/*
 * ALTER DOMAIN ... ADD CHECK without NOT VALID, and SET NOT NULL: read every
 * row of every table with a column of the domain, under a ShareLock on each
 * (writes wait).  Only for a role that owns the domain.
 */
static List *
ddl_check_domain(AlterDomainStmt *stmt)
{
	Constraint *con = NULL;
	Oid			typid;
	HeapTuple	tup;
	bool		mine;
	List	   *rels;
	ListCell   *lc;
	int64		total = 0;
	int			ntables = 0;
	DdlTarget	largest;
	DdlViolation *v;
	const char *domname;
	int			start,
				end;
	const char *src;

	if (stmt->subtype == 'C' && stmt->def && IsA(stmt->def, Constraint))
	{
		con = (Constraint *) stmt->def;
		if (con->contype != CONSTR_CHECK || con->skip_validation)
			return NIL;
	}
	else if (stmt->subtype != 'O')
		return NIL;

	typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(stmt->typeName), true);
	if (!OidIsValid(typid))
		return NIL;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return NIL;
	mine = ((Form_pg_type) GETSTRUCT(tup))->typtype == TYPTYPE_DOMAIN &&
		has_privs_of_role(GetUserId(), ((Form_pg_type) GETSTRUCT(tup))->typowner);
	ReleaseSysCache(tup);
	if (!mine)
		return NIL;

	memset(&largest, 0, sizeof(largest));
	rels = ddl_domain_tables(typid, NIL, 0);
	foreach(lc, rels)
	{
		DdlTarget	t;
		char		kind = get_rel_relkind(lfirst_oid(lc));

		if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW)
			continue;
		ddl_measure_oid(lfirst_oid(lc), false, &t);
		if (!t.found || t.exempt || t.size == 0)
			continue;
		ntables++;
		total += t.size;
		if (!largest.found || t.size > largest.size)
			largest = t;
	}
	if (ntables == 0)
		return NIL;

	domname = format_type_be_qualified(typid);
	v = ddl_violation(DDL_RULE_FULL_SCAN_CONSTRAINT, &largest);
	v->size = total;
	v->what = psprintf("ALTER DOMAIN %s %s reads every row of %d table%s",
					   domname, con ? "ADD CHECK without NOT VALID" : "SET NOT NULL",
					   ntables, ntables == 1 ? "" : "s");
	v->detail = psprintf("ALTER DOMAIN holds a ShareLock on each table with a column of the domain (%s in all; the largest is %s) while it reads every row: every INSERT, UPDATE and DELETE on them waits.",
						 ddl_size_pretty(total), ddl_table_and_size(&largest));
	src = ddl_statement_source(&start, &end);
	if (con)
	{
		const char *qname = quote_identifier(con->conname ? con->conname :
											 psprintf("%s_check", strVal(llast(stmt->typeName))));

		if (src && con->location >= start && con->location < end)
		{
			char	   *text = pnstrdup(src + con->location, end - con->location);
			int			len = strlen(text);

			while (len > 0 && (isspace((unsigned char) text[len - 1]) || text[len - 1] == ';'))
				text[--len] = '\0';
			v->hint = psprintf("Add it for new values only: ALTER DOMAIN %s ADD %s%s NOT VALID; then validate it at a quiet time (ALTER DOMAIN %s VALIDATE CONSTRAINT %s; it still takes a ShareLock on each table while it reads them).",
							   domname, con->conname ? "" : psprintf("CONSTRAINT %s ", qname),
							   text, domname, qname);
		}
		else
			v->hint = psprintf("Add it with NOT VALID (new values only), then run ALTER DOMAIN %s VALIDATE CONSTRAINT %s at a quiet time.",
							   domname, qname);
	}
	else
		v->hint = psprintf("Check new values at once without a scan: ALTER DOMAIN %s ADD CONSTRAINT %s CHECK (VALUE IS NOT NULL) NOT VALID; validate it at a quiet time.",
						   domname, quote_identifier(psprintf("%s_not_null", strVal(llast(stmt->typeName)))));
	return list_make1(v);
}

/*
 * Every rule hit of a statement about to run.  *target_exempt is set when
 * the statement's table is temporary or created in this transaction.
 */
List *
ddl_check_statement(Node *parsetree, bool *target_exempt)
{
	*target_exempt = false;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			if (!ddl_rule_enabled(DDL_RULE_INDEX_NOT_CONCURRENT))
				return NIL;
			return ddl_check_index((IndexStmt *) parsetree, target_exempt);
		case T_DropStmt:
			if (((DropStmt *) parsetree)->removeType != OBJECT_INDEX ||
				!ddl_rule_enabled(DDL_RULE_INDEX_NOT_CONCURRENT))
				return NIL;
			return ddl_check_drop_index((DropStmt *) parsetree, target_exempt);
		case T_ReindexStmt:
			if (!ddl_rule_enabled(DDL_RULE_INDEX_NOT_CONCURRENT))
				return NIL;
			return ddl_check_reindex((ReindexStmt *) parsetree, target_exempt);
		case T_VacuumStmt:
			if (!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE))
				return NIL;
			return ddl_check_vacuum((VacuumStmt *) parsetree, target_exempt);
		case T_ClusterStmt:
			if (!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE))
				return NIL;
			return ddl_check_cluster((ClusterStmt *) parsetree, target_exempt);
		case T_RefreshMatViewStmt:
			if (!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE))
				return NIL;
			return ddl_check_refresh((RefreshMatViewStmt *) parsetree, target_exempt);
		case T_CreateStmt:
			{
				CreateStmt *cs = (CreateStmt *) parsetree;

				/* A new partition of an existing table is not a new workload. */
				if (cs->partbound != NULL)
					return NIL;
				return ddl_check_new_table(cs->relation, "CREATE TABLE");
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *ctas = (CreateTableAsStmt *) parsetree;

				if (ctas->objtype == OBJECT_MATVIEW)
					return ddl_check_new_table(ctas->into->rel, "CREATE MATERIALIZED VIEW");
				return ddl_check_new_table(ctas->into->rel,
										   ctas->is_select_into ? "SELECT INTO" : "CREATE TABLE AS");
			}
		case T_AlterTableStmt:
			return ddl_check_alter_table((AlterTableStmt *) parsetree, target_exempt);
		case T_AlterTableMoveAllStmt:
			if (!ddl_rule_enabled(DDL_RULE_TABLE_REWRITE))
				return NIL;
			return ddl_check_move_all((AlterTableMoveAllStmt *) parsetree);
		case T_AlterDomainStmt:
			if (!ddl_rule_enabled(DDL_RULE_FULL_SCAN_CONSTRAINT))
				return NIL;
			return ddl_check_domain((AlterDomainStmt *) parsetree);
		case T_ExplainStmt:
			{
				/* EXPLAIN ANALYZE runs CREATE TABLE AS / SELECT INTO */
				ExplainStmt *es = (ExplainStmt *) parsetree;
				Query	   *q = (Query *) es->query;

				if (q && IsA(q, Query) && q->commandType == CMD_UTILITY &&
					q->utilityStmt && IsA(q->utilityStmt, CreateTableAsStmt) &&
					ddl_option_on(es->options, "analyze"))
					return ddl_check_statement(q->utilityStmt, target_exempt);
				return NIL;
			}
		default:
			return NIL;
	}
}

/* Does the ddl_timeout rule cover this kind of statement? */
bool
ddl_statement_needs_timeout(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
		case T_AlterDomainStmt:
		case T_TruncateStmt:
		case T_CreateTrigStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_RuleStmt:
			return true;
		case T_IndexStmt:
			return !((IndexStmt *) parsetree)->concurrent;
		case T_ReindexStmt:
			return ddl_option_off(((ReindexStmt *) parsetree)->params, "concurrently");
		case T_ClusterStmt:
			return ((ClusterStmt *) parsetree)->relation != NULL;
		case T_VacuumStmt:
			return ((VacuumStmt *) parsetree)->is_vacuumcmd &&
				ddl_option_on(((VacuumStmt *) parsetree)->options, "full");
		case T_RefreshMatViewStmt:
			return !((RefreshMatViewStmt *) parsetree)->concurrent;
		case T_CreateStmt:
			return ((CreateStmt *) parsetree)->partbound != NULL ||
				((CreateStmt *) parsetree)->inhRelations != NIL;
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) parsetree;

				switch (ds->removeType)
				{
					case OBJECT_INDEX:
						return !ds->concurrent;
					case OBJECT_TABLE:
					case OBJECT_VIEW:
					case OBJECT_MATVIEW:
					case OBJECT_FOREIGN_TABLE:
					case OBJECT_SEQUENCE:
					case OBJECT_TRIGGER:
					case OBJECT_POLICY:
					case OBJECT_RULE:
						return true;
					default:
						return false;
				}
			}
		case T_RenameStmt:
			switch (((RenameStmt *) parsetree)->renameType)
			{
				case OBJECT_TABLE:
				case OBJECT_INDEX:
				case OBJECT_VIEW:
				case OBJECT_MATVIEW:
				case OBJECT_FOREIGN_TABLE:
				case OBJECT_SEQUENCE:
				case OBJECT_COLUMN:
				case OBJECT_TABCONSTRAINT:
				case OBJECT_TRIGGER:
				case OBJECT_POLICY:
				case OBJECT_RULE:
					return true;
				default:
					return false;
			}
		default:
			return false;
	}
}

/*
 * Why an ALTER TABLE / ALTER TYPE rewrites, from its commands (the
 * AT_REWRITE_* bits the table_rewrite event trigger would report).  That a
 * rewrite happens at all is known exactly (make_new_heap() was called);
 * these bits only choose the words and the hint, so a statement mixing a
 * rewriting command with one that would not rewrite on its own names both.
 */
static int
ddl_rewrite_reason(Node *parsetree)
{
	int			reason = 0;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, AlterTableStmt))
		return 0;
	foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_AlterColumnType:
				reason |= AT_REWRITE_COLUMN_REWRITE;
				break;
			case AT_AddColumn:
				reason |= AT_REWRITE_DEFAULT_VAL;
				break;
			case AT_SetLogged:
			case AT_SetUnLogged:
				reason |= AT_REWRITE_ALTER_PERSISTENCE;
				break;
			case AT_SetAccessMethod:
				reason |= AT_REWRITE_ACCESS_METHOD;
				break;
			default:
				break;
		}
	}
	return reason;
}

/*
 * table_rewrite for ALTER TABLE / ALTER TYPE: called from the object access
 * hook when the statement builds the new heap of a table (already locked,
 * not a row copied yet), with the statement being guarded.
 */
List *
ddl_check_rewrite(Oid relid, Node *parsetree)
{
	int			reason = ddl_rewrite_reason(parsetree);
	Relation	rel;
	DdlTarget	t;
	DdlViolation *v;
	StringInfoData why,
				hint;
	const char *cmdtable;

	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
		return NIL;
	memset(&t, 0, sizeof(t));
	t.found = true;
	t.relid = relid;
	t.relkind = rel->rd_rel->relkind;
	t.exempt = rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP ||
		rel->rd_createSubid != InvalidSubTransactionId;
	t.size = ddl_rel_bytes(rel);
	ddl_target_names(&t, rel);
	relation_close(rel, NoLock);
	if (t.exempt || t.size == 0)
		return NIL;

	initStringInfo(&why);
	if (reason & AT_REWRITE_COLUMN_REWRITE)
		appendStringInfoString(&why, "a column type change");
	if (reason & AT_REWRITE_DEFAULT_VAL)
		appendStringInfo(&why, "%sa new column whose value must be written into every row (volatile default, identity, stored generated column or constrained domain)",
						 why.len ? " and " : "");
	if (reason & AT_REWRITE_ALTER_PERSISTENCE)
		appendStringInfo(&why, "%sSET LOGGED/UNLOGGED", why.len ? " and " : "");
	if (reason & AT_REWRITE_ACCESS_METHOD)
		appendStringInfo(&why, "%sSET ACCESS METHOD", why.len ? " and " : "");

	v = ddl_violation(DDL_RULE_TABLE_REWRITE, &t);
	if (why.len > 0)
		v->what = psprintf("ALTER TABLE rewrites \"%s\" for %s", t.dispname, why.data);
	else
		v->what = psprintf("%s rewrites \"%s\"",
						   parsetree ? GetCommandTagName(CreateCommandTag(parsetree)) : "a statement",
						   t.dispname);
	v->detail = psprintf("%s holds an AccessExclusiveLock on %s while it writes a new copy of the whole table and its indexes, all of which goes to the replicas as WAL.",
						 parsetree ? GetCommandTagName(CreateCommandTag(parsetree)) : "The statement",
						 ddl_table_and_size(&t));

	/* The hint, from the commands the user wrote. */
	initStringInfo(&hint);
	if (parsetree && IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		ListCell   *lc;

		cmdtable = quote_qualified_identifier(stmt->relation->schemaname, stmt->relation->relname);
		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

			if (cmd->subtype == AT_AlterColumnType && (reason & AT_REWRITE_COLUMN_REWRITE))
			{
				ColumnDef  *def = (ColumnDef *) cmd->def;
				char	   *type = ddl_type_string(def->typeName);
				const char *col = quote_identifier(cmd->name);
				const char *newcol = quote_identifier(psprintf("%s_new", cmd->name));

				appendStringInfo(&hint, "%sChange %s online: ALTER TABLE %s ADD COLUMN %s %s; keep it in sync with a trigger and backfill it in batches (UPDATE %s SET %s = %s::%s WHERE <key range>); then in one short transaction: ALTER TABLE %s RENAME COLUMN %s TO %s; ALTER TABLE %s RENAME COLUMN %s TO %s;",
								 hint.len ? " " : "", col, cmdtable, newcol, type,
								 cmdtable, newcol, col, type,
								 cmdtable, col, quote_identifier(psprintf("%s_old", cmd->name)),
								 cmdtable, newcol, col);
			}
			else if (cmd->subtype == AT_AddColumn && (reason & AT_REWRITE_DEFAULT_VAL))
			{
				ColumnDef  *def = (ColumnDef *) cmd->def;
				const char *col = quote_identifier(def->colname);
				char	   *dflt;

				if (ddl_is_serial(def->typeName))
				{
					/* the sequence the statement would have created */
					char	   *seq = (char *) quote_qualified_identifier(stmt->relation->schemaname,
																		  psprintf("%s_%s_seq", stmt->relation->relname, def->colname));
					char	   *seqlit = quote_literal_cstr(seq);

					appendStringInfo(&hint, "%sAdd %s without the per-row value: CREATE SEQUENCE %s; ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT nextval(%s); ALTER SEQUENCE %s OWNED BY %s.%s; then backfill existing rows in batches (UPDATE %s SET %s = nextval(%s) WHERE %s IS NULL AND <key range>) and add NOT NULL afterwards the NOT VALID way.",
									 hint.len ? " " : "", col, seq, cmdtable, col,
									 ddl_type_string(def->typeName), cmdtable, col, seqlit,
									 seq, cmdtable, col, cmdtable, col, seqlit, col);
				}
				else if ((dflt = ddl_column_default_sql(relid, def->colname)) != NULL)
					appendStringInfo(&hint, "%sAdd %s without the per-row value: ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s; (new rows only) then backfill existing rows in batches (UPDATE %s SET %s = %s WHERE <key range>) and add NOT NULL or constraints afterwards the NOT VALID way.",
									 hint.len ? " " : "", col, cmdtable, col,
									 ddl_type_string(def->typeName), cmdtable, col, dflt,
									 cmdtable, col, dflt);
				else
					appendStringInfo(&hint, "%sAdd %s without the per-row value: ALTER TABLE %s ADD COLUMN %s %s; backfill existing rows in batches, and add identity, a default, NOT NULL or constraints afterwards (NOT NULL and constraints the NOT VALID way).",
									 hint.len ? " " : "", col, cmdtable, col,
									 ddl_type_string(def->typeName));
			}
		}
		if ((reason & (AT_REWRITE_ALTER_PERSISTENCE | AT_REWRITE_ACCESS_METHOD)) && hint.len == 0)
			appendStringInfoString(&hint, "There is no online form of SET LOGGED/UNLOGGED or SET ACCESS METHOD; run it at a quiet time in a transaction that first runs SELECT hygiene.allow_ddl('table_rewrite'), or copy the data into a new table with a tool such as pg_repack.");
	}
	if (hint.len == 0)
		appendStringInfoString(&hint, "Make the change in steps that do not rewrite: add a new column, backfill it in batches, then swap; or run it at a quiet time with SELECT hygiene.allow_ddl('table_rewrite') in its transaction.");
	v->hint = hint.data;
	return list_make1(v);
}

/*
 * The table a guarded statement locks first, and the lock mode it asks for,
 * for naming the table and the sessions that held the lock when the
 * statement gave up waiting (ddl_timeout).  False when the statement names
 * no single table.  Name lookups only, no lock.
 */
bool
ddl_lock_target(Node *parsetree, Oid *relid, LOCKMODE *mode)
{
	RangeVar   *rv = NULL;
	bool		is_index = false;

	*mode = AccessExclusiveLock;
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			rv = ((AlterTableStmt *) parsetree)->relation;
			*mode = AlterTableGetLockLevel(((AlterTableStmt *) parsetree)->cmds);
			is_index = ((AlterTableStmt *) parsetree)->objtype == OBJECT_INDEX;
			break;
		case T_IndexStmt:
			rv = ((IndexStmt *) parsetree)->relation;
			*mode = ShareLock;
			break;
		case T_ReindexStmt:
			rv = ((ReindexStmt *) parsetree)->relation;
			*mode = ShareLock;
			is_index = ((ReindexStmt *) parsetree)->kind == REINDEX_OBJECT_INDEX;
			break;
		case T_CreateTrigStmt:
			rv = ((CreateTrigStmt *) parsetree)->relation;
			*mode = ShareRowExclusiveLock;
			break;
		case T_TruncateStmt:
			if (((TruncateStmt *) parsetree)->relations != NIL)
				rv = linitial(((TruncateStmt *) parsetree)->relations);
			break;
		case T_ClusterStmt:
			rv = ((ClusterStmt *) parsetree)->relation;
			break;
		case T_VacuumStmt:
			if (((VacuumStmt *) parsetree)->rels != NIL)
				rv = ((VacuumRelation *) linitial(((VacuumStmt *) parsetree)->rels))->relation;
			break;
		case T_RefreshMatViewStmt:
			rv = ((RefreshMatViewStmt *) parsetree)->relation;
			break;
		case T_RenameStmt:
			rv = ((RenameStmt *) parsetree)->relation;
			break;
		case T_CreatePolicyStmt:
			rv = ((CreatePolicyStmt *) parsetree)->table;
			break;
		case T_AlterPolicyStmt:
			rv = ((AlterPolicyStmt *) parsetree)->table;
			break;
		case T_RuleStmt:
			rv = ((RuleStmt *) parsetree)->relation;
			break;
		case T_CreateStmt:
			if (((CreateStmt *) parsetree)->inhRelations != NIL)
				rv = linitial(((CreateStmt *) parsetree)->inhRelations);
			break;
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) parsetree;

				if (list_length(ds->objects) != 1 ||
					(ds->removeType != OBJECT_TABLE && ds->removeType != OBJECT_INDEX &&
					 ds->removeType != OBJECT_VIEW && ds->removeType != OBJECT_MATVIEW &&
					 ds->removeType != OBJECT_SEQUENCE &&
					 ds->removeType != OBJECT_FOREIGN_TABLE))
					return false;
				rv = makeRangeVarFromNameList((List *) linitial(ds->objects));
				is_index = ds->removeType == OBJECT_INDEX;
				break;
			}
		default:
			return false;
	}
	if (rv == NULL)
		return false;
	*relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(*relid) && is_index &&
		get_rel_relkind(*relid) == RELKIND_INDEX)
	{
		Oid			heap = IndexGetRelation(*relid, true);

		if (OidIsValid(heap))
			*relid = heap;
	}
	return OidIsValid(*relid);
}
