-- +goose Up

-- The analytics projection is asynchronous: a consumer reads the global
-- feed after its checkpoint and folds each batch of events into these
-- tables, all in one transaction with the checkpoint's move. Nothing else
-- writes them, and they can be rebuilt from the events alone (empty them
-- and reset the checkpoint).

-- analytics_daily holds the figures of one UTC day (the day each event
-- occurred) in one currency. A row exists only for a day with activity.
-- revenue_placed sums the totals of the orders placed that day;
-- revenue_cancelled the totals of placed orders cancelled that day (a
-- cancelled draft counts in orders_cancelled only); items_sold the units
-- in the orders placed that day.
CREATE TABLE analytics_daily (
    date              date    NOT NULL,
    currency          text    NOT NULL,
    orders_created    bigint  NOT NULL DEFAULT 0,
    orders_placed     bigint  NOT NULL DEFAULT 0,
    orders_shipped    bigint  NOT NULL DEFAULT 0,
    orders_delivered  bigint  NOT NULL DEFAULT 0,
    orders_cancelled  bigint  NOT NULL DEFAULT 0,
    revenue_placed    numeric NOT NULL DEFAULT 0,
    revenue_cancelled numeric NOT NULL DEFAULT 0,
    items_sold        bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (date, currency)
);

-- analytics_orders is the consumer's private memory of each order, so that
-- it needs nothing but the events: the currency (from OrderCreated; every
-- later event counts in it), the quantity of each product line (product id
-- → quantity, kept from OrderItemAdded and OrderItemRemoved; OrderPlaced
-- counts them), and the total recorded by OrderPlaced (NULL until placed;
-- OrderCancelled counts it as cancelled revenue only when set).
CREATE TABLE analytics_orders (
    order_id     uuid    PRIMARY KEY,
    currency     text    NOT NULL,
    items        jsonb   NOT NULL DEFAULT '{}'::jsonb,
    placed_total numeric
);

-- projection_checkpoints records how far each asynchronous projection has
-- read the global feed: the (transaction_id, position) of the last event it
-- processed, in feed order. A consumer moves it only from the value it read
-- (compare-and-set), in the transaction that writes the batch's effects.
CREATE TABLE projection_checkpoints (
    name           text        PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT '0',
    position       bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO projection_checkpoints (name) VALUES ('analytics');

-- +goose Down
DROP TABLE projection_checkpoints;
DROP TABLE analytics_orders;
DROP TABLE analytics_daily;
