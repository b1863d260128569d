-- Rate-limit counters shared by every instance (fixed windows).
--
-- `key` names the limit and what it counts (`fail:<account>`, `ip:<address>`);
-- a row whose window has ended counts from zero again, and the cleanup task
-- deletes it. Times are milliseconds since the Unix epoch.

CREATE TABLE rate_counters (
    key            TEXT   PRIMARY KEY NOT NULL,
    count          BIGINT NOT NULL,
    window_ends_ms BIGINT NOT NULL
);

CREATE INDEX rate_counters_by_end ON rate_counters (window_ends_ms);
