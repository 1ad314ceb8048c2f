/*-------------------------------------------------------------------------
 *
 * waits.h
 *		Who is waiting or throttled by pg_hygiene right now (hygiene.waiting).
 *
 * See waits.c.
 *
 * IDENTIFICATION
 *	  src/waits.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_WAITS_H
#define HYGIENE_WAITS_H

#include "postgres.h"

#include "utils/timestamp.h"

/* What a backend waits for; shown in hygiene.waiting.waits_for. */
typedef enum HygieneWaitKind
{
	HYGIENE_WAIT_NONE = 0,
	HYGIENE_WAIT_ROLE_SLOT,		/* pg_hygiene.max_active_statements */
	HYGIENE_WAIT_INSTANCE_SLOT, /* pg_hygiene.max_active_total */
	HYGIENE_WAIT_RATE_TOKEN,	/* pg_hygiene.max_statements_per_second */
	HYGIENE_WAIT_WAL_BUDGET,	/* pg_hygiene.max_wal_bytes_per_second */
	HYGIENE_WAIT_RULE_TOKEN,	/* a query rule's per_second */
	HYGIENE_WAIT_RULE_SLOT		/* a query rule's max_concurrent */
} HygieneWaitKind;

extern void waits_init(void);
extern void hygiene_wait_begin(HygieneWaitKind kind, TimestampTz until,
							   int64 rule_id, int64 queryid);
extern void hygiene_wait_set_kind(HygieneWaitKind kind);
extern void hygiene_wait_end(void);

#endif							/* HYGIENE_WAITS_H */
