-- Accounts, server-side sessions and the auth event log.
--
-- Times are Unix seconds (BIGINT) so the same queries work on SQLite and
-- PostgreSQL. Ids are UUIDv7 strings: unique without coordination, and
-- roughly time-ordered for index locality.

CREATE TABLE users (
    id            TEXT    PRIMARY KEY NOT NULL,
    -- Normalised (trimmed, lower-cased) sign-in name; unique.
    username      TEXT    NOT NULL UNIQUE,
    -- As typed at sign-up, for display only.
    display_name  TEXT    NOT NULL,
    -- Argon2id PHC string (algorithm, parameters, salt and hash).
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    id              TEXT    PRIMARY KEY NOT NULL,
    user_id         TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- SHA-256 of the session token. The raw token exists only in the cookie.
    -- UNIQUE gives the one index a request's lookup needs.
    token_hash      BYTEA   NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    -- Sliding: pushed forward on activity (throttled).
    idle_expires_at BIGINT  NOT NULL,
    -- Absolute cap: never moves.
    expires_at      BIGINT  NOT NULL,
    -- "Remember me": persistent cookie and longer limits.
    persistent      BOOLEAN NOT NULL DEFAULT FALSE,
    ip_address      TEXT,
    user_agent      TEXT,
    -- Set when the session is signed out or revoked; the row is purged later.
    revoked_at      BIGINT
);

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE auth_events (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT    REFERENCES users(id) ON DELETE CASCADE,
    -- signin, signin_failed, signup, logout, revoke, revoke_others,
    -- revoke_all, expired, refresh_reuse
    kind       TEXT    NOT NULL,
    -- At most a short prefix of the session's token hash; never a token.
    session_ref TEXT,
    ip_address TEXT,
    user_agent TEXT,
    created_at BIGINT  NOT NULL
);

CREATE INDEX auth_events_by_user ON auth_events (user_id, created_at);
