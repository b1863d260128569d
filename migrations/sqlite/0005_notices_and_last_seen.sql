-- Security notices, where each session was last seen, and the retention
-- of rotated refresh tokens.
--
-- A notice is what the account's owner should see on the dashboard until
-- they dismiss it (dismissing deletes the row; the event log keeps the
-- history): new_device, failed_sign_ins (with `count`), refresh_reuse.
CREATE TABLE security_notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    count      BIGINT  NOT NULL DEFAULT 0,
    ip_address TEXT,
    user_agent TEXT,
    created_at BIGINT  NOT NULL
);

CREATE INDEX security_notices_by_user ON security_notices (user_id, id);
CREATE INDEX security_notices_by_time ON security_notices (created_at);

-- Written with the throttled touch, next to the sign-in ones
-- (`ip_address`, `user_agent`). NULL until the first touch.
ALTER TABLE sessions ADD COLUMN last_ip_address TEXT;
ALTER TABLE sessions ADD COLUMN last_user_agent TEXT;

-- The cleanup task deletes refresh tokens rotated past their retention.
CREATE INDEX refresh_tokens_by_rotation ON refresh_tokens (rotated_at);
