/*-------------------------------------------------------------------------
 *
 * table_stats.h
 *		Per-table UPDATE statistics in shared memory: what the executor saw
 *		when rows of a table were updated.
 *
 * Writers accumulate counts locally (per statement, per result relation) and
 * add them once with table_stats_add(); nothing holds a pointer into the
 * shared hash across calls, so entries can be removed by a reset at any time.
 *
 * IDENTIFICATION
 *	  src/table_stats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_TABLE_STATS_H
#define HYGIENE_TABLE_STATS_H

/* Why a row could not be considered for no-op suppression. */
typedef enum TableStatsIneligible
{
	INELIGIBLE_RETURNING = 0,	/* statement has RETURNING */
	INELIGIBLE_AFTER_TRIGGER,	/* table has user AFTER ROW UPDATE triggers */
	INELIGIBLE_SELF_ASSIGNMENT, /* every assignment is SET c = c ("touch") */
	INELIGIBLE_REPLICA_ROLE,	/* session_replication_role = replica */
	INELIGIBLE_OTHER,			/* anything else the suppressor declined */
	INELIGIBLE_NREASONS
} TableStatsIneligible;

/*
 * Which reason made a row INELIGIBLE_OTHER: the breakdown of ineligible_other
 * shown by hygiene.table_write_ineligible (finding O25).  Names in
 * table_stats_other_names[].
 */
typedef enum TableStatsOther
{
	OTHER_SERIALIZABLE = 0,		/* transaction isolation SERIALIZABLE */
	OTHER_NOT_HEAP,				/* foreign table, view, non-heap table AM, catalog */
	OTHER_WITH_CHECK,			/* RLS WITH CHECK policy or view WITH CHECK OPTION */
	OTHER_NOT_VALID_CHECK,		/* a NOT VALID CHECK constraint */
	OTHER_MUTABLE_CHECK,		/* a CHECK constraint calls a mutable function */
	OTHER_OTHER_WRITER,			/* another writer of the query (or a running one) may touch the table */
	OTHER_MERGE_ACTIONS,		/* MERGE actions that cannot be evaluated early */
	OTHER_REPEATED_ROW,			/* a row may be reached twice (join, ON CONFLICT) */
	OTHER_REPEAT_CHECK_FULL,	/* the statement's repeat check reached its size limit */
	OTHER_SELF_MODIFIED,		/* changed by a function or trigger of the same statement */
	OTHER_NREASONS
} TableStatsOther;

extern const char *const table_stats_other_names[OTHER_NREASONS];

/* Counts for one table, as added by one statement (all zero = nothing). */
typedef struct TableStatsDelta
{
	uint64		rows_updated;	/* rows an UPDATE (or ON CONFLICT / MERGE update) processed */
	uint64		noop_rows;		/* rows whose new version was identical (observed or suppressed) */
	uint64		noop_suppressed;	/* of those, rows for which no new version was written */
	uint64		ineligible[INELIGIBLE_NREASONS];	/* rows not considered, by reason */
	uint64		indexed_changed;	/* rows that changed at least one indexed column */
	uint64		nonindexed_only;	/* rows written that changed no indexed column
									 * (HOT-eligible): changed rows, and no-op
									 * rows that were written all the same */
	/* last: not a column of hygiene._table_write_stats() */
	uint64		other[OTHER_NREASONS];	/* ineligible[INELIGIBLE_OTHER] by reason */
} TableStatsDelta;

extern void table_stats_init(void);
extern void table_stats_add(Oid relid, const TableStatsDelta *delta);

#endif							/* HYGIENE_TABLE_STATS_H */
