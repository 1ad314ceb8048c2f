-- pg_hygiene is loaded and attached.
\dx pg_hygiene
SELECT * FROM hygiene.status;
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'pg_hygiene.%' ORDER BY name;
