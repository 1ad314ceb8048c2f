/*-------------------------------------------------------------------------
 *
 * limits_common.h
 *		Per-role statement and priority limits: admission control, rate
 *		limits, write budgets, timeout ceilings and plan caps.
 *
 * limits.c holds the GUCs, the hooks, the shared per-role table and the
 * admission queue; limits_wal.c the write budget (max_wal_bytes_per_second).
 * The declarations below are what the two files share.  (Not "limits.h":
 * with -Isrc that name would shadow the C library header.)
 *
 * IDENTIFICATION
 *	  src/limits_common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_LIMITS_COMMON_H
#define HYGIENE_LIMITS_COMMON_H

#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/execnodes.h"
#include "storage/spin.h"
#include "utils/timestamp.h"

/* Rejection reasons, one counter each in LimRole.rejected[]. */
typedef enum LimReason
{
	LIM_REJECT_ACTIVE = 0,		/* max_active_statements */
	LIM_REJECT_TOTAL,			/* max_active_total */
	LIM_REJECT_RATE,			/* max_statements_per_second */
	LIM_REJECT_PLAN_COST,		/* max_plan_cost */
	LIM_REJECT_JOIN_RELS,		/* max_join_rels */
	LIM_NREASONS
} LimReason;

/*
 * One role's shared counters and limiter state.  Entries live in a bounded
 * shared hash keyed by role OID and are never removed (a reset zeroes the
 * statistics), so a backend may cache a pointer to its entry.  Every field
 * but roleid is protected by the limits LWLock.
 */
typedef struct LimRole
{
	Oid			roleid;			/* hash key */
	int			active;			/* statements running now (counted) */
	uint64		admitted;		/* statements admitted */
	uint64		queued;			/* statements that had to wait */
	uint64		rejected[LIM_NREASONS];
	int64		wait_us;		/* time spent queued or rate-delayed */
	int64		throttle_us;	/* time slept for the write budget */
	int64		exec_us;		/* run time of finished counted statements */
	uint64		finished;		/* number of those */
	uint64		wal_bytes;		/* WAL charged to the write budget */
	double		tokens;			/* token bucket (statements per second) */
	TimestampTz tokens_at;		/* when the bucket was last refilled */
	TimestampTz wal_clock;		/* when the role's WAL debt is paid off */
	TimestampTz stats_reset;
} LimRole;

/* GUCs shared with limits_wal.c */
extern int	lim_max_wal_bytes_per_second;

/* limits.c */
extern void limits_init(void);
extern LimRole *lim_role_entry(void);
extern bool lim_exempt(void);
extern void lim_lock_exclusive(void);
extern void lim_unlock(void);
extern void lim_sleep_until(TimestampTz until, int64 *slept_us);

/* limits_wal.c */
extern void lim_wal_statement_start(void);
extern void lim_wal_wrap_plan(QueryDesc *queryDesc);
extern void lim_wal_charge(void);
extern void lim_wal_unwrap(PlanState *node);

#endif							/* HYGIENE_LIMITS_COMMON_H */
