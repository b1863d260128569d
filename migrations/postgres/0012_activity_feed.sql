-- Each instance keeps an account's dashboard lists (its security notices
-- and its events) in memory between the writes that change them. Every
-- change to them, whatever statement makes it (an account's deletion
-- cascading, the clean-up of old rows), is announced to every instance
-- (`LISTEN activity_changed`) with the account's id, delivered when, and
-- only if, the change commits. PostgreSQL sends a transaction's identical
-- notifications once, so a statement touching many rows of one account
-- announces it once. (SQLite needs no counterpart: one instance writes
-- the file and forgets its lists itself.)
CREATE FUNCTION announce_activity_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.user_id IS NOT NULL THEN
            PERFORM pg_notify('activity_changed', OLD.user_id);
        END IF;
    ELSIF NEW.user_id IS NOT NULL THEN
        PERFORM pg_notify('activity_changed', NEW.user_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER auth_events_announce_change
AFTER INSERT OR UPDATE OR DELETE ON auth_events
FOR EACH ROW EXECUTE FUNCTION announce_activity_change();

CREATE TRIGGER security_notices_announce_change
AFTER INSERT OR UPDATE OR DELETE ON security_notices
FOR EACH ROW EXECUTE FUNCTION announce_activity_change();
