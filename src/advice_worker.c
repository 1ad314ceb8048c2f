/*-------------------------------------------------------------------------
 *
 * advice_worker.c
 *		The sampler that keeps the advice current by itself: a launcher
 *		background worker starts, every pg_hygiene.advice_sample_interval,
 *		one short-lived worker per database, which takes a sample there if
 *		the database has the pg_hygiene extension.
 *
 * Rates need two samples; without this worker a sample was only taken when
 * somebody read an advice view or called hygiene.take_sample().  The
 * launcher (registered in _PG_init, so only when preloaded) connects to no
 * database and reads the shared catalog pg_database; for each database that
 * allows connections and is not a template it starts a dynamic worker and
 * waits for it to exit before starting the next, so at most two worker slots
 * are used, one of them only for the length of a sample.  The per-database
 * worker calls the sampler function of the extension, found as a member of
 * the extension (pg_depend), never by name, with force = false: a sample
 * taken meanwhile by a view or by take_sample() is not repeated.  Nothing is
 * written to any table (the history lives in shared memory), so it runs on
 * standbys too: a standby keeps its own history, as documented.
 *
 * pg_hygiene.advice_sample_interval = 0 turns the worker off (the views
 * then sample on every query, as before).  The launcher rereads the setting
 * on SIGHUP.  The first round starts one interval after the launcher starts.
 *
 * IDENTIFICATION
 *	  src/advice_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "advice.h"
#include "extension_objects.h"
#include "log_rate.h"
#include "pg_hygiene.h"
#include "wait_events.h"

PGDLLEXPORT void hygiene_advice_launcher_main(Datum main_arg);
PGDLLEXPORT void hygiene_advice_sampler_main(Datum main_arg);

/* Databases the launcher visits in one round (read from pg_database). */
static List *
advw_databases(void)
{
	List	   *dbs = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext cxt = CurrentMemoryContext;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate || db->datconnlimit == -2)
			continue;
		old = MemoryContextSwitchTo(cxt);
		dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return dbs;
}

/* Start the sampler for one database and wait until it exits. */
static void
advw_sample_database(Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_hygiene");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hygiene_advice_sampler_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_hygiene sampler for database %u", dbid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_hygiene sampler");
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		/* no free slot (max_worker_processes): try again next round */
		ereport(DEBUG1,
				(errmsg("pg_hygiene: no background worker slot for the sampler of database %u", dbid)));
		return;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return;
	(void) WaitForBackgroundWorkerShutdown(handle);
}

/* Launcher: every interval, one sampler per database, one after the other. */
void
hygiene_advice_launcher_main(Datum main_arg)
{
	TimestampTz next_round = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pg_hygiene advice launcher");

	for (;;)
	{
		TimestampTz now;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
		if (advice_sample_interval <= 0)
		{
			next_round = 0;
			wait_ms = 10000;
		}
		else if (next_round == 0 || next_round > now +
				 (int64) advice_sample_interval * USECS_PER_SEC)
		{
			/* first round (or a shorter interval): one interval from now */
			next_round = TimestampTzPlusMilliseconds(now,
													 (int64) advice_sample_interval * 1000);
			wait_ms = (long) advice_sample_interval * 1000;
		}
		else if (now >= next_round)
		{
			List	   *dbs = advw_databases();
			ListCell   *lc;

			foreach(lc, dbs)
			{
				CHECK_FOR_INTERRUPTS();
				advw_sample_database(lfirst_oid(lc));
			}
			list_free(dbs);
			next_round = TimestampTzPlusMilliseconds(next_round,
													 (int64) advice_sample_interval * 1000);
			now = GetCurrentTimestamp();
			if (next_round < now)
				next_round = now;
			wait_ms = (long) ((next_round - now) / 1000);
		}
		else
			wait_ms = (long) ((next_round - now) / 1000);

		/* counts of rejections not logged reach the log after their storm */
		log_rate_flush();
		wait_ms = Min(wait_ms, LOG_RATE_FLUSH_MS);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Max(wait_ms, 1), hygiene_wait_event(HYGIENE_WE_LAUNCHER));
		ResetLatch(MyLatch);
	}
}

/* Sampler: one sample of one database, if it has the extension. */
void
hygiene_advice_sampler_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	Oid			fn;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	pgstat_report_appname("pg_hygiene sampler");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_hygiene: advice sample");

	/* Only the extension's own sampler, never a function found by name. */
	fn = hygiene_extension_object(HYGIENE_OBJ_ADVICE_SAMPLE);
	if (OidIsValid(fn))
	{
		LOCAL_FCINFO(fcinfo, 1);
		FmgrInfo	flinfo;

		fmgr_info(fn, &flinfo);
		InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = BoolGetDatum(false);
		fcinfo->args[0].isnull = false;
		(void) FunctionCallInvoke(fcinfo);
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/* Register the launcher (called from _PG_init while preloading). */
void
advice_worker_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_hygiene");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hygiene_advice_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_hygiene advice launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_hygiene advice launcher");
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}
