ALTER TABLE users DROP COLUMN passkey_second_factor;
