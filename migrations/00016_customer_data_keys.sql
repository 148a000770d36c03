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

-- The key that sealed the personal fields of a row, NULL for a row that
-- holds none sealed (every event stored before sealing, and every event
-- of a type with no personal data). No foreign key: a row outlives its
-- key's destruction, and the tables may be distributed by different keys.
ALTER TABLE events ADD COLUMN personal_key uuid;
ALTER TABLE order_details ADD COLUMN personal_key uuid;
ALTER TABLE stream_snapshots ADD COLUMN personal_key uuid;

-- erased: the order's personal data was erased when the row was written
-- (a row written while it was still readable says so when its key turns
-- out to be destroyed).
ALTER TABLE order_details ADD COLUMN erased boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE order_details DROP COLUMN erased;
ALTER TABLE stream_snapshots DROP COLUMN personal_key;
ALTER TABLE order_details DROP COLUMN personal_key;
ALTER TABLE events DROP COLUMN personal_key;
DROP TABLE customer_data_keys;
