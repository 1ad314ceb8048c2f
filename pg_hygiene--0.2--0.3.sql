/* pg_hygiene--0.2--0.3.sql: update from 0.2 with ALTER EXTENSION pg_hygiene UPDATE */

\echo Use "ALTER EXTENSION pg_hygiene UPDATE TO '0.3'" to load this file. \quit

-- Version 0.3 collects the schema changes of the 0.3 work, one section per concern.
-- A fresh install reaches 0.3 through this script as well (0.1 base, then the updates),
-- so every change here is also what a new database gets.  Keep each section's statements
-- together; add new sections at the end.

-- == Section: trust, no-op suppression (issue 10, N) ==

-- == Section: trust, security and privileges (issue 10, S) ==

-- == Section: trust, limits and query rules (issue 10, L) ==

-- == Section: trust, shared memory and DDL guard (issue 10, M, G1) ==

-- == Section: packaging (issue 11) ==
