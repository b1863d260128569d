-- Identities at OpenID Connect providers ("Sign in with …") linked to an
-- account. An identity is its issuer and subject (OpenID Connect Core
-- 5.7): never its email, which a provider may let its owner change, or let
-- someone else claim.

CREATE TABLE identities (
    issuer       TEXT   NOT NULL,
    subject      TEXT   NOT NULL,
    user_id      TEXT   NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- What the provider called the account when it was linked, for the
    -- account page only (it may be out of date, and it proves nothing).
    label        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX identities_by_user ON identities (user_id);
