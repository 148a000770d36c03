-- +goose Up

-- Idempotency keys are scoped by the principal that claims them: two
-- principals may use the same key, and neither's retry ever replays the
-- other's answer.
--
-- principal  the subject of the verified token of the claiming request;
--            '' for claims made before requests were authenticated,
--            which orderapi replays only to the very same request from a
--            principal allowed to see the order it made.
--
-- The primary key keeps its name: a second claim of (principal, key)
-- violates it, and the store knows the conflict by that name. The table
-- holds a day of claims at most, so rebuilding its key is brief.
ALTER TABLE idempotency_keys
    ADD COLUMN principal text NOT NULL DEFAULT '',
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, key),
    ADD CONSTRAINT idempotency_keys_principal_check CHECK (octet_length(principal) <= 1024);

-- +goose Down
DELETE FROM idempotency_keys WHERE principal <> '';
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_principal_check,
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (key),
    DROP COLUMN principal;
