-- +goose Up

-- events is the event store: the only source of truth. Every row is an
-- immutable fact about one order stream.
--
-- position        global order of insertion (not of commit; see transaction_id).
-- transaction_id  the writing transaction, so that a feed reader can read only
--                 below the oldest transaction still in flight and never skip
--                 an event whose transaction commits late.
-- stream_version  1, 2, 3... per stream, no gaps (enforced below).
-- schema_version  version of the data's shape for its event_type (upcasting).
CREATE TABLE events (
    position        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL,
    stream_id       uuid        NOT NULL,
    stream_version  integer     NOT NULL,
    event_type      text        NOT NULL,
    schema_version  smallint    NOT NULL DEFAULT 1,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_stream_version_check CHECK (stream_version > 0),
    CONSTRAINT events_schema_version_check CHECK (schema_version > 0),
    CONSTRAINT events_event_type_check CHECK (event_type <> '')
);

-- The global feed reads in (transaction_id, position) order.
CREATE INDEX events_transaction_position_idx ON events (transaction_id, position);

-- A stream has no gaps: version N may be written only after version N-1.
-- Row triggers see the rows inserted earlier by the same statement, so a
-- multi-event append passes. SQLSTATE OAGAP lets the store classify it.
-- +goose StatementBegin
CREATE FUNCTION events_check_contiguous() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_version > 1 AND NOT EXISTS (
        SELECT 1 FROM events
         WHERE stream_id = NEW.stream_id AND stream_version = NEW.stream_version - 1
    ) THEN
        RAISE EXCEPTION 'stream % has no version %', NEW.stream_id, NEW.stream_version - 1
            USING ERRCODE = 'OAGAP';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_contiguous
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_check_contiguous();

-- Events are immutable: PostgreSQL itself refuses to change or remove them.
-- +goose StatementBegin
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP
        USING ERRCODE = 'OAIMM';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_immutable_rows
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_immutable_table
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- order_details is the inline read model behind GET /v1/orders/{id}: the
-- order's state after its last event, written in the append's transaction.
-- version guards the upsert, so replaying an event changes nothing.
CREATE TABLE order_details (
    order_id         uuid        PRIMARY KEY,
    customer_id      uuid        NOT NULL,
    status           text        NOT NULL,
    currency         text        NOT NULL,
    items            jsonb       NOT NULL DEFAULT '[]'::jsonb,
    item_count       integer     NOT NULL,
    total            numeric     NOT NULL,
    shipping_address jsonb,
    tracking_number  text,
    carrier          text,
    signature        text,
    cancel_reason    text,
    cancelled_by     text,
    version          integer     NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    placed_at        timestamptz,
    shipped_at       timestamptz,
    delivered_at     timestamptz,
    cancelled_at     timestamptz
);

-- customer_orders is the inline read model behind a customer's order list,
-- paged newest first by (created_at, order_id).
CREATE TABLE customer_orders (
    customer_id  uuid        NOT NULL,
    order_id     uuid        NOT NULL,
    status       text        NOT NULL,
    currency     text        NOT NULL,
    total        numeric     NOT NULL,
    item_count   integer     NOT NULL,
    version      integer     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (customer_id, order_id)
);

CREATE INDEX customer_orders_newest_idx
    ON customer_orders (customer_id, created_at DESC, order_id DESC);
CREATE INDEX customer_orders_status_newest_idx
    ON customer_orders (customer_id, status, created_at DESC, order_id DESC);

-- +goose Down
DROP TABLE customer_orders;
DROP TABLE order_details;
DROP TABLE events;
DROP FUNCTION events_refuse_change();
DROP FUNCTION events_check_contiguous();
