/*-------------------------------------------------------------------------
 *
 * wait_events.c
 *		The wait events pg_hygiene's waits show in pg_stat_activity.
 *
 * From PostgreSQL 17 an extension can name its waits (custom wait events,
 * registered in shared memory by name; every backend registering the same
 * name gets the same id): a queued statement then shows wait_event_type
 * "Extension" and a wait_event such as "PgHygieneActiveSlot" instead of the
 * generic "Extension", which every extension's waits share.  On 15 the
 * generic event is all there is (HYGIENE_WAIT_EVENT in compat.h).  Each
 * backend registers a name the first time it waits so (one lookup under
 * core's lock), then uses the cached id.
 *
 * IDENTIFICATION
 *	  src/wait_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_hygiene.h"
#include "wait_events.h"

static const char *const hygiene_wait_names[HYGIENE_WE_COUNT] = {
	[HYGIENE_WE_ACTIVE_SLOT] = "PgHygieneActiveSlot",
	[HYGIENE_WE_RATE_TOKEN] = "PgHygieneRateToken",
	[HYGIENE_WE_WAL_BUDGET] = "PgHygieneWalBudget",
	[HYGIENE_WE_RULE_TOKEN] = "PgHygieneRuleToken",
	[HYGIENE_WE_RULE_SLOT] = "PgHygieneRuleSlot",
	[HYGIENE_WE_LAUNCHER] = "PgHygieneLauncher",
};

/* Ids already registered by this backend (0: not yet). */
static uint32 hygiene_wait_ids[HYGIENE_WE_COUNT];

/* The wait_event_info of one of pg_hygiene's waits. */
uint32
hygiene_wait_event(HygieneWaitEvent w)
{
	Assert(w >= 0 && w < HYGIENE_WE_COUNT);
	if (hygiene_wait_ids[w] == 0)
		hygiene_wait_ids[w] = HYGIENE_WAIT_EVENT(hygiene_wait_names[w]);
	return hygiene_wait_ids[w];
}
