package eventstore_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/storetest"
)

// TestContract holds the PostgreSQL store to the event store's contract,
// which the store in memory keeps too, each case over a fresh database.
func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) app.EventStore { return eventstore.New(pgtest.New(t), eventstore.Config{}) })
}
