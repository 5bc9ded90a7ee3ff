-- Browser sessions issued before this instant (unix milliseconds) are over: set when a
-- credential of the user changes (seconds would let a session of the same second survive).
ALTER TABLE users ADD COLUMN sessions_not_before_ms BIGINT NOT NULL DEFAULT 0;
