package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The floors are the database work of one command or one read with
// nothing around it: what PostgreSQL alone can do on this machine. Each
// runs at the same concurrency as the HTTP figure it is compared with, in
// a database of its own with the minimal schema below, over the same URL
// (and so the same sslmode) as the server's. Statements are prepared and
// cached by pgx, as pgbench -M prepared does.

// floorSchema is an event table with a unique (stream, version) and the
// two read tables a command writes.
const floorSchema = `
CREATE TABLE events (
    position    bigserial   PRIMARY KEY,
    stream_id   uuid        NOT NULL,
    version     int         NOT NULL,
    type        text        NOT NULL,
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version_uq UNIQUE (stream_id, version)
);
CREATE TABLE order_details (
    order_id     uuid        PRIMARY KEY,
    customer_id  uuid        NOT NULL,
    status       text        NOT NULL,
    item_count   int         NOT NULL,
    total_cents  bigint      NOT NULL,
    version      int         NOT NULL,
    details      jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE TABLE customer_orders (
    customer_id  uuid        NOT NULL,
    order_id     uuid        NOT NULL,
    status       text        NOT NULL,
    item_count   int         NOT NULL,
    total_cents  bigint      NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (customer_id, order_id)
);`

// floorReadRows are seeded for the read floor, 5 orders per customer.
const floorReadRows = 50000

const floorSeed = `
INSERT INTO order_details (order_id, customer_id, status, item_count, total_cents, version, details, updated_at)
SELECT md5('seed/' || s)::uuid, md5('cseed/' || (s / 5))::uuid, 'open', 19, 19 * 5990, 20, $1::jsonb, now()
  FROM generate_series(0, $2::int - 1) AS s`

// floorPayload and floorMeta are an ItemAdded event's data (~300 bytes)
// and metadata (~200 bytes), sent as bind parameters and parsed to jsonb
// on every execution, as an application sends them.
const (
	floorPayload = `{"orderId":"3f1c2a9e-8b7d-4c6e-9a51-2d4f6b8e0c13","lineId":"b2e4f6a8-1c3d-4e5f-8a9b-0c1d2e3f4a5b","sku":"SKU-000123-BLU-L","name":"Merino crew-neck sweater, blue, size L","quantity":2,"unitPrice":{"amount":"59.90","currency":"EUR"},"discount":{"code":"AUTUMN10","amount":"11.98"},"addedAt":"2025-11-25T21:07:00.000Z"}`
	floorMeta    = `{"commandId":"7d9e2f10-3a4b-4c5d-8e6f-a1b2c3d4e5f6","correlationId":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","causationId":"5f6e7d8c-9b0a-4f1e-8d2c-3b4a5f6e7d8c","userId":"user-42","source":"orders-api"}`
)

// The command's three statements, with pgbench's variables as bind
// parameters: the stream's key, its customer's key, the version, the
// payload and the metadata. Stream and customer ids are uuids derived from
// the keys by md5(), as in pgbench.
const (
	// $1 key, $2 version, $3 payload, $4 metadata.
	floorInsertEvent = `
INSERT INTO events (stream_id, version, type, data, metadata)
VALUES (md5($1::text)::uuid, $2, 'ItemAdded', $3::jsonb, $4::jsonb)`
	// $1 key, $2 customer key, $3 version, $4 payload.
	floorUpsertDetails = `
INSERT INTO order_details AS o (order_id, customer_id, status, item_count, total_cents, version, details, updated_at)
VALUES (md5($1::text)::uuid, md5('c' || $2::text)::uuid, 'open', $3, $3 * 5990, $3, $4::jsonb, now())
ON CONFLICT (order_id) DO UPDATE
   SET status = EXCLUDED.status, item_count = EXCLUDED.item_count, total_cents = EXCLUDED.total_cents,
       version = EXCLUDED.version, details = EXCLUDED.details, updated_at = EXCLUDED.updated_at
 WHERE o.version < EXCLUDED.version`
	// $1 key, $2 customer key, $3 version.
	floorUpsertCustomer = `
INSERT INTO customer_orders (customer_id, order_id, status, item_count, total_cents, updated_at)
VALUES (md5('c' || $2::text)::uuid, md5($1::text)::uuid, 'open', $3, $3 * 5990, now())
ON CONFLICT (customer_id, order_id) DO UPDATE
   SET status = EXCLUDED.status, item_count = EXCLUDED.item_count, total_cents = EXCLUDED.total_cents,
       updated_at = EXCLUDED.updated_at`
	// $1 the seeded row's number.
	floorRead = `
SELECT order_id, customer_id, status, item_count, total_cents, version, details, updated_at
  FROM order_details
 WHERE order_id = md5('seed/' || $1::text)::uuid`
)

// setUpFloor creates the floor's tables and seeds the read floor's rows.
func setUpFloor(ctx context.Context, pool *pgxpool.Pool) error {
	if _, err := pool.Exec(ctx, floorSchema); err != nil {
		return fmt.Errorf("floor schema: %w", err)
	}
	if _, err := pool.Exec(ctx, floorSeed, floorPayload, floorReadRows); err != nil {
		return fmt.Errorf("floor seed: %w", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE order_details"); err != nil {
		return fmt.Errorf("floor vacuum: %w", err)
	}
	return nil
}

// floorStreams gives each floor client streams of its own: versions 1..40
// of one stream, then the next, with 4 streams per customer. run makes the
// keys of every measurement unique.
type floorStreams struct {
	run, client int64
	n           int64
}

// next returns the next write's stream key, customer key and version.
// The keys are text, as pgbench interpolates them into ::text casts.
func (f *floorStreams) next() (key, customer string, version int) {
	s := f.n / 40
	version = int(f.n%40) + 1
	f.n++
	base := f.run*1_000_000_000 + f.client*10_000_000
	return strconv.FormatInt(base+s, 10), strconv.FormatInt(base+s/4, 10), version
}

// floorWorker holds one connection for the whole measurement, as a
// pgbench client does.
func floorWorker(ctx context.Context, pool *pgxpool.Pool, op func(ctx context.Context, c *pgx.Conn) error) (worker, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return worker{}, err
	}
	return worker{
		op:    func() error { return op(ctx, conn.Conn()) },
		close: conn.Release,
	}, nil
}

// floorCommand is the command's write as five round trips: BEGIN, the
// three statements, COMMIT.
func floorCommand(streams *floorStreams) func(ctx context.Context, c *pgx.Conn) error {
	return func(ctx context.Context, c *pgx.Conn) error {
		key, customer, v := streams.next()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, floorInsertEvent, key, v, floorPayload, floorMeta); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, floorUpsertDetails, key, customer, v, floorPayload); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, floorUpsertCustomer, key, customer, v); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
}

// floorCommandPipelined is the same transaction sent as one pipeline: one
// round trip.
func floorCommandPipelined(streams *floorStreams) func(ctx context.Context, c *pgx.Conn) error {
	return func(ctx context.Context, c *pgx.Conn) error {
		key, customer, v := streams.next()
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(floorInsertEvent, key, v, floorPayload, floorMeta)
		b.Queue(floorUpsertDetails, key, customer, v, floorPayload)
		b.Queue(floorUpsertCustomer, key, customer, v)
		b.Queue("COMMIT")
		return c.SendBatch(ctx, b).Close()
	}
}

// floorReadOne reads one seeded order_details row by primary key.
func floorReadOne(rng *rand.Rand) func(ctx context.Context, c *pgx.Conn) error {
	var (
		orderID, customerID [16]byte
		status              string
		itemCount, version  int32
		totalCents          int64
		details             []byte
		updatedAt           time.Time
	)
	return func(ctx context.Context, c *pgx.Conn) error {
		i := strconv.Itoa(rng.IntN(floorReadRows))
		return c.QueryRow(ctx, floorRead, i).Scan(&orderID, &customerID, &status, &itemCount, &totalCents, &version, &details, &updatedAt)
	}
}

func newRand(a, b uint64) *rand.Rand { return rand.New(rand.NewPCG(a, b)) }
