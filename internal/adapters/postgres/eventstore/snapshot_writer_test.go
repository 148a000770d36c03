package eventstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// runWriter runs the store's snapshot writer until the test ends, and
// returns once it is running.
func runWriter(t *testing.T, s *eventstore.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eventstore.NewSnapshotWriter(s, zerolog.New(zerolog.NewTestWriter(t))).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("writer returned %v, want context.Canceled", err)
		}
	})
	eventually(t, "the writer running", func() bool { return s.SnapshotWritersRunning() == 1 })
}

// eventually polls cond until it holds, and fails the test if it does not
// within a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSnapshotWriterSnapshotsAfterEveryNEvents(t *testing.T) {
	t.Parallel()
	// Given a store that snapshots every 5 events, with its writer running
	s, pool := snapshotStore(t, 5)
	runWriter(t, s)
	fp := s.SnapshotFingerprint()
	grow := func(o order.Order, to int) order.Order {
		for o.Version < to {
			o = do(t, s, o, t0.Add(time.Duration(o.Version)*time.Second), addItem("Saucer", "2.00", 1))
		}
		return o
	}

	// When an order of 4 events is loaded: no multiple of 5 passed
	o := longOrder(t, s, 4)
	mustLoad(t, s, o.ID)
	// and then loaded at 12 events
	o = grow(o, 12)
	mustLoad(t, s, o.ID)

	// Then the states at 5 and 10 are written
	eventually(t, "the snapshots at 5 and 10", func() bool {
		return reflect.DeepEqual(snapshotRows(t, pool, o.ID), []snapshotRow{{fp, 5}, {fp, 10}})
	})

	// When it is loaded at 16, from 10, passing 15, and then at 17
	o = grow(o, 16)
	if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
		t.Fatalf("loaded %+v, want %+v", got, o)
	}
	eventually(t, "the snapshot at 15", func() bool {
		return reflect.DeepEqual(snapshotRows(t, pool, o.ID), []snapshotRow{{fp, 5}, {fp, 10}, {fp, 15}}) && s.SnapshotStats().Written >= 3
	})
	o = do(t, s, o, t0.Add(time.Hour), place)
	mustLoad(t, s, o.ID)

	// Then only the load at 16 snapshotted again, at 15; the load at 17
	// started from it and passed no multiple of 5
	if rows := snapshotRows(t, pool, o.ID); !reflect.DeepEqual(rows, []snapshotRow{{fp, 5}, {fp, 10}, {fp, 15}}) {
		t.Fatalf("snapshots %+v", rows)
	}
	if st := s.SnapshotStats(); st != (eventstore.SnapshotStats{Hits: 2, Misses: 2, Written: 3, Folded: 4 + 12 + 6 + 2}) {
		t.Fatalf("stats %+v", st)
	}
}

func TestSnapshotWriterDropsWhatItCannotTakeIn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given a writer stuck on a lock that lets loads read snapshots but
	// nobody write them
	s, pool := snapshotStore(t, 1)
	runWriter(t, s)
	o := longOrder(t, s, 3)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `LOCK TABLE stream_snapshots IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	// When more loads hand states over than its queue holds
	const loads = eventstore.SnapshotQueueSize + 10
	for range loads {
		if got := mustLoad(t, s, o.ID); !reflect.DeepEqual(got, o) {
			t.Fatalf("loaded %+v, want %+v", got, o)
		}
	}

	// Then the rest are dropped, the states at 1, 2 and 3 of each, and the
	// loads were not held up
	if st := s.SnapshotStats(); st.Dropped < 3*(loads-eventstore.SnapshotQueueSize-1) || st.Misses != loads {
		t.Fatalf("stats %+v after %d loads", st, loads)
	}
	// And once the lock goes, the writer stores each snapshot once
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the queue written", func() bool { return s.SnapshotStats().Written == 3 && len(snapshotRows(t, pool, o.ID)) == 3 })
	if st := s.SnapshotStats(); st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLoadQueuesNothingWithoutAWriter(t *testing.T) {
	t.Parallel()
	s, pool := snapshotStore(t, 1)
	o := longOrder(t, s, 3)
	for range eventstore.SnapshotQueueSize + 10 {
		mustLoad(t, s, o.ID)
	}
	if st := s.SnapshotStats(); st.Dropped != 0 || st.Written != 0 {
		t.Fatalf("stats %+v: states were queued with no writer", st)
	}
	if rows := snapshotRows(t, pool, o.ID); len(rows) != 0 {
		t.Fatalf("rows %+v", rows)
	}
}

func TestSnapshotWriterWithSnapshotsOffReturnsAtOnce(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	if err := eventstore.NewSnapshotWriter(s, zerolog.Nop()).Run(t.Context()); err != nil {
		t.Fatalf("Run = %v", err)
	}
}
