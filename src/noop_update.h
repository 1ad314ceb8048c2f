/*-------------------------------------------------------------------------
 *
 * noop_update.h
 *		No-op UPDATE suppression: pg_hygiene.noop_updates and the per-table
 *		override in hygiene.noop_update_settings.
 *
 * See src/noop_update.c for the design.
 *
 * IDENTIFICATION
 *	  src/noop_update.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_NOOP_UPDATE_H
#define HYGIENE_NOOP_UPDATE_H

extern void noop_update_init(void);

#endif							/* HYGIENE_NOOP_UPDATE_H */
