-- The account around the session.
--
-- `authenticated_at`: when the user last proved a credential in this session
-- (at sign-in, and again at each confirmation before a sensitive action).
-- NULL on rows from before this migration, read as `created_at`.
ALTER TABLE sessions ADD COLUMN authenticated_at BIGINT;

-- The cleanup task deletes events past their retention by age.
CREATE INDEX auth_events_by_time ON auth_events (created_at);
