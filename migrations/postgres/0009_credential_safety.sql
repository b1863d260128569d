-- What the hardening review asked of credentials and notices.
--
-- `users.credentials_version` moves on whenever the account's credentials
-- change (a password set, changed or removed, a passkey removed) or its
-- owner signs out everywhere. A sign-in checks, once its session is
-- stored, that it did not move meanwhile (else the session is ended: a
-- sign-in in flight does not outlive a password change), and a device
-- cookie names the version it was issued at (a password change or
-- "sign out everywhere" invalidates every device cookie).
ALTER TABLE users ADD COLUMN credentials_version BIGINT NOT NULL DEFAULT 0;

-- `sessions.confirmed_at`: when the user last proved a credential *within*
-- the session (a confirmation), as opposed to the sign-in that began it.
-- Adding a credential needs one in the re-authentication window, and a
-- security notice is dismissed by a session older than it or by one that
-- proved a credential since.
ALTER TABLE sessions ADD COLUMN confirmed_at BIGINT;

-- Events someone else can cause at will (a locked account, a refused
-- refresh from a copied cookie) are one line per account, kind and day,
-- counted, so they cannot push the owner's own events off the list.
ALTER TABLE auth_events ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
