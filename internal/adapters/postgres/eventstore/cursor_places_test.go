package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// TestCursorPlaces: EventAt finds an event by its feed cursor, and
// CustomerOrderAt an order of a customer by its keyset position; any
// other place is not found.
func TestCursorPlaces(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	// Given an order of a customer, with its creation in the feed
	customer := uuid.New()
	o := create(t, s, uuid.New(), customer, t0)
	events, err := s.ReadFeed(ctx, app.FeedQuery{Limit: 10})
	if err != nil || len(events) != 1 {
		t.Fatalf("feed: %v, %v", events, err)
	}
	at := app.CursorOf(events[0])

	// Then the event's cursor is a place, and its neighbours are not
	for c, want := range map[app.FeedCursor]bool{
		at: true,
		{TransactionID: at.TransactionID, Position: at.Position + 1}: false,
		{TransactionID: at.TransactionID + 1, Position: at.Position}: false,
		{TransactionID: 1<<64 - 1, Position: 1<<63 - 1}:              false,
	} {
		if got, err := s.EventAt(ctx, c); err != nil || got != want {
			t.Errorf("EventAt(%+v) = %v, %v; want %v", c, got, err, want)
		}
	}
	// And the order's keyset position is its customer's only
	for _, tc := range []struct {
		customer uuid.UUID
		c        app.Cursor
		want     bool
	}{
		{customer, app.Cursor{CreatedAt: t0, OrderID: o.ID}, true},
		{uuid.New(), app.Cursor{CreatedAt: t0, OrderID: o.ID}, false},
		{customer, app.Cursor{CreatedAt: t0.Add(1000), OrderID: o.ID}, false},
		{customer, app.Cursor{CreatedAt: t0, OrderID: uuid.New()}, false},
	} {
		if got, err := s.CustomerOrderAt(ctx, tc.customer, tc.c); err != nil || got != tc.want {
			t.Errorf("CustomerOrderAt(%s, %+v) = %v, %v; want %v", tc.customer, tc.c, got, err, tc.want)
		}
	}
}
