/*-------------------------------------------------------------------------
 *
 * extension_objects.c
 *		Find the extension's SQL objects through the extension, never by
 *		name; refuse to install into a schema that others control.
 *
 * The library is preloaded for the whole instance, but its SQL objects exist
 * only where CREATE EXTENSION pg_hygiene ran.  In any other database a schema
 * called "hygiene" may belong to anybody, and a function or table found there
 * by name would run or steer other roles' statements.  So the C code asks
 * hygiene_extension_object() for an object: it is returned only if it is a
 * member (pg_depend, deptype 'e') of the extension called pg_hygiene in the
 * current database and has the expected shape (a table; the C trigger
 * function with the expected symbol).  Without the extension every object is
 * InvalidOid and the features that need one stay off in that database.
 *
 * The answer is cached per backend (a backend serves one database) and
 * dropped when
 *	- a relcache invalidation names one of the cached tables, pg_extension
 *	  itself, or everything (InvalidOid);
 *	- a pg_proc invalidation names the cached trigger function;
 *	- this backend runs CREATE/ALTER/DROP EXTENSION, ALTER EXTENSION ADD/DROP,
 *	  DROP SCHEMA or DROP OWNED: the ProcessUtility hook then sends a relcache
 *	  invalidation of pg_extension, which reaches every backend of the
 *	  database at commit, and forgets the cache at once (and again if the
 *	  transaction or subtransaction aborts);
 *	- while an extension script runs (creating_extension) nothing is cached.
 * After such DDL the digest rules are reread as well (query_rules.c keeps
 * its own cache, versioned in shared memory).
 * Nothing is looked up while the cache is valid: the hot path reads an array.
 *
 * Install safety: CREATE EXTENSION pg_hygiene runs the 0.1 base script into
 * the fixed schema "hygiene" of the control file; if a role other than a
 * superuser owns a pre-existing schema of that name, can create objects in
 * it, or owns an object in it, that role could plant overloads the script's
 * and the functions' own calls would pick up.  The object access hook sees
 * the new pg_extension row (post-create, before the script runs) and
 * refuses such a schema.  This catches CREATE EXTENSION ... CASCADE from a
 * dependent extension too.  Binary upgrade is exempt: pg_upgrade reproduces
 * what the old cluster had.
 *
 * IDENTIFICATION
 *	  src/extension_objects.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "extension_objects.h"
#include "pg_hygiene.h"
#include "query_rules.h"

#define HYGIENE_EXTENSION_NAME	"pg_hygiene"

/* Backend cache of the members the C code uses. */
static Oid	extobj_oids[HYGIENE_OBJ_COUNT];
static bool extobj_valid = false;
static uint32 extobj_trigger_hash = 0;

/* Bumped by every invalidation that concerns the cache, valid or not. */
static uint64 extobj_inval_count = 0;

/* This (sub)transaction ran extension DDL: forget the cache if it aborts. */
static bool extobj_xact_dirty = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* Is the member relation the named plain table? */
static bool
extobj_is_table(Oid relid, const char *name)
{
	char	   *relname;
	bool		match;

	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return false;
	relname = get_rel_name(relid);
	match = relname != NULL && strcmp(relname, name) == 0;
	if (relname)
		pfree(relname);
	return match;
}

/* Is the member function our C trigger function hygiene_noop_update_trigger? */
static bool
extobj_is_noop_trigger(Oid funcid)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		match = false;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (strcmp(NameStr(proc->proname), "_noop_update_trigger") == 0 &&
		proc->pronargs == 0 && proc->prorettype == TRIGGEROID &&
		proc->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		d = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);

		if (!isnull)
		{
			char	   *src = TextDatumGetCString(d);

			match = strcmp(src, "hygiene_noop_update_trigger") == 0;
			pfree(src);
		}
	}
	ReleaseSysCache(tup);
	return match;
}

/* Is the member function the sampler hygiene._advice_sample(boolean) returning bigint? */
static bool
extobj_is_advice_sample(Oid funcid)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	bool		match;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	match = strcmp(NameStr(proc->proname), "_advice_sample") == 0 &&
		proc->pronargs == 1 && proc->proargtypes.values[0] == BOOLOID &&
		proc->prorettype == INT8OID && !proc->proretset;
	ReleaseSysCache(tup);
	return match;
}

/* Read the members of the extension (if any) into oids[]. */
static void
extobj_load(Oid *oids)
{
	Oid			extoid;
	Relation	rel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	for (int i = 0; i < HYGIENE_OBJ_COUNT; i++)
		oids[i] = InvalidOid;

	extoid = get_extension_oid(HYGIENE_EXTENSION_NAME, true);
	if (!OidIsValid(extoid))
		return;

	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->deptype != DEPENDENCY_EXTENSION || dep->objsubid != 0)
			continue;
		if (dep->classid == RelationRelationId)
		{
			if (extobj_is_table(dep->objid, "noop_update_settings"))
				oids[HYGIENE_OBJ_NOOP_SETTINGS] = dep->objid;
			else if (extobj_is_table(dep->objid, "query_rule"))
				oids[HYGIENE_OBJ_QUERY_RULE] = dep->objid;
			else if (extobj_is_table(dep->objid, "disabled_index"))
				oids[HYGIENE_OBJ_DISABLED_INDEX] = dep->objid;
		}
		else if (dep->classid == ProcedureRelationId)
		{
			if (extobj_is_noop_trigger(dep->objid))
				oids[HYGIENE_OBJ_NOOP_TRIGGER] = dep->objid;
			else if (extobj_is_advice_sample(dep->objid))
				oids[HYGIENE_OBJ_ADVICE_SAMPLE] = dep->objid;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* OID of one extension member, or InvalidOid; see extension_objects.h. */
Oid
hygiene_extension_object(HygieneExtObject which)
{
	Oid			oids[HYGIENE_OBJ_COUNT];
	uint64		before;

	Assert(which >= 0 && which < HYGIENE_OBJ_COUNT);

	if (extobj_valid)
		return extobj_oids[which];
	if (!IsTransactionState() || !OidIsValid(MyDatabaseId))
		return InvalidOid;

	before = extobj_inval_count;
	extobj_load(oids);

	/*
	 * Cache the answer unless an extension script is adding or changing
	 * members right now, or an invalidation arrived while we read.
	 */
	if (!creating_extension && before == extobj_inval_count)
	{
		memcpy(extobj_oids, oids, sizeof(oids));
		extobj_trigger_hash = OidIsValid(oids[HYGIENE_OBJ_NOOP_TRIGGER]) ?
			GetSysCacheHashValue1(PROCOID,
								  ObjectIdGetDatum(oids[HYGIENE_OBJ_NOOP_TRIGGER])) : 0;
		extobj_valid = true;
	}
	return oids[which];
}

/* Forget the cache. */
static void
extobj_invalidate(void)
{
	extobj_valid = false;
	extobj_inval_count++;
}

/* Relcache callback: a cached table, pg_extension or everything changed. */
static void
extobj_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ExtensionRelationId ||
		(extobj_valid &&
		 (relid == extobj_oids[HYGIENE_OBJ_NOOP_SETTINGS] ||
		  relid == extobj_oids[HYGIENE_OBJ_QUERY_RULE] ||
		  relid == extobj_oids[HYGIENE_OBJ_DISABLED_INDEX])))
		extobj_invalidate();
}

/* Syscache callback on pg_proc: the cached trigger function changed. */
static void
extobj_proc_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	if (hashvalue == 0 ||
		(extobj_valid && extobj_trigger_hash != 0 &&
		 hashvalue == extobj_trigger_hash))
		extobj_invalidate();
}

/* Can the statement add, change or remove extension members? */
static bool
extobj_is_extension_ddl(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
		case T_DropOwnedStmt:
			return true;
		case T_DropStmt:
			{
				ObjectType	t = ((DropStmt *) parsetree)->removeType;

				return t == OBJECT_EXTENSION || t == OBJECT_SCHEMA;
			}
		default:
			return false;
	}
}

/*
 * ProcessUtility hook: after extension DDL, tell every backend of the
 * database (at commit) and this one (now) to look the members up again.
 */
static void
extobj_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	bool		ext_ddl = extobj_is_extension_ddl(pstmt->utilityStmt);

	if (ext_ddl)
	{
		extobj_invalidate();
		extobj_xact_dirty = true;
	}
	hygiene_next_ProcessUtility(prev_ProcessUtility, pstmt, queryString,
								readOnlyTree, context, params, queryEnv,
								dest, qc);
	if (ext_ddl)
	{
		extobj_invalidate();
		CacheInvalidateRelcacheByRelid(ExtensionRelationId);
		/* Rules cached from a dropped (or new) table: reread them. */
		query_rules_extension_changed();
	}
}

/* Transaction end: forget what an aborted extension DDL may have left. */
static void
extobj_xact_callback(XactEvent event, void *arg)
{
	if (!extobj_xact_dirty)
		return;					/* the common case: nothing to forget */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (extobj_xact_dirty)
			extobj_invalidate();
		extobj_xact_dirty = false;
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		extobj_xact_dirty = false;
}

/* Subtransaction abort: same as for the transaction. */
static void
extobj_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && extobj_xact_dirty)
		extobj_invalidate();
}

/* Is the role a superuser?  (ACL_ID_PUBLIC, i.e. everybody, is not.) */
static bool
extobj_role_is_superuser(Oid roleid)
{
	return OidIsValid(roleid) && superuser_arg(roleid);
}

/*
 * Name of a role that may create in the schema or owns an object in it and
 * is not a superuser (the owner checked by the caller), or NULL.
 */
static char *
extobj_schema_intruder(Oid nspid, HeapTuple nsptup)
{
	bool		isnull;
	Datum		aclDatum;
	Relation	deprel;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *intruder = NULL;

	/* CREATE granted to PUBLIC or to a role that is not a superuser. */
	aclDatum = SysCacheGetAttr(NAMESPACEOID, nsptup, Anum_pg_namespace_nspacl,
							   &isnull);
	if (!isnull)
	{
		Acl		   *acl = DatumGetAclP(aclDatum);
		AclItem    *items = ACL_DAT(acl);

		for (int i = 0; i < ACL_NUM(acl); i++)
		{
			if ((items[i].ai_privs & ACL_CREATE) == 0)
				continue;
			if (items[i].ai_grantee == ACL_ID_PUBLIC)
				return pstrdup("PUBLIC");
			if (!extobj_role_is_superuser(items[i].ai_grantee))
				return GetUserNameFromId(items[i].ai_grantee, false);
		}
	}

	/* An object in the schema owned by a role that is not a superuser. */
	deprel = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nspid));
	scan = systable_beginscan(deprel, DependReferenceIndexId, true, NULL, 2, key);
	while (intruder == NULL && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);
		AttrNumber	ownercol;
		Relation	catalog;
		HeapTuple	objtup;

		if (dep->objsubid != 0 || dep->classid == ExtensionRelationId)
			continue;
		ownercol = get_object_attnum_owner(dep->classid);
		if (ownercol == InvalidAttrNumber)
			continue;
		catalog = table_open(dep->classid, AccessShareLock);
		objtup = get_catalog_object_by_oid(catalog,
										   get_object_attnum_oid(dep->classid),
										   dep->objid);
		if (HeapTupleIsValid(objtup))
		{
			Datum		d = heap_getattr(objtup, ownercol,
										 RelationGetDescr(catalog), &isnull);

			if (!isnull && !extobj_role_is_superuser(DatumGetObjectId(d)))
				intruder = GetUserNameFromId(DatumGetObjectId(d), false);
		}
		table_close(catalog, AccessShareLock);
	}
	systable_endscan(scan);
	table_close(deprel, AccessShareLock);
	return intruder;
}

/*
 * Refuse to install pg_hygiene into a schema that a role other than a
 * superuser owns, may create in, or has objects in.  Not inlined: the object
 * access hook runs for every function a statement executes, and should cost
 * no more than its tests.
 */
static pg_noinline void
extobj_check_install_schema(Oid extoid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Form_pg_extension ext;
	Oid			nspid;
	HeapTuple	nsptup;
	Form_pg_namespace nsp;
	char	   *nspname;
	char	   *intruder;

	/* The new row is not visible to the catalog snapshot yet: SnapshotSelf. */
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, SnapshotSelf, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
	{
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		return;
	}
	ext = (Form_pg_extension) GETSTRUCT(tup);
	if (strcmp(NameStr(ext->extname), HYGIENE_EXTENSION_NAME) != 0)
	{
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		return;
	}
	nspid = ext->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	nsptup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(nsptup))
		return;
	nsp = (Form_pg_namespace) GETSTRUCT(nsptup);
	nspname = pstrdup(NameStr(nsp->nspname));

	if (!extobj_role_is_superuser(nsp->nspowner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot install pg_hygiene into schema \"%s\" owned by role \"%s\"",
						nspname, GetUserNameFromId(nsp->nspowner, false)),
				 errdetail("The owner of the schema could replace the extension's objects or plant functions its code would call."),
				 errhint("Drop or rename that schema (or make a superuser its owner after checking its contents), then run CREATE EXTENSION pg_hygiene again.")));

	intruder = extobj_schema_intruder(nspid, nsptup);
	ReleaseSysCache(nsptup);
	if (intruder)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot install pg_hygiene into schema \"%s\": role \"%s\" may create objects in it or owns one",
						nspname, intruder),
				 errdetail("A role other than a superuser could plant functions the extension's code would call."),
				 errhint("Drop or rename that schema, or revoke CREATE on it and remove the objects of that role, then run CREATE EXTENSION pg_hygiene again.")));
}

/* Object access hook, slow path: a new object; check pg_hygiene's schema. */
static pg_noinline void
extobj_object_created(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (classId == ExtensionRelationId && !IsBinaryUpgrade)
		extobj_check_install_schema(objectId);
}

/*
 * Object access hook: check the schema when pg_hygiene's row is created.
 * Core calls it for every function a statement executes: everything but a
 * creation goes straight on to the previous hook.
 */
static void
extobj_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	if (unlikely(access == OAT_POST_CREATE))
		extobj_object_created(access, classId, objectId, subId, arg);
	else if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
}

/* Module init: callbacks and hooks. */
void
extension_objects_init(void)
{
	CacheRegisterRelcacheCallback(extobj_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, extobj_proc_cb, (Datum) 0);
	RegisterXactCallback(extobj_xact_callback, NULL);
	RegisterSubXactCallback(extobj_subxact_callback, NULL);

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = extobj_ProcessUtility;
	prev_object_access_hook = object_access_hook;
	object_access_hook = extobj_object_access;
}

/*
 * The OIDs of the extension's own tables in this database (InvalidOid for
 * each without the extension): every table the extension creates has a
 * HygieneExtObject.  Statistics hide them (finding O25).
 */
void
hygiene_extension_tables(Oid *relids)
{
	relids[0] = hygiene_extension_object(HYGIENE_OBJ_NOOP_SETTINGS);
	relids[1] = hygiene_extension_object(HYGIENE_OBJ_QUERY_RULE);
	relids[2] = hygiene_extension_object(HYGIENE_OBJ_DISABLED_INDEX);
}
