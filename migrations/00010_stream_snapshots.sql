-- +goose Up

-- stream_snapshots caches an order's state at several versions, so that
-- loading an order and reading its past (?version=, ?as_of=, idempotent
-- replays) fold only the events after the newest snapshot within reach.
-- Like snapshots (00006), which held one row per stream, it is a cache
-- and nothing else: every row may be deleted at any time (TRUNCATE
-- stream_snapshots is always safe), and no answer changes, only how many
-- events a read folds. snapshots is left as it is for builds that still
-- read it during a rolling deploy (their one-row-per-stream statements
-- would fail on this table's rows); a later migration drops it.
--
-- stream_id       the order.
-- fingerprint     identifies the build's state encoding and fold: a build
--                 reads and writes only rows of its own fingerprint, and a
--                 write deletes the stream's rows of other fingerprints.
-- version         the stream version the state is at. Builds write states
--                 at the multiples of ORDERAPI_SNAPSHOT_EVERY, so a stream
--                 keeps at most one row per that many events.
-- occurred_until  the latest occurred_at of the events up to version: as_of
--                 may start from the row only when it is not after as_of.
--                 It is the last event's time unless clocks disagreed.
-- state           the encoded state, jsonb so that an operator can read it
--                 with SQL; the store decodes it strictly and treats a row
--                 it cannot read as absent.
-- created_at      when the row was written, for operators.
CREATE TABLE stream_snapshots (
    stream_id       uuid        NOT NULL,
    fingerprint     text        NOT NULL,
    version         integer     NOT NULL,
    occurred_until  timestamptz NOT NULL,
    state           jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stream_snapshots_pkey PRIMARY KEY (stream_id, fingerprint, version),
    CONSTRAINT stream_snapshots_version_check CHECK (version > 0)
);

-- As for the other jsonb values of whole item lists (00008).
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE stream_snapshots ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available in this server: values stay compressed with pglz';
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE stream_snapshots;
