/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		pg_hygiene's core shared state: when the library was attached and
 *		how many statements went through its hooks.
 *
 * Space is requested only in shmem_request_hook and initialised once, under
 * AddinShmemInitLock, by whichever process attaches first.  The counters are
 * atomics, so the hot path takes no lock.  Each other module (no-op update
 * statistics, limits, DDL events) requests and attaches its own segment the
 * same way, so that this file does not grow with every feature.
 *
 * IDENTIFICATION
 *	  src/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "pg_hygiene.h"

typedef struct HygieneShared
{
	TimestampTz started_at;		/* when shared memory was initialised */
	pg_atomic_uint64 statements_seen;	/* top-level ExecutorStart calls */
} HygieneShared;

static HygieneShared *hygiene_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Ask the postmaster for our segment. */
static void
hygiene_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	RequestAddinShmemSpace(MAXALIGN(sizeof(HygieneShared)));
}

/* Attach to (and on first attach, initialise) our segment. */
static void
hygiene_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	hygiene_shared = ShmemInitStruct("pg_hygiene", sizeof(HygieneShared), &found);
	if (!found)
	{
		hygiene_shared->started_at = GetCurrentTimestamp();
		pg_atomic_init_u64(&hygiene_shared->statements_seen, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Install the shared memory hooks; called from _PG_init. */
void
shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = hygiene_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = hygiene_shmem_startup;
}

/* True once this process is attached to pg_hygiene's shared memory. */
bool
hygiene_shared_ready(void)
{
	return hygiene_shared != NULL;
}

/* Count one top-level statement. */
void
hygiene_count_statement(void)
{
	if (hygiene_shared)
		pg_atomic_fetch_add_u64(&hygiene_shared->statements_seen, 1);
}

/* Number of top-level statements counted since the server started. */
uint64
hygiene_statements_seen(void)
{
	return hygiene_shared ? pg_atomic_read_u64(&hygiene_shared->statements_seen) : 0;
}

/* When the shared state was initialised (the server's start). */
TimestampTz
hygiene_started_at(void)
{
	return hygiene_shared ? hygiene_shared->started_at : 0;
}
