package eventstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestReadsOfALongOrderFoldFewEvents: once its snapshots are written,
// every read of a long order's state, current or past, folds fewer events
// than there are between two snapshots, wherever it lands.
func TestReadsOfALongOrderFoldFewEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given an order of 2,500 events, the v-th occurred v µs after t0, in
	// a store that snapshots every 100 events, with its writer running
	const events, every = 2500, 100
	s, pool := snapshotStore(t, every)
	runWriter(t, s)
	o, err := apptest.LongOrder(ctx, s, events, t0)
	if err != nil {
		t.Fatal(err)
	}
	// When it is read once at its last version, folding it from the start
	if got, err := s.LoadVersion(ctx, o.ID, events); err != nil || got.Version != events {
		t.Fatalf("version %d: %d, %v", events, got.Version, err)
	}
	// Then the state at each multiple of 100 is written
	eventually(t, "the snapshots", func() bool { return len(snapshotRows(t, pool, o.ID)) == events/every })

	// When it is read at any version, as of the time any event occurred,
	// and now
	replay := eventstore.New(pool, eventstore.Config{})
	check := func(what string, want int, read func(*eventstore.Store) (order.Order, error)) {
		t.Helper()
		before := s.SnapshotStats().Folded
		got, err := read(s)
		if err != nil || got.Version != want {
			t.Fatalf("%s: version %d, %v; want %d", what, got.Version, err, want)
		}
		// Then it folds fewer than 100 events
		if n := s.SnapshotStats().Folded - before; n >= every {
			t.Errorf("%s folded %d events", what, n)
		}
		// and answers what the full replay does
		if want%97 == 0 {
			if full, err := read(replay); err != nil || !sameOrder(got, full) {
				t.Errorf("%s: %+v\nthe replay: %+v, %v", what, got, full, err)
			}
		}
	}
	for v := 1; v <= events; v += 1 + v%13 {
		check("version "+fmt.Sprint(v), v, func(s *eventstore.Store) (order.Order, error) { return s.LoadVersion(ctx, o.ID, v) })
		at := t0.Add(time.Duration(v) * time.Microsecond)
		check("as of event "+fmt.Sprint(v), v, func(s *eventstore.Store) (order.Order, error) { return s.LoadAsOf(ctx, o.ID, at) })
	}
	check("now", events, func(s *eventstore.Store) (order.Order, error) { return s.Load(ctx, o.ID) })
}
