package eventstore_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// timedStream is an order's stream as the test wrote it: each event with its
// time, and the times each occurred and was recorded, read back from the
// store.
type timedStream struct {
	id       uuid.UUID
	events   []app.NewEvent
	occurred []time.Time
	recorded []time.Time
}

// replay is the state after the first n events, folded here, without the
// store.
func (h timedStream) replay(n int) order.Order {
	var o order.Order
	for _, e := range h.events[:n] {
		o.Apply(e.Event, e.OccurredAt)
	}
	return o
}

// writeTimedStream takes an order through its life in six commits, one of
// them of two events: seven events in all.
func writeTimedStream(t *testing.T, s *eventstore.Store) timedStream {
	t.Helper()
	h := timedStream{id: uuid.New()}
	record := func(c app.Commit) order.Order {
		h.events = append(h.events, c.Events...)
		return mustAppend(t, s, c)
	}
	created, err := order.Create(h.id, uuid.New(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	o := record(commitOf(t, order.Order{ID: h.id}, t0, created...))
	o = record(commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 3))...))
	// Two events in one commit: both are recorded at the same time.
	o = record(commitOf(t, o, t0.Add(2*time.Second), append(
		mustDecide(t, o, addItem("Tea", "4.50", 1)),
		mustDecide(t, o, addItem("Pot", "30", 1))...)...))
	o = record(commitOf(t, o, t0.Add(3*time.Second), mustDecide(t, o, func(o *order.Order) ([]order.Event, error) {
		return o.RemoveItem(o.Items[1].ProductID)
	})...))
	o = record(commitOf(t, o, t0.Add(4*time.Second), mustDecide(t, o, place)...))
	record(commitOf(t, o, t0.Add(5*time.Second), mustDecide(t, o, func(o *order.Order) ([]order.Event, error) {
		return o.Ship("1Z999", "UPS")
	})...))

	stored, err := s.OrderEvents(context.Background(), app.EventQuery{OrderID: h.id})
	if err != nil || len(stored) != len(h.events) {
		t.Fatalf("read back %d events (%v), wrote %d", len(stored), err, len(h.events))
	}
	for _, e := range stored {
		h.occurred = append(h.occurred, e.OccurredAt)
		h.recorded = append(h.recorded, e.RecordedAt)
	}
	return h
}

func TestLoadVersion(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	h := writeTimedStream(t, s)
	n := len(h.events)

	for v := 1; v <= n; v++ {
		got, err := s.LoadVersion(ctx, h.id, v)
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if want := h.replay(v); !sameOrder(got, want) {
			t.Errorf("version %d = %+v\nreplay of the first %d events = %+v", v, got, v, want)
		}
	}

	t.Run("past the end is the whole stream", func(t *testing.T) {
		got, err := s.LoadVersion(ctx, h.id, n+5)
		if err != nil || !sameOrder(got, h.replay(n)) {
			t.Errorf("version %d: %+v, %v; want the state at %d", n+5, got, err, n)
		}
	})
	t.Run("unknown order", func(t *testing.T) {
		if _, err := s.LoadVersion(ctx, uuid.New(), 1); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("unknown order: %v, want order.ErrNotFound", err)
		}
	})
	t.Run("version 0 is refused", func(t *testing.T) {
		if _, err := s.LoadVersion(ctx, h.id, 0); err == nil || errors.Is(err, order.ErrNotFound) {
			t.Errorf("version 0: %v, want an error", err)
		}
	})
}

func TestLoadAsOf(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	h := writeTimedStream(t, s)
	n := len(h.events)
	µs := time.Microsecond

	tests := []struct {
		name string
		at   time.Time
		want int // the version expected; 0 for not found
	}{
		{"before the first event", h.occurred[0].Add(-µs), 0},
		{"long before", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"at the first event", h.occurred[0], 1},
		{"a nanosecond before the second", h.occurred[1].Add(-time.Nanosecond), 1},
		{"at the second", h.occurred[1], 2},
		// Versions 3 and 4 were one commit, at one time: never one
		// without the other.
		{"between the second and the commit of two", h.occurred[1].Add(h.occurred[2].Sub(h.occurred[1]) / 2), 2},
		{"at the commit of two", h.occurred[2], 4},
		{"a nanosecond after the commit of two", h.occurred[3].Add(time.Nanosecond), 4},
		{"between the last two", h.occurred[n-2].Add(h.occurred[n-1].Sub(h.occurred[n-2]) / 2), n - 1},
		{"at the last", h.occurred[n-1], n},
		{"in the future", time.Now().Add(time.Hour), n},
		{"in another zone", h.occurred[1].In(time.FixedZone("UTC+5", 5*3600)), 2},
	}
	for _, tt := range tests {
		got, err := s.LoadAsOf(ctx, h.id, tt.at)
		if tt.want == 0 {
			if !errors.Is(err, order.ErrNotFound) {
				t.Errorf("%s: %+v, %v; want order.ErrNotFound", tt.name, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if want := h.replay(tt.want); !sameOrder(got, want) {
			t.Errorf("%s: version %d = %+v\nwant version %d = %+v", tt.name, got.Version, got, tt.want, want)
		}
	}

	// The times the order shows select the states that show them.
	for _, tt := range []struct {
		field string
		at    time.Time
		want  int
	}{
		{"created_at", h.replay(n).CreatedAt, 1},
		{"placed_at", h.replay(n).PlacedAt, n - 1},
		{"updated_at of version 2", h.replay(2).UpdatedAt, 2},
	} {
		if got, err := s.LoadAsOf(ctx, h.id, tt.at); err != nil || got.Version != tt.want {
			t.Errorf("as of %s: version %d, %v; want %d", tt.field, got.Version, err, tt.want)
		}
	}

	if _, err := s.LoadAsOf(ctx, uuid.New(), time.Now()); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("unknown order: %v, want order.ErrNotFound", err)
	}
}

// TestRecordedTimesOfTestHistory: separate commits, one after the other,
// are recorded at distinct, rising times; one commit's events at one.
func TestRecordedTimesOfTestHistory(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	h := writeTimedStream(t, s)
	for i := 1; i < len(h.recorded); i++ {
		sameCommit := i == 3 // versions 3 and 4
		if sameCommit != h.recorded[i].Equal(h.recorded[i-1]) || h.recorded[i].Before(h.recorded[i-1]) {
			t.Errorf("version %d recorded at %s, version %d at %s", i, h.recorded[i-1], i+1, h.recorded[i])
		}
	}
}

// A state to start from that is already past the bound is refused, never
// answered: a snapshot must not leak a later state into the past.
func TestFoldNeverStartsPastItsBound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	h := writeTimedStream(t, s)
	n := len(h.events)
	snapshot := h.replay(4)

	for _, v := range []int{1, 3} {
		if got, err := s.FoldToVersion(ctx, h.id, snapshot, v); !errors.Is(err, eventstore.ErrPastBound) {
			t.Errorf("from version 4 to %d: %+v, %v; want ErrPastBound", v, got, err)
		}
	}
	if got, err := s.FoldAsOf(ctx, h.id, snapshot, h.occurred[1]); !errors.Is(err, eventstore.ErrPastBound) {
		t.Errorf("from version 4 as of version 2's time: %+v, %v; want ErrPastBound", got, err)
	}
	if got, err := s.FoldAsOf(ctx, h.id, snapshot, h.occurred[0].Add(-time.Microsecond)); !errors.Is(err, eventstore.ErrPastBound) {
		t.Errorf("from version 4 as of before the order: %+v, %v; want ErrPastBound", got, err)
	}

	// Within the bound, it folds on from the snapshot as from the start.
	for v := 4; v <= n; v++ {
		got, err := s.FoldToVersion(ctx, h.id, snapshot, v)
		if err != nil || !sameOrder(got, h.replay(v)) {
			t.Errorf("from version 4 to %d: %+v, %v", v, got, err)
		}
	}
	got, err := s.FoldAsOf(ctx, h.id, snapshot, h.occurred[n-2])
	if err != nil || !sameOrder(got, h.replay(n-1)) {
		t.Errorf("from version 4 as of version %d's time: %+v, %v", n-1, got, err)
	}
}

func TestLoadAtIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	// Given a store over one connection whose writes are counted
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	var writes atomic.Int64
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		return countingConn{Conn: conn, writes: &writes}, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := eventstore.New(pool, eventstore.Config{})
	ctx := context.Background()
	h := writeTimedStream(t, s)
	// and a store that reads snapshots, with one at version 2
	snapped := eventstore.New(pool, eventstore.Config{SnapshotEvery: 100})
	if _, err := snapped.SaveSnapshot(ctx, h.replay(2)); err != nil {
		t.Fatal(err)
	}

	load := map[string]func() (order.Order, error){
		"version":                  func() (order.Order, error) { return s.LoadVersion(ctx, h.id, 2) },
		"as of":                    func() (order.Order, error) { return s.LoadAsOf(ctx, h.id, h.occurred[1]) },
		"version, from a snapshot": func() (order.Order, error) { return snapped.LoadVersion(ctx, h.id, 2) },
		"as of, from a snapshot":   func() (order.Order, error) { return snapped.LoadAsOf(ctx, h.id, h.occurred[1]) },
	}
	for name, f := range load {
		// The first call prepares the statement.
		if _, err := f(); err != nil {
			t.Fatal(err)
		}
		before := writes.Load()
		if o, err := f(); err != nil || o.Version != 2 {
			t.Fatalf("%s: version %d, %v", name, o.Version, err)
		}
		if n := writes.Load() - before; n != 1 {
			t.Errorf("load %s took %d round trips, want 1", name, n)
		}
	}
	if st := snapped.SnapshotStats(); st.Hits != 4 {
		t.Errorf("stats %+v: the snapshot was not used", st)
	}
}
