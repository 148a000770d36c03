package bulkload

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// Footprint is what a store takes on disk, against what its events say.
type Footprint struct {
	Events int64 `json:"events"`
	// EventsHeap, EventsIndexes and EventsTOAST are the events table's
	// parts; Details and Summaries the read models' tables, with their
	// indexes and TOAST.
	EventsHeap    int64 `json:"events_heap_bytes"`
	EventsIndexes int64 `json:"events_indexes_bytes"`
	EventsTOAST   int64 `json:"events_toast_bytes"`
	Details       int64 `json:"order_details_bytes"`
	Summaries     int64 `json:"customer_orders_bytes"`
	// RawJSON is the events' data and metadata as JSON text, summed.
	RawJSON int64 `json:"raw_json_bytes"`
}

// Total is every byte of the three tables.
func (f Footprint) Total() int64 {
	return f.EventsHeap + f.EventsIndexes + f.EventsTOAST + f.Details + f.Summaries
}

const footprintSQL = `
SELECT pg_relation_size('events'), pg_indexes_size('events'),
       pg_total_relation_size('events') - pg_relation_size('events') - pg_indexes_size('events'),
       pg_total_relation_size('order_details'), pg_total_relation_size('customer_orders'),
       (SELECT count(*) FROM events),
       (SELECT coalesce(sum(octet_length(data::text) + octet_length(metadata::text)), 0) FROM events)`

// MeasureFootprint measures the store of db. It reads every event.
func MeasureFootprint(ctx context.Context, db interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}) (Footprint, error) {
	var f Footprint
	err := db.QueryRow(ctx, footprintSQL).Scan(&f.EventsHeap, &f.EventsIndexes, &f.EventsTOAST, &f.Details, &f.Summaries, &f.Events, &f.RawJSON)
	if err != nil {
		return Footprint{}, fmt.Errorf("measure the store: %w", err)
	}
	return f, nil
}

// headSQL is the last event in feed order.
const headSQL = `SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`

// FeedHead is the cursor of the last event in the feed; zero when there
// is none. A consumer whose checkpoint is there has counted every event.
func FeedHead(ctx context.Context, db postgres.Querier) (app.FeedCursor, error) {
	var c app.FeedCursor
	rows, err := db.Query(ctx, headSQL)
	if err != nil {
		return c, fmt.Errorf("feed head: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		err = rows.Scan(&c.TransactionID, &c.Position)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return app.FeedCursor{}, fmt.Errorf("feed head: %w", err)
	}
	return c, nil
}
