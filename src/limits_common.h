/*-------------------------------------------------------------------------
 *
 * limits_common.h
 *		Per-role statement and priority limits: admission control, rate
 *		limits, write budgets, timeout ceilings and plan caps.
 *
 * limits.c holds the GUCs, the hooks, the timeout ceilings and the plan caps;
 * limits_admit.c the shared per-role table, the admission queue and the
 * statistics functions; limits_wal.c the write budget
 * (max_wal_bytes_per_second).  The declarations below are what they share.  (Not "limits.h":
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
#include "port/atomics.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "wait_events.h"

/* SQLSTATEs of the rejections (documented in docs/limits.md). */
#define ERRCODE_HYGIENE_ROLE_ACTIVE		MAKE_SQLSTATE('5','3','R','0','1')
#define ERRCODE_HYGIENE_TOTAL_ACTIVE	MAKE_SQLSTATE('5','3','R','0','2')
#define ERRCODE_HYGIENE_RATE			MAKE_SQLSTATE('5','3','R','0','3')
#define ERRCODE_HYGIENE_PLAN_COST		MAKE_SQLSTATE('5','4','R','0','1')
#define ERRCODE_HYGIENE_JOIN_RELS		MAKE_SQLSTATE('5','4','R','0','2')

/* Priority classes (pg_hygiene.priority); a smaller value ranks first. */
typedef enum LimPriority
{
	LIM_PRIO_CRITICAL = 0,
	LIM_PRIO_HIGH,
	LIM_PRIO_NORMAL,
	LIM_PRIO_LOW,
	LIM_PRIO_BACKGROUND
} LimPriority;

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
 * statistics), so a backend may cache a pointer to its entry.  The hash is
 * protected by the limits LWLock; "active" and "wal_clock" are atomics (read
 * and changed without any lock on the common path); every other field is
 * protected by the entry's spinlock, held only for a few instructions.
 */
typedef struct LimRole
{
	Oid			roleid;			/* hash key */
	pg_atomic_uint32 active;	/* statements running now (counted) */
	pg_atomic_uint64 wal_clock; /* when the role's WAL debt is paid off (a
								 * TimestampTz), read by every statement
								 * under a write budget without a lock */
	slock_t		mutex;			/* protects the fields below */
	uint64		admitted;		/* statements admitted */
	uint64		queued;			/* statements that had to wait */
	uint64		rejected[LIM_NREASONS];
	int64		wait_us;		/* time spent queued or rate-delayed */
	int64		throttle_us;	/* time slept for the write budget */
	int64		exec_us;		/* run time of finished counted statements */
	uint64		finished;		/* number of those */
	uint64		wal_bytes;		/* WAL charged to the write budget */
	uint64		admitted_over_cap;	/* queued, then admitted past a full cap
									 * to break a deadlock through the queue */
	double		tokens;			/* token bucket (statements per second) */
	TimestampTz tokens_at;		/* when the bucket was last refilled */
	TimestampTz stats_reset;
} LimRole;

/* GUCs, defined in limits.c */
extern int	lim_priority;
extern int	lim_max_active_statements;
extern int	lim_max_active_total;
extern int	lim_max_statements_per_second;
extern int	lim_max_wal_bytes_per_second;
extern int	lim_wal_budget_replay_lag;
extern int	lim_queue_timeout;
extern bool lim_exempt_superusers;
extern bool lim_exempt_background;
extern int	lim_max_tracked_roles;
extern int	lim_test_slot_pause;

/* limits.c */
extern void limits_init(void);
extern bool lim_xact_dirty;

/* limits_admit.c */
extern const struct config_enum_entry lim_priority_options[];
extern void lim_admit_init(void);
extern void lim_admit_statement(QueryDesc *queryDesc);
extern void lim_admit_utility(void);
extern void lim_utility_done(void);
extern LimRole *lim_role_entry(void);
extern bool lim_exempt(void);
extern void lim_count_reject(LimRole *role, LimReason reason);
extern void lim_sleep_until(TimestampTz until, int64 *slept_us, HygieneWaitEvent what);

/* limits_wal.c */
extern void lim_wal_init(void);
extern double lim_wal_budget_scale(TimestampTz now);
extern void lim_wal_statement_start(void);
extern void lim_wal_wrap_plan(QueryDesc *queryDesc);
extern void lim_wal_charge(void);
extern void lim_wal_unwrap(PlanState *node);

#endif							/* HYGIENE_LIMITS_COMMON_H */
