-- Passkeys (WebAuthn credentials), and the ceremonies that register and use
-- them while they wait for their second request.
--
-- An account made with a passkey alone has no password: its
-- `password_hash` is the empty string (SQLite cannot drop the NOT NULL of
-- an existing column without rebuilding the table; the store reads '' as
-- "no password", and no Argon2 PHC string is empty).

CREATE TABLE passkeys (
    id            TEXT   PRIMARY KEY NOT NULL,
    user_id       TEXT   NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The WebAuthn credential id (base64url): one account per credential.
    credential_id TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    -- webauthn-rs' Passkey as JSON: public key, signature counter, flags.
    credential    TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE INDEX passkeys_by_user ON passkeys (user_id);

-- A started ceremony, under the SHA-256 of the token in the browser's
-- ceremony cookie; taken (deleted) by the request that finishes it.
CREATE TABLE passkey_ceremonies (
    key_hash   BLOB  PRIMARY KEY NOT NULL,
    state      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
