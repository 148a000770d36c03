-- +goose Up

-- idempotency_keys remembers which commit claimed each Idempotency-Key, so
-- that a retried request is answered again instead of executed twice. A
-- row is written by the same statement as the events it stands for (the
-- store's append), so it exists if and only if they do: a request that
-- failed wrote neither, and its key stays free.
--
-- No response is kept. The answer was the order at version, which its
-- events fix for good: a replay rebuilds it from them, byte for byte.
--
-- key          the client's key, scoped by nothing else (there is no client
--              identity): 1 to 255 visible ASCII characters.
-- fingerprint  SHA-256 of the request that claimed it (method, path, the
--              If-Match version, body); a different request is refused.
-- order_id, version, position
--              the order and version the commit left, and the global
--              position of its last event: what the answer showed.
-- expires_at   after it the key is treated as new, and the row is purged.
CREATE TABLE idempotency_keys (
    key          text        NOT NULL,
    fingerprint  bytea       NOT NULL,
    order_id     uuid        NOT NULL,
    version      integer     NOT NULL,
    position     bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (key),
    CONSTRAINT idempotency_keys_key_check CHECK (octet_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_fingerprint_check CHECK (octet_length(fingerprint) = 32),
    CONSTRAINT idempotency_keys_version_check CHECK (version > 0)
);

-- The purge deletes the expired keys, oldest first, in small batches.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
