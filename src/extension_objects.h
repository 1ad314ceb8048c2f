/*-------------------------------------------------------------------------
 *
 * extension_objects.h
 *		The SQL objects the C code uses, found only as members of the
 *		pg_hygiene extension of the current database (never by name).
 *
 * IDENTIFICATION
 *	  src/extension_objects.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef EXTENSION_OBJECTS_H
#define EXTENSION_OBJECTS_H

#include "postgres.h"

/* The extension objects the C code reads or calls. */
typedef enum HygieneExtObject
{
	HYGIENE_OBJ_NOOP_TRIGGER,	/* function hygiene._noop_update_trigger() */
	HYGIENE_OBJ_NOOP_SETTINGS,	/* table hygiene.noop_update_settings */
	HYGIENE_OBJ_QUERY_RULE,		/* table hygiene.query_rule */
	HYGIENE_OBJ_DISABLED_INDEX,	/* table hygiene.disabled_index */
	HYGIENE_OBJ_ADVICE_SAMPLE,	/* function hygiene._advice_sample(boolean) */
	HYGIENE_OBJ_COUNT
} HygieneExtObject;

/*
 * OID of the object if the pg_hygiene extension exists in this database and
 * the object is one of its members, else InvalidOid.  Cached per backend;
 * costs an array read once cached.
 */
extern Oid	hygiene_extension_object(HygieneExtObject which);
extern void hygiene_extension_tables(Oid *relids);

/* Number of the extension's own tables, filled in by hygiene_extension_tables() */
#define HYGIENE_EXTENSION_NTABLES 3

extern void extension_objects_init(void);

#endif							/* EXTENSION_OBJECTS_H */
