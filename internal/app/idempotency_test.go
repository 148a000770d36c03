package app_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// TestReplicasRacingOneKeyExecuteOnce races one command with one key on
// several replicas, whose in-process locks do not serialize them: some
// decide on the same version, and the losers of the append must answer as
// the winner did rather than execute again or report a duplicate product.
func TestReplicasRacingOneKeyExecuteOnce(t *testing.T) {
	t.Parallel()
	first, replica := newService(t)
	ctx := context.Background()
	created, err := first.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	it := item("Mug")
	idem := app.Idempotency{Key: "add-mug", Fingerprint: sha256.Sum256([]byte("add mug"))}
	const replicas, perReplica = 4, 3

	results := make([]app.Result, replicas*perReplica)
	errs := make([]error, len(results))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for r := range replicas {
		svc := replica()
		for i := range perReplica {
			n := r*perReplica + i
			wg.Go(func() {
				<-start
				results[n], errs[n] = svc.AddItem(ctx, app.Target{OrderID: created.Order.ID, Idempotency: idem, Metadata: apptest.AsStaff}, it)
			})
		}
	}
	close(start)
	wg.Wait()

	executed := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if !results[i].Replayed {
			executed++
		}
	}
	if executed != 1 {
		t.Fatalf("%d requests executed, want 1", executed)
	}
	// Every answer is the same, but for the mark; the winner's state was
	// built live, the others' rebuilt from the events.
	want := results[0]
	want.Replayed = false
	for i, res := range results {
		res.Replayed = false
		if !reflect.DeepEqual(res, want) {
			t.Errorf("request %d answered %+v\nwant %+v", i, res, want)
		}
	}
	o, err := first.GetOrder(ctx, apptest.Staff, created.Order.ID)
	if err != nil || o.Version != 2 || len(o.Items) != 1 {
		t.Errorf("order = %+v, %v; want one item at version 2", o, err)
	}
}

func TestIdempotencyKeyReusedForAnotherCommand(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t)
	ctx := context.Background()
	idem := app.Idempotency{Key: "k", Fingerprint: sha256.Sum256([]byte("create"))}
	created, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New(), Idempotency: idem}, apptest.AsStaff)
	if err != nil {
		t.Fatal(err)
	}
	// The same key, another fingerprint: refused, nothing written.
	other := app.Idempotency{Key: "k", Fingerprint: sha256.Sum256([]byte("add"))}
	_, err = svc.AddItem(ctx, app.Target{OrderID: created.Order.ID, Idempotency: other, Metadata: apptest.AsStaff}, item("Mug"))
	if !errors.Is(err, app.ErrIdempotencyKeyReused) {
		t.Fatalf("add with a reused key: %v", err)
	}
	if o, err := svc.GetOrder(ctx, apptest.Staff, created.Order.ID); err != nil || o.Version != 1 {
		t.Errorf("order = %+v, %v", o, err)
	}
	// The same key and fingerprint: the creation again, whatever the input.
	again, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New(), Currency: order.Currency("EUR"), Idempotency: idem}, apptest.AsStaff)
	if err != nil || !again.Replayed || again.Order.ID != created.Order.ID || again.Position != created.Position {
		t.Errorf("replayed create = %+v, %v; want order %s", again, err, created.Order.ID)
	}
}
