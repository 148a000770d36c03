package app_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/rs/zerolog"
)

// TestAnIdempotentReplayStartsFromASnapshot: the answer a replay rebuilds,
// the order as the claiming commit left it, is read like any past state:
// from the newest snapshot at or below that version, not from the first
// event.
func TestAnIdempotentReplayStartsFromASnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Given a service over a store that snapshots every 100 events, with
	// its writer running, and an order of 2,450 events
	const every = 100
	store := eventstore.New(pgtest.New(t), eventstore.Config{SnapshotEvery: every})
	writerCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eventstore.NewSnapshotWriter(store, zerolog.Nop()).Run(writerCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("writer: %v", err)
		}
	})
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := apptest.LongOrder(ctx, store, 2450, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// and a command that claimed a key, followed by another
	idem := app.Idempotency{Key: "add-mug", Fingerprint: sha256.Sum256([]byte("add mug"))}
	mug := item("Mug")
	first, err := svc.AddItem(ctx, app.Target{OrderID: o.ID, Idempotency: idem, Metadata: apptest.AsStaff}, mug)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RemoveItem(ctx, app.Target{OrderID: o.ID, Metadata: apptest.AsStaff}, mug.ProductID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); store.SnapshotStats().Written < 24; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("snapshots not written: %+v", store.SnapshotStats())
		}
	}

	// When the command is sent again with its key
	before := store.SnapshotStats().Folded
	again, err := svc.AddItem(ctx, app.Target{OrderID: o.ID, Idempotency: idem, Metadata: apptest.AsStaff}, mug)

	// Then it answers as the first did, and rebuilding that answer (with
	// the command's own load of the order, when it makes one) folded the
	// events after a snapshot only
	if err != nil || !again.Replayed || !reflect.DeepEqual(again.Order, first.Order) {
		t.Fatalf("replay: %+v, %v; want the first answer %+v", again, err, first)
	}
	if n := store.SnapshotStats().Folded - before; n >= 2*every {
		t.Errorf("the replay folded %d events", n)
	}
}
