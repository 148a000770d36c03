package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/adapters/memory"
	"github.com/orderapi/orderapi/internal/adapters/metrics"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// BenchmarkGetOrderServer is the service's own work for GET
// /v1/orders/{order_id} as production does it, but for the network and
// the database: the whole middleware chain (request id, access log with
// a timestamp, metrics, deadline), the customer's token found in the
// verifier's cache, the rate counted, the ownership check, the order
// read from a store in memory, and the answer encoded.
func BenchmarkGetOrderServer(b *testing.B) {
	store := memory.NewStore()
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		b.Fatal(err)
	}
	mx, err := metrics.New(metrics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	keys := jwtauthtest.New(b)
	h, err := NewServer(svc, zerolog.New(io.Discard).With().Timestamp().Logger(), Config{
		Ready:   func(context.Context) error { return nil },
		Observe: mx.ObserveRequest,
		Cursors: testCursors, Fingerprints: testFingerprints,
		Auth:        keys.Verifier,
		CommandRate: manyRequestsRate, ReadRate: manyRequestsRate,
	})
	if err != nil {
		b.Fatal(err)
	}
	customer := uuid.New()
	o := benchOrder(b, store, customer)
	r := httptest.NewRequest("GET", "/v1/orders/"+o.String(), nil)
	r.Header.Set("Authorization", "Bearer "+keys.Customer(b, customer))
	w := httptest.NewRecorder()
	if h.ServeHTTP(w, r); w.Code != http.StatusOK {
		b.Fatalf("GET = %d: %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := discardWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
	}
}

// benchOrder stores an order of two items of the customer's.
func benchOrder(b *testing.B, store *memory.Store, customer uuid.UUID) uuid.UUID {
	id := uuid.New()
	at := time.Date(2026, 11, 26, 3, 0, 0, 123456000, time.UTC)
	var o order.Order
	c := app.Commit{OrderID: id, Metadata: app.Metadata{RequestID: "seed", Principal: apptest.Staff}}
	record := func(events []order.Event, err error) {
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range events {
			c.Events = append(c.Events, app.NewEvent{ID: uuid.New(), Event: e, OccurredAt: at})
			o.Apply(e, at)
		}
	}
	record(order.Create(id, customer, "EUR"))
	for _, name := range []string{"Merino crew-neck sweater, blue, size L", "Espresso cup"} {
		record(o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: 2, UnitPrice: order.MustParseAmount("59.90")}))
	}
	c.State = o
	if _, err := store.Append(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	return id
}
