/*-------------------------------------------------------------------------
 *
 * query_id.c
 *		hygiene.query_id(sql): the queryid of a statement as written, and a
 *		bounded, lossy record of the queryids this server ran recently
 *		(finding O23).
 *
 * query_id() parses and analyses one statement as the executor's caller
 * would (the caller's privileges and search_path; $n parameters typed as
 * PREPARE without types would), checks that the caller may run it, and
 * returns the identifier core computes (the jumble of the analysed query,
 * pg_stat_statements' queryid).  Nothing is planned or executed.  When this
 * backend does not compute query ids (compute_query_id = auto before any
 * rule, or off), it calls core's jumbling function itself.
 *
 * The record of seen queryids is a fixed array of atomics in shared memory,
 * indexed by the low bits of the id (which is a hash already); a newer id
 * overwrites an older one in its slot.  ExecutorStart notes every executed
 * statement's id: one atomic read, and a write only when the slot holds
 * another id, so a hot statement keeps its cache line shared.  The rule
 * functions ask whether an id was seen, to warn about a mistyped one.
 *
 * IDENTIFICATION
 *	  src/query_id.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"

#include "pg_hygiene.h"
#include "query_rules.h"

/* Slots of the record of seen queryids (a power of two). */
#define QID_SEEN_SLOTS	8192

typedef struct QidSeen
{
	pg_atomic_uint64 slots[QID_SEEN_SLOTS];
} QidSeen;

static QidSeen *qid_seen = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PG_FUNCTION_INFO_V1(hygiene_query_id);
PG_FUNCTION_INFO_V1(hygiene_query_id_seen);

static void
qid_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(QidSeen)));
}

static void
qid_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	qid_seen = ShmemInitStruct("pg_hygiene seen queryids", sizeof(QidSeen), &found);
	if (!found)
	{
		for (int i = 0; i < QID_SEEN_SLOTS; i++)
			pg_atomic_init_u64(&qid_seen->slots[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Install the shared memory hooks; called from query_rules_init. */
void
query_id_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = qid_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = qid_shmem_startup;
}

/* Note an executed statement's queryid (cheap: see the file header). */
void
hygiene_queryid_note(uint64 queryid)
{
	pg_atomic_uint64 *slot;

	if (qid_seen == NULL || queryid == 0)
		return;
	slot = &qid_seen->slots[queryid & (QID_SEEN_SLOTS - 1)];
	if (pg_atomic_read_u64(slot) != queryid)
		pg_atomic_write_u64(slot, queryid);
}

/* Number of slots of the record (for messages). */
int
hygiene_queryid_seen_slots(void)
{
	return QID_SEEN_SLOTS;
}

/*
 * hygiene._query_id_seen(queryid): did this server run a statement with this
 * id recently?  (False when it has been overwritten by a later id.)
 */
Datum
hygiene_query_id_seen(PG_FUNCTION_ARGS)
{
	uint64		queryid = (uint64) PG_GETARG_INT64(0);

	if (qid_seen == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(pg_atomic_read_u64(&qid_seen->slots[queryid & (QID_SEEN_SLOTS - 1)]) == queryid);
}

/*
 * hygiene.query_id(sql text): the queryid of one statement as written.
 */
Datum
hygiene_query_id(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *raw;
	RawStmt    *stmt;
	Query	   *query;
	Oid		   *ptypes = NULL;
	int			nparams = 0;

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_hygiene: query_id() takes exactly one statement, not %d",
						list_length(raw)),
				 errhint("Pass the statements one at a time.")));
	stmt = linitial_node(RawStmt, raw);

	query = parse_analyze_varparams(stmt, sql, &ptypes, &nparams, NULL);
	if (query->commandType == CMD_UTILITY)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("pg_hygiene: query rules do not apply to utility statements"),
				 errdetail("Rules match statements that run through the executor: SELECT, INSERT, UPDATE, DELETE and MERGE."),
				 errhint("For EXPLAIN ANALYZE or COPY (query), pass the query inside them.")));

	/* The caller must be allowed to run it, as ExecutorStart would check. */
	hygiene_check_query_permissions(query);

	if (query->queryId == UINT64CONST(0))
		(void) hygiene_jumble_query(query, sql);
	if (query->queryId == UINT64CONST(0))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("pg_hygiene: no query identifier could be computed")));
	if (!IsQueryIdEnabled() &&
		strcmp(GetConfigOption("compute_query_id", false, false), "off") == 0)
		ereport(WARNING,
				(errmsg("pg_hygiene: compute_query_id is off: statements have no queryid, so query rules match nothing"),
				 errhint("Set compute_query_id to auto (the default) or on.")));
	PG_RETURN_INT64((int64) query->queryId);
}
