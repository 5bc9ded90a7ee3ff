ALTER TABLE users DROP COLUMN sessions_not_before_ms;
