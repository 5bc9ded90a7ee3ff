-- Resource servers (RFC 8707 resource indicators): the audiences access tokens can be
-- issued for, and the client each one introspects tokens as.
CREATE TABLE resource_servers (
    identifier TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    introspection_client_id TEXT,
    created_at BIGINT NOT NULL
);
-- The audience a grant's access tokens are issued for (NULL: the client itself).
ALTER TABLE refresh_families ADD COLUMN resource TEXT;
