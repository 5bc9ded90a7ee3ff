ALTER TABLE refresh_families DROP COLUMN resource;
DROP TABLE resource_servers;
