/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL version difference pg_hygiene cares about.
 *
 * pg_hygiene targets PostgreSQL 15.  Each PG_VERSION_NUM test lives here and
 * nowhere else, so that the logic in the other files reads the same on every
 * version.
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef HYGIENE_COMPAT_H
#define HYGIENE_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pg_hygiene requires PostgreSQL 15 or later"
#endif

/* The ACL check on a schema (object_aclcheck() from PostgreSQL 16 on). */
#if PG_VERSION_NUM >= 160000
#define hygiene_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define hygiene_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

#endif							/* HYGIENE_COMPAT_H */
