-- +goose NO TRANSACTION
-- +goose Up

-- `orderapi projections verify` compares the read models with the events
-- a range of order ids at a time, each range in a short transaction of its
-- own, so that it never holds the live tables (nor one snapshot) for the
-- whole run: a rebuild's swap or a migration that needs a table to itself
-- would otherwise wait for it, and the service's reads and writes behind
-- them. customer_orders is keyed by customer: this index finds a range of
-- its orders without reading the whole table. order_id never changes, so
-- the index costs an entry per order, not per command.
--
-- CONCURRENTLY, so that building it on a large table does not hold up
-- appends; that cannot run inside a transaction. A build that failed
-- half-way leaves an invalid index of the same name: drop it first.
DROP INDEX CONCURRENTLY IF EXISTS customer_orders_order_idx;
CREATE INDEX CONCURRENTLY customer_orders_order_idx ON customer_orders (order_id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS customer_orders_order_idx;
