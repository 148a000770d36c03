-- +goose Up

-- service_secrets keeps the secrets every replica of the service shares
-- and no client may learn, one row per purpose. None is written here: the
-- service makes each one from crypto/rand the first time it starts on a
-- database (INSERT ... ON CONFLICT DO NOTHING, then it reads the row that
-- won), so that the replicas of one database agree and another database,
-- even a copy of this schema, has secrets of its own.
--
-- name   what the secret is for: cursor_signing_key signs the cursors the
--        API hands out (next_cursor, the live feed's event ids).
-- value  the secret's random bytes.
CREATE TABLE service_secrets (
    name        text        NOT NULL,
    value       bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT service_secrets_pkey PRIMARY KEY (name),
    CONSTRAINT service_secrets_value_check CHECK (octet_length(value) >= 16)
);

-- +goose Down
DROP TABLE service_secrets;
