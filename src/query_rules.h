/*-------------------------------------------------------------------------
 *
 * query_rules.h
 *		Query digest rules: block or throttle statements by queryid.
 *
 * See query_rules.c for the design; docs/query_rules.md for the user's view.
 *
 * IDENTIFICATION
 *	  src/query_rules.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_QUERY_RULES_H
#define HYGIENE_QUERY_RULES_H

/*
 * SQLSTATEs of rejections by a query rule (class 53, insufficient resources).
 * Documented in docs/query_rules.md; keep them stable.
 */
#define ERRCODE_HYGIENE_QUERY_BLOCKED		MAKE_SQLSTATE('5','3','H','1','0')
#define ERRCODE_HYGIENE_QUERY_RATE			MAKE_SQLSTATE('5','3','H','1','1')
#define ERRCODE_HYGIENE_QUERY_CONCURRENCY	MAKE_SQLSTATE('5','3','H','1','2')

extern void query_rules_init(void);

/* query_id.c */
extern void query_id_init(void);
extern void hygiene_queryid_note(uint64 queryid);
extern int	hygiene_queryid_seen_slots(void);
extern void query_rules_extension_changed(void);

#endif							/* HYGIENE_QUERY_RULES_H */
