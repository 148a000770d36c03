-- +goose Up

-- Appends no longer notify from within their own transaction. PostgreSQL
-- serializes the commits of notifying transactions (a database-wide lock
-- held from before the commit record is written until it is flushed), so
-- a trigger's pg_notify cost every append its share of group commit. The
-- service announces appends after they commit instead (see Announcer in
-- internal/adapters/postgres), on the same channel, orderapi_events.
-- Readers still poll besides, so a writer that does not announce (a
-- script's INSERT, say) is seen at the next poll.
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orderapi_events', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
