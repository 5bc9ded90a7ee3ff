DROP TABLE audit_events;
DROP TABLE consents;
DROP TABLE refresh_tokens;
DROP TABLE refresh_families;
DROP TABLE signing_keys;
DROP TABLE clients;
DROP TABLE users;
