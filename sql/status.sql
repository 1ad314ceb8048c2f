-- The library is preloaded, attached to shared memory and counting statements.
SELECT library_version, extension_version, shared_memory,
       started_at <= now() AS started_in_past,
       statements_seen > 0 AS counting
FROM hygiene.status;

-- Versions agree between the library and the installed SQL objects.
SELECT library_version = extension_version AS versions_agree FROM hygiene.status;

-- The counter moves with each top-level statement.
SELECT statements_seen AS before_count FROM hygiene.status \gset
SELECT 1 AS one;
SELECT statements_seen > :before_count AS counted FROM hygiene.status;

-- The GUC prefix is reserved: typos are errors, not silently created placeholders.
SET pg_hygiene.no_such_setting = 'on';

-- pg_hygiene.debug is superuser-only.
CREATE ROLE hygiene_status_user;
SET ROLE hygiene_status_user;
SET pg_hygiene.debug = on;
SELECT count(*) = 1 AS can_read_status FROM hygiene.status;
RESET ROLE;
DROP ROLE hygiene_status_user;

-- The objects live in schema hygiene and the extension is not relocatable.
SELECT extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_hygiene';
ALTER EXTENSION pg_hygiene SET SCHEMA public;
