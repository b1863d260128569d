-- The thumbprint (RFC 7638) of the DPoP key a session's refresh tokens are
-- bound to: set by the first refresh that carries a proof, never changed.
ALTER TABLE sessions ADD COLUMN dpop_jkt TEXT;
