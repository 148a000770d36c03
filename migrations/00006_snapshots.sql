-- +goose Up

-- snapshots caches an order's state at some version, so that loading an
-- order with a long stream folds only the events after it. It is a cache
-- and nothing else: the events stay the only source of truth, every row
-- may be deleted at any time (TRUNCATE snapshots is always safe), and no
-- answer changes, only how many events a load folds.
--
-- stream_id    the order.
-- fingerprint  identifies the build's state encoding and fold: a build
--              reads and writes only rows of its own fingerprint, so
--              replicas of two releases (a rolling deploy) never trust
--              each other's rows. A write deletes the stream's rows of
--              other fingerprints.
-- version      the stream version the state is at; a write never replaces
--              a newer row with an older one.
-- state        the encoded state, jsonb rather than bytea so that an
--              operator can read it with SQL, as the events' data; the
--              store decodes it strictly and treats a row it cannot read
--              as absent.
-- created_at   when the row was last written, for operators.
CREATE TABLE snapshots (
    stream_id    uuid        NOT NULL,
    fingerprint  text        NOT NULL,
    version      integer     NOT NULL,
    state        jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT snapshots_pkey PRIMARY KEY (stream_id, fingerprint),
    CONSTRAINT snapshots_version_check CHECK (version > 0)
);

-- +goose Down
DROP TABLE snapshots;
