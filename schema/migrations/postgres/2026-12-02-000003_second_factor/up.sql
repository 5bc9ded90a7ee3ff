-- Accounts that must confirm a password sign-in with a passkey.
ALTER TABLE users ADD COLUMN passkey_second_factor BOOLEAN NOT NULL DEFAULT FALSE;
