/*-------------------------------------------------------------------------
 *
 * index_disable.h
 *		Soft index drop: indexes listed in hygiene.disabled_index are hidden
 *		from the planner (see index_disable.c).
 *
 * IDENTIFICATION
 *	  src/index_disable.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_INDEX_DISABLE_H
#define HYGIENE_INDEX_DISABLE_H

extern void index_disable_init(void);

#endif							/* HYGIENE_INDEX_DISABLE_H */
