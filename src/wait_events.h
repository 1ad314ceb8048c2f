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

typedef enum HygieneWaitEvent
{
	HYGIENE_WE_ACTIVE_SLOT,	/* limits: a role or instance slot */
	HYGIENE_WE_RATE_TOKEN,	/* limits: max_statements_per_second */
	HYGIENE_WE_WAL_BUDGET,	/* limits: max_wal_bytes_per_second */
	HYGIENE_WE_RULE_TOKEN,	/* query rule: per_second */
	HYGIENE_WE_RULE_SLOT,		/* query rule: max_concurrent */
	HYGIENE_WE_LAUNCHER,		/* advice launcher between rounds */
	HYGIENE_WE_COUNT
} HygieneWaitEvent;

/* wait_event_info for WaitLatch and ConditionVariableTimedSleep */
extern uint32 hygiene_wait_event(HygieneWaitEvent w);

#endif							/* HYGIENE_WAIT_EVENTS_H */
