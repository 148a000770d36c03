-- +goose Up

-- customer_data_keys keeps each customer's data keys: the AES-256 keys
-- that seal the customer's personal data (shipping addresses, delivery
-- signatures, cancellation reasons) wherever it is stored. A key is kept
-- only wrapped by a master key the service holds outside the database, so
-- a copy of the database alone reads no personal data. Erasing a customer
-- destroys the customer's keys (wrapped_key and master_key_id become NULL):
-- what they sealed can then never be read again, while the events that
-- hold it stay as they were. A customer has at most one live key;
-- personal data recorded after an erasure gets a new one.
--
-- master_key_id  the master key that wrapped the key; a rotation re-wraps
--                the keys that name an older one.
-- destroyed_at   when the key was destroyed, NULL while it is live.
CREATE TABLE customer_data_keys (
    key_id         uuid        PRIMARY KEY,
    customer_id    uuid        NOT NULL,
    wrapped_key    bytea,
    master_key_id  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    destroyed_at   timestamptz,
    CONSTRAINT customer_data_keys_destroyed_check CHECK (
        (wrapped_key IS NULL) = (destroyed_at IS NOT NULL) AND
        (master_key_id IS NULL) = (destroyed_at IS NOT NULL))
);

CREATE UNIQUE INDEX customer_data_keys_live_idx
    ON customer_data_keys (customer_id) WHERE destroyed_at IS NULL;

-- A destroyed key's old row version, wrapped key and all, stays in the
-- table's file until it is vacuumed: have autovacuum take the table as
-- soon as it holds one dead row (at its next round, autovacuum_naptime).
ALTER TABLE customer_data_keys SET (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0);

-- The key that sealed an event's personal members, NULL for an event that
-- holds none sealed (every event stored before sealing, and every event of
-- a type with no personal data). No foreign key: an event outlives its
-- key's destruction, and the tables may be distributed by different keys.
ALTER TABLE events ADD COLUMN personal_key uuid;

-- An event is sealed only with a live key. The row lock (FOR SHARE) holds
-- an erasure of that key back until the append commits, and an append that
-- waited for an erasure finds the key destroyed: either the event is
-- recorded before the erasure, and erased with the rest, or it is refused
-- (SQLSTATE OAKEY) and sealed again with the customer's new key. Without
-- this, an event sealed with a key its replica had not yet heard was
-- destroyed would be erased as soon as it was written.
-- +goose StatementBegin
CREATE FUNCTION events_require_live_key(key uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM customer_data_keys
      WHERE key_id = key AND destroyed_at IS NULL
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'data key % is destroyed or unknown', key
            USING ERRCODE = 'OAKEY';
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION events_check_personal_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM events_require_live_key(NEW.personal_key);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_personal_key
    BEFORE INSERT ON events
    FOR EACH ROW WHEN (NEW.personal_key IS NOT NULL)
    EXECUTE FUNCTION events_check_personal_key();

-- Events stay immutable, with one exception: an event stored in clear
-- before sealing began may have its personal members sealed, once. The
-- row may change in nothing else: its envelope, and every member of its
-- data but the personal ones, stay as they were, the personal members
-- keep their names and become sealed text, and the key must be live.
-- `orderapi personal-data seal` and an erasure do this; nothing else can.
-- +goose StatementBegin
CREATE FUNCTION events_refuse_change_but_sealing() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    personal CONSTANT text[] := ARRAY['shipping_address', 'signature', 'reason'];
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.personal_key IS NULL AND NEW.personal_key IS NOT NULL
       AND (NEW.position, NEW.transaction_id, NEW.event_id, NEW.stream_id, NEW.stream_version,
            NEW.event_type, NEW.schema_version, NEW.metadata, NEW.occurred_at, NEW.recorded_at)
           IS NOT DISTINCT FROM
           (OLD.position, OLD.transaction_id, OLD.event_id, OLD.stream_id, OLD.stream_version,
            OLD.event_type, OLD.schema_version, OLD.metadata, OLD.occurred_at, OLD.recorded_at)
       AND jsonb_typeof(NEW.data) = 'object'
       AND NEW.data - personal = OLD.data - personal
       AND NOT EXISTS (
           SELECT 1 FROM unnest(personal) AS p(name)
            WHERE (OLD.data ? p.name) <> (NEW.data ? p.name)
               OR (NEW.data ? p.name AND jsonb_typeof(NEW.data -> p.name) NOT IN ('string', 'null'))
               OR (jsonb_typeof(OLD.data -> p.name) = 'null' AND jsonb_typeof(NEW.data -> p.name) <> 'null')
               OR (jsonb_typeof(OLD.data -> p.name) <> 'null' AND NEW.data -> p.name = OLD.data -> p.name))
    THEN
        PERFORM events_require_live_key(NEW.personal_key);
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP
        USING ERRCODE = 'OAIMM';
END;
$$;
-- +goose StatementEnd

DROP TRIGGER events_immutable_rows ON events;
CREATE TRIGGER events_immutable_rows
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change_but_sealing();

-- A sealed value names its key in its own text (key id, a dot, the sealed
-- bytes), so that a read model row or a snapshot can hold values of one
-- customer sealed before and after an erasure.
-- erased: the order's personal data was erased when the row was written
-- (a row written while it was still readable says so once its key is
-- found destroyed).
ALTER TABLE order_details ADD COLUMN erased boolean NOT NULL DEFAULT false;

-- +goose Down
DROP TRIGGER events_immutable_rows ON events;
CREATE TRIGGER events_immutable_rows
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
DROP FUNCTION events_refuse_change_but_sealing();
ALTER TABLE order_details DROP COLUMN erased;
DROP TRIGGER events_personal_key ON events;
DROP FUNCTION events_check_personal_key();
DROP FUNCTION events_require_live_key(uuid);
ALTER TABLE events DROP COLUMN personal_key;
DROP TABLE customer_data_keys;
