-- +goose Up

-- broker_checkpoints records, for each broker stream the relay publishes
-- to, how far the stream holds the global feed: the feed cursor and id of
-- the last event the stream acknowledged, and that message's stream
-- sequence. The relay resumes from here, and trusts what the stream holds
-- after it only where it is, message by message, the feed's own
-- continuation; so a message someone else published under the prefix
-- stops the relay instead of moving it. The row also says why the relay
-- is stopped, so that every replica reports it.
--
-- stream_sequence  NULL until the relay first took a checkpoint: the row
--                  may hold a stop record alone.
-- epoch            moved by each `orderapi nats resume`; a relay moves the
--                  checkpoint only within the epoch it read, so that an
--                  operator's decision is never overwritten by a relay
--                  still running on what it knew before.
CREATE TABLE broker_checkpoints (
    stream          text        PRIMARY KEY,
    transaction_id  xid8,
    position        bigint,
    event_id        uuid,
    stream_sequence bigint,
    epoch           bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    stopped_code     text,
    stopped_event_id uuid,
    stopped_position bigint,
    stopped_reason   text,
    stopped_since    timestamptz,
    CONSTRAINT broker_checkpoints_taken_check CHECK (
        (stream_sequence IS NULL) = (transaction_id IS NULL)
        AND (stream_sequence IS NULL) = (position IS NULL)
        AND stream_sequence >= 0 AND position >= 0),
    CONSTRAINT broker_checkpoints_stopped_check CHECK (
        (stopped_code IS NULL) = (stopped_reason IS NULL)
        AND (stopped_code IS NULL) = (stopped_since IS NULL))
);

-- +goose Down
DROP TABLE broker_checkpoints;
