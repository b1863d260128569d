-- Email: an address on the account, one-time links sent to it, and the
-- outbox mail waits in until it is delivered.

-- The address as typed, and its lookup key (lower-cased). An account may
-- have none. Unique only once verified: anyone may type any address, and
-- only whoever reads it can claim it.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN email_key TEXT;
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
CREATE UNIQUE INDEX users_by_verified_email ON users (email_key)
    WHERE email_verified_at IS NOT NULL;

-- Links sent by mail. The token exists only in the mail: this holds its
-- SHA-256. Bound to a purpose, an account and the address it went to;
-- taken (deleted) by its one use; a new one of the same purpose ends the
-- account's older ones. A sign-in link is also bound to the browser that
-- asked (`binding`: the SHA-256 of its cookie) and carries a short code
-- for that browser (`code_hash`), refused after a few wrong tries.
CREATE TABLE email_links (
    token_hash BYTEA   PRIMARY KEY NOT NULL,
    purpose    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    binding    BYTEA,
    code_hash  BYTEA,
    attempts   BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX email_links_by_binding ON email_links (binding);
CREATE INDEX email_links_by_user ON email_links (user_id, purpose);
CREATE INDEX email_links_by_expiry ON email_links (expires_at);

-- Mail to send, written in the same transaction as what caused it. The
-- sender takes a due message by moving next_attempt_at past a lease, so
-- one sender at a time tries it; a failure moves it by the back-off.
-- `kind` (what it is for: verify, reset…) spaces messages of one kind to
-- one address; the hourly cap counts every kind.
CREATE TABLE outbox (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
