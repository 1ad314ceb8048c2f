/*-------------------------------------------------------------------------
 *
 * log_rate.h
 *		Rate-limited server-log output of pg_hygiene's rejections.
 *
 * IDENTIFICATION
 *	  src/log_rate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_LOG_RATE_H
#define HYGIENE_LOG_RATE_H

#include "postgres.h"

/* The advice launcher writes ended windows' summaries this often. */
#define LOG_RATE_FLUSH_MS 5000

/* Fixed number of (kind, rule, role) keys tracked at once. */
#define LOG_RATE_SLOTS 128

extern int	log_rejections_per_second;

extern void log_rate_init(void);

/*
 * Call just before raising a rejection (ERROR with a pg_hygiene SQLSTATE and
 * a "pg_hygiene: " message): decides whether its server-log lines are
 * written, and writes the summary lines of windows that ended.  Returns true
 * when the rejection's log lines are suppressed (the client still receives
 * the whole error).  subkey tells rules of one kind apart (query rule id,
 * DDL guard rule); what names the kind and rule in the summary line.
 */
extern bool log_rate_reject(int sqlerrcode, uint64 subkey, const char *what);

/* Write the summary lines of ended windows (the launcher calls this). */
extern void log_rate_flush(void);

#endif							/* HYGIENE_LOG_RATE_H */
