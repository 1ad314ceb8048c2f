/*-------------------------------------------------------------------------
 *
 * wait_events.h
 *		Names of the waits pg_hygiene puts statements in.
 *
 * IDENTIFICATION
 *	  src/wait_events.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_WAIT_EVENTS_H
#define HYGIENE_WAIT_EVENTS_H

#include "postgres.h"

typedef enum HygieneWait
{
	HYGIENE_WAIT_ACTIVE_SLOT,	/* limits: a role or instance slot */
	HYGIENE_WAIT_RATE_TOKEN,	/* limits: max_statements_per_second */
	HYGIENE_WAIT_WAL_BUDGET,	/* limits: max_wal_bytes_per_second */
	HYGIENE_WAIT_RULE_TOKEN,	/* query rule: per_second */
	HYGIENE_WAIT_RULE_SLOT,		/* query rule: max_concurrent */
	HYGIENE_WAIT_LAUNCHER,		/* advice launcher between rounds */
	HYGIENE_WAIT_COUNT
} HygieneWait;

/* wait_event_info for WaitLatch and ConditionVariableTimedSleep */
extern uint32 hygiene_wait_event(HygieneWait w);

#endif							/* HYGIENE_WAIT_EVENTS_H */
