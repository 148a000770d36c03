-- +goose Up

-- The global feed filtered by type reads in (transaction_id, position) order
-- within one type.
CREATE INDEX events_type_transaction_position_idx
    ON events (event_type, transaction_id, position);

-- Every append wakes the feed's readers. The notification is sent at
-- commit (and not at all on rollback), once per transaction however many
-- statements it ran, so readers look only when there is something to see.
-- Its payload is empty: it is a wake-up, never data, so a lost one only
-- delays a reader until its next poll.
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

-- +goose Down
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();
DROP INDEX events_type_transaction_position_idx;
