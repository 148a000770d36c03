-- +goose NO TRANSACTION
-- +goose Up

-- orderapi serve checks at start that it can decode every (event_type,
-- schema_version) the store holds. This index lets it list the distinct
-- pairs by a loose index scan (a few pages per pair) rather than reading
-- the whole table. It is small: deduplication stores each pair's many
-- rows compactly.
--
-- CONCURRENTLY, so that building it on a large table does not hold up
-- appends; that cannot run inside a transaction. A build that failed
-- half-way leaves an invalid index of the same name: drop it first.
DROP INDEX CONCURRENTLY IF EXISTS events_type_schema_idx;
CREATE INDEX CONCURRENTLY events_type_schema_idx ON events (event_type, schema_version);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS events_type_schema_idx;
