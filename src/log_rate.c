/*-------------------------------------------------------------------------
 *
 * log_rate.c
 *		Rate-limited server-log output of pg_hygiene's rejections: at most
 *		pg_hygiene.log_rejections_per_second log entries per second for each
 *		(kind of rejection, rule, session role), with the number of entries
 *		not written logged later in one summary line.
 *
 * A retry storm against a limit or a query rule is rejected thousands of
 * times a second; each rejection is an ERROR with DETAIL, HINT and STATEMENT,
 * four log lines.  The client must still receive every error in full, so the
 * decision is made in two steps: the raising code calls log_rate_reject()
 * just before its ereport(ERROR), which charges the key's budget and, when
 * it is spent, arms a backend-local flag with the SQLSTATE; emit_log_hook
 * then sees the error and, if it carries that SQLSTATE and the "pg_hygiene: "
 * prefix, clears edata->output_to_server.  Any error reaching the hook
 * disarms the flag, so an error caught by an exception block (never emitted)
 * cannot silence a later unrelated one.
 *
 * Shared state: LOG_RATE_SLOTS fixed slots under one spinlock (nothing in it
 * can ereport; the critical sections copy a few words).  A key hashes to a
 * slot and probes LOG_RATE_PROBE slots; when all are taken by other keys the
 * least recently used one is evicted, and its not-yet-logged count is
 * written at once, so no count is lost.  A slot's window is one second from
 * its first rejection; a rejection in a later window first writes the
 * summary of the one before.  Windows that end without a further rejection
 * of their key are summarised by the next rejection of any key (at most one
 * sweep a second) or by the advice launcher, which calls log_rate_flush()
 * every few seconds, so a count is in the log within about
 * LOG_RATE_FLUSH_MS of the end of its storm.
 *
 * IDENTIFICATION
 *	  src/log_rate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "log_rate.h"
#include "pg_hygiene.h"

#define LOG_RATE_PROBE		8		/* slots probed for a key */
#define LOG_RATE_WHAT_LEN	64		/* "query rule 123", "limit max_plan_cost" */
#define LOG_RATE_FLUSH_MAX	16		/* summaries written by one call */
#define LOG_RATE_PREFIX		"pg_hygiene: "

typedef struct LogRateSlot
{
	int			sqlerrcode;		/* 0: free */
	Oid			roleid;
	uint64		subkey;
	TimestampTz window_start;	/* start of the current one-second window */
	TimestampTz last_used;		/* for eviction */
	int			logged;			/* entries written in this window */
	int64		suppressed;		/* entries not written since suppressed_since */
	TimestampTz suppressed_since;
	char		what[LOG_RATE_WHAT_LEN];
	char		role[NAMEDATALEN];
} LogRateSlot;

typedef struct LogRateShared
{
	slock_t		mutex;
	TimestampTz next_sweep;		/* no sweep of all slots before this */
	LogRateSlot slots[LOG_RATE_SLOTS];
} LogRateShared;

/* A summary line to write once the spinlock is released. */
typedef struct LogRateSummary
{
	int			sqlerrcode;
	int64		count;
	double		seconds;
	char		what[LOG_RATE_WHAT_LEN];
	char		role[NAMEDATALEN];
} LogRateSummary;

int			log_rejections_per_second = 1;

static LogRateShared *lr_shared = NULL;

/* SQLSTATE of the rejection whose log output is to be dropped; 0: none. */
static int	lr_pending_code = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* Ask for the fixed table. */
static void
lr_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(LogRateShared)));
}

/* Attach to (and on first attach, initialise) the table. */
static void
lr_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	lr_shared = ShmemInitStruct("pg_hygiene log rate", sizeof(LogRateShared), &found);
	if (!found)
	{
		memset(lr_shared, 0, sizeof(LogRateShared));
		SpinLockInit(&lr_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * emit_log_hook: drop the server-log output of a rejection whose budget is
 * spent.  Only an error that carries the armed SQLSTATE and pg_hygiene's
 * prefix is touched; the client still receives it.
 */
static void
lr_emit_log(ErrorData *edata)
{
	if (lr_pending_code != 0 && edata->elevel >= ERROR)
	{
		if (edata->sqlerrcode == lr_pending_code && edata->message != NULL &&
			strncmp(edata->message, LOG_RATE_PREFIX, strlen(LOG_RATE_PREFIX)) == 0)
			edata->output_to_server = false;
		lr_pending_code = 0;
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* Take a slot's not-yet-logged count into a summary (spinlock held). */
static void
lr_take_summary(LogRateSlot *s, TimestampTz now, LogRateSummary *out, int *n)
{
	LogRateSummary *sum;

	if (s->suppressed <= 0)
		return;
	if (*n < LOG_RATE_FLUSH_MAX)
	{
		sum = &out[(*n)++];
		sum->sqlerrcode = s->sqlerrcode;
		sum->count = s->suppressed;
		sum->seconds = (double) (now - s->suppressed_since) / USECS_PER_SEC;
		memcpy(sum->what, s->what, LOG_RATE_WHAT_LEN);
		memcpy(sum->role, s->role, NAMEDATALEN);
		s->suppressed = 0;
	}
	/* else: stays counted, written by a later call */
}

/* Summaries of every window that has ended (spinlock held). */
static void
lr_sweep(TimestampTz now, LogRateSummary *out, int *n)
{
	int			i;

	for (i = 0; i < LOG_RATE_SLOTS; i++)
	{
		LogRateSlot *s = &lr_shared->slots[i];

		if (s->sqlerrcode != 0 && s->suppressed > 0 &&
			now - s->window_start >= USECS_PER_SEC)
		{
			lr_take_summary(s, now, out, n);
			/* the next rejection of this key starts a new window */
			s->window_start = 0;
			s->logged = 0;
		}
	}
	lr_shared->next_sweep = now + USECS_PER_SEC;
}

/* Write summary lines (no lock held). */
static void
lr_write_summaries(LogRateSummary *sums, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		ereport(LOG,
				(errcode(sums[i].sqlerrcode),
				 errmsg_plural("pg_hygiene: %lld similar message suppressed in the last %.0f s (%s, role \"%s\")",
							   "pg_hygiene: %lld similar messages suppressed in the last %.0f s (%s, role \"%s\")",
							   (unsigned long) Min(sums[i].count, (int64) ULONG_MAX),
							   (long long) sums[i].count,
							   Max(sums[i].seconds, 1.0),
							   sums[i].what, sums[i].role),
				 errdetail("pg_hygiene.log_rejections_per_second is %d; the clients received every error.",
						   log_rejections_per_second),
				 errhidestmt(true),
				 errhidecontext(true)));
}

/* See log_rate.h. */
bool
log_rate_reject(int sqlerrcode, uint64 subkey, const char *what)
{
	LogRateSummary sums[LOG_RATE_FLUSH_MAX];
	int			nsums = 0;
	Oid			roleid = GetSessionUserId();
	char		role[NAMEDATALEN];
	char	   *name = NULL;
	TimestampTz now;
	uint32		h;
	int			i;
	LogRateSlot *slot = NULL;
	LogRateSlot *free_slot = NULL;
	LogRateSlot *oldest = NULL;
	bool		quiet = false;

	lr_pending_code = 0;
	if (lr_shared == NULL || log_rejections_per_second < 0)
		return false;

	if (IsTransactionState())
		name = GetUserNameFromId(roleid, true);
	if (name)
		strlcpy(role, name, NAMEDATALEN);
	else
		snprintf(role, NAMEDATALEN, "%u", roleid);

	h = hash_bytes_uint32((uint32) sqlerrcode) ^
		hash_bytes_uint32((uint32) roleid) ^
		hash_bytes_uint32((uint32) (subkey ^ (subkey >> 32)));
	now = GetCurrentTimestamp();

	SpinLockAcquire(&lr_shared->mutex);
	for (i = 0; i < LOG_RATE_PROBE; i++)
	{
		LogRateSlot *s = &lr_shared->slots[(h + i) % LOG_RATE_SLOTS];

		if (s->sqlerrcode == sqlerrcode && s->roleid == roleid && s->subkey == subkey)
		{
			slot = s;
			break;
		}
		if (s->sqlerrcode == 0)
		{
			if (free_slot == NULL)
				free_slot = s;
		}
		else if (oldest == NULL || s->last_used < oldest->last_used)
			oldest = s;
	}
	if (slot == NULL)
	{
		slot = free_slot;
		if (slot == NULL)
		{
			/* evict: its count is written now, not lost */
			slot = oldest;
			lr_take_summary(slot, now, sums, &nsums);
		}
		memset(slot, 0, sizeof(LogRateSlot));
		slot->sqlerrcode = sqlerrcode;
		slot->roleid = roleid;
		slot->subkey = subkey;
		strlcpy(slot->what, what, LOG_RATE_WHAT_LEN);
		memcpy(slot->role, role, NAMEDATALEN);
	}
	slot->last_used = now;
	if (now - slot->window_start >= USECS_PER_SEC)
	{
		lr_take_summary(slot, now, sums, &nsums);
		slot->window_start = now;
		slot->logged = 0;
	}
	if (slot->logged < log_rejections_per_second)
		slot->logged++;
	else
	{
		if (slot->suppressed == 0)
			slot->suppressed_since = slot->window_start;
		slot->suppressed++;
		quiet = true;
	}
	if (now >= lr_shared->next_sweep)
		lr_sweep(now, sums, &nsums);
	SpinLockRelease(&lr_shared->mutex);

	lr_write_summaries(sums, nsums);
	if (quiet)
		lr_pending_code = sqlerrcode;
	return quiet;
}

/* See log_rate.h. */
void
log_rate_flush(void)
{
	LogRateSummary sums[LOG_RATE_FLUSH_MAX];
	int			nsums = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (lr_shared == NULL)
		return;
	SpinLockAcquire(&lr_shared->mutex);
	lr_sweep(now, sums, &nsums);
	SpinLockRelease(&lr_shared->mutex);
	lr_write_summaries(sums, nsums);
}

/* GUC, shared memory and emit_log_hook; called from _PG_init. */
void
log_rate_init(void)
{
	DefineCustomIntVariable("pg_hygiene.log_rejections_per_second",
							"Server-log entries per second for each kind of rejection, rule and role.",
							"Rejections by limits, query rules and the DDL guard beyond this "
							"number in one second are not written to the server log (the client "
							"still receives the error); their count is logged later in one "
							"summary line. -1 logs every rejection; 0 logs only the summaries.",
							&log_rejections_per_second,
							1, -1, 1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = lr_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = lr_shmem_startup;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = lr_emit_log;
}
