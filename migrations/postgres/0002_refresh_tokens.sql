-- Refresh tokens: one lineage per session, rotated on every use.
--
-- Only the SHA-256 of a token is stored. `rotated_at` marks a token that has
-- been exchanged for its successor; presenting it again after the grace
-- window is reuse, and revokes the whole session.

CREATE TABLE refresh_tokens (
    id          TEXT   PRIMARY KEY NOT NULL,
    session_id  TEXT   NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    token_hash  BYTEA  NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
