package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// checkLedger counts the acknowledged writes the database does not hold:
// an order whose stream or read model has fewer (or more) items than were
// acknowledged, or an acknowledged new order that is missing.
func checkLedger(ctx context.Context, dbURL string, l *ledger) (lost int, err error) {
	pool, err := openPool(ctx, dbURL, 2)
	if err != nil {
		return 0, err
	}
	defer pool.Close()

	ids := make([]uuid.UUID, 0, len(l.adds))
	for id := range l.adds {
		ids = append(ids, id)
	}
	// Each order of the add-item scenario was created, then got only its
	// acknowledged adds: version 1 + adds, one item line per add, in the
	// stream and in the read model alike.
	rows, err := pool.Query(ctx, `
SELECT d.order_id, d.version, jsonb_array_length(d.items),
       (SELECT max(stream_version) FROM events e WHERE e.stream_id = d.order_id)
  FROM order_details d
 WHERE d.order_id = ANY($1)`, ids)
	if err != nil {
		return 0, fmt.Errorf("check acknowledged adds: %w", err)
	}
	seen := 0
	for rows.Next() {
		var (
			id                   uuid.UUID
			version, items, last int
		)
		if err := rows.Scan(&id, &version, &items, &last); err != nil {
			return 0, err
		}
		seen++
		want := l.adds[id]
		if version != want+1 || last != want+1 || items != want {
			lost++
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("check acknowledged adds: %w", err)
	}
	lost += len(ids) - seen

	var created int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM order_details WHERE order_id = ANY($1)`, l.created).Scan(&created); err != nil {
		return 0, fmt.Errorf("check acknowledged creates: %w", err)
	}
	lost += len(l.created) - created

	// Each order of place order was placed once, as its read model says.
	// The events are counted per stream, the type filtered after: with
	// statistics from before the run, the planner would otherwise scan
	// every OrderPlaced for each order.
	var placed int
	if err := pool.QueryRow(ctx, `
SELECT count(*) FROM unnest($1::uuid[]) AS p(id) JOIN order_details d ON d.order_id = p.id
 WHERE d.status = 'placed'
   AND (SELECT count(*) FILTER (WHERE e.event_type = 'OrderPlaced') FROM events e WHERE e.stream_id = p.id) = 1`, l.placed).Scan(&placed); err != nil {
		return 0, fmt.Errorf("check acknowledged places: %w", err)
	}
	lost += len(l.placed) - placed
	return lost, nil
}
