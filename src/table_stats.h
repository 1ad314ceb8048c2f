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
} TableStatsDelta;

extern void table_stats_init(void);
extern void table_stats_add(Oid relid, const TableStatsDelta *delta);

#endif							/* HYGIENE_TABLE_STATS_H */
