-- +goose Up

-- An asynchronous projection that meets an event this build cannot decode
-- stops before it rather than skip it, and says so here: which event,
-- why, and since when, so that every replica reports it (GET
-- /v1/projections, /readyz, /metrics) and `orderapi check` finds it. The
-- consumer clears it once it has counted that event. Columns without a
-- default: adding them rewrites nothing.
ALTER TABLE projection_checkpoints
    ADD COLUMN stalled_event_id uuid,
    ADD COLUMN stalled_position bigint,
    ADD COLUMN stalled_reason   text,
    ADD COLUMN stalled_since    timestamptz;

-- +goose Down
ALTER TABLE projection_checkpoints
    DROP COLUMN stalled_event_id,
    DROP COLUMN stalled_position,
    DROP COLUMN stalled_reason,
    DROP COLUMN stalled_since;
