-- The revocation log: which sessions were revoked, and when, for as long
-- as an access token minted before the revocation could still be
-- unexpired (the cleanup task forgets older entries). An instance whose
-- revocation feed was down reloads its deny-list from here when it comes
-- back. It holds ids and times only, so it outlives an account's deletion
-- without keeping anything personal.
CREATE TABLE session_revocations (
    session_id TEXT    PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);

CREATE INDEX session_revocations_by_time ON session_revocations (revoked_at);

-- Every revocation, whatever statement makes it, is logged in the same
-- transaction.
CREATE TRIGGER sessions_log_revocation
AFTER UPDATE OF revoked_at ON sessions
FOR EACH ROW WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO session_revocations (session_id, revoked_at)
    VALUES (NEW.id, NEW.revoked_at);
END;
