package notify_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
)

// The orders the tests start from: see eventstoretest.
var (
	t0       = eventstoretest.T0
	newStore = eventstoretest.New
	commitOf = eventstoretest.CommitOf
	create   = eventstoretest.Create
)

// insertCreated writes the first event of a new order's stream in tx, as
// a writer in the middle of its transaction: nobody else sees it until tx
// commits.
func insertCreated(t testing.TB, tx pgx.Tx) {
	t.Helper()
	orderID := uuid.New()
	_, err := tx.Exec(context.Background(), `
INSERT INTO events (event_id, stream_id, stream_version, event_type, data, occurred_at)
VALUES ($1, $2, 1, 'OrderCreated', $3::jsonb, now())`,
		uuid.Must(uuid.NewV7()), orderID, `{"order_id":"`+orderID.String()+`","customer_id":"`+uuid.NewString()+`","currency":"USD"}`)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}
