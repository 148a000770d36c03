-- +goose Up

-- The events table accepts inserts from any writer with the right, not
-- only from orderapi's append. What it holds must stay readable: a time
-- outside the instants the domain handles (infinity, a year orderapi never
-- writes) or metadata that is not a JSON object would be stored forever.
-- NOT VALID: rows already stored are not scanned (that would hold the
-- table for as long as it takes); every new row is checked. `orderapi
-- check` reports old rows that break these rules.
ALTER TABLE events
    ADD CONSTRAINT events_times_check CHECK (
        occurred_at >= '1970-01-01 00:00:00+00' AND occurred_at < '9999-01-01 00:00:00+00' AND
        recorded_at >= '1970-01-01 00:00:00+00' AND recorded_at < '9999-01-01 00:00:00+00') NOT VALID,
    ADD CONSTRAINT events_metadata_check CHECK (jsonb_typeof(metadata) = 'object') NOT VALID,
    ADD CONSTRAINT events_data_check CHECK (jsonb_typeof(data) = 'object') NOT VALID;

-- +goose Down
ALTER TABLE events
    DROP CONSTRAINT events_times_check,
    DROP CONSTRAINT events_metadata_check,
    DROP CONSTRAINT events_data_check;
