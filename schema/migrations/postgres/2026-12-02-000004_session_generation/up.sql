-- Counts the user's credential changes: a browser session remembers the generation it was
-- issued in and is over once the user's moves on (no clock involved, exact under races).
ALTER TABLE users ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
