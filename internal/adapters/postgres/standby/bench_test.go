package standby_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
)

// BenchmarkReadAtPosition measures what a read of an order costs, with
// and without a min_position, by where it is answered: the standby that
// has the position (hit), the primary at once when the standby lacks it
// (replay paused), and, right after the write that made the position,
// the standby after waiting for it to replay against the primary at once.
// docs/performance.md quotes it; run it under the machine's bench lock:
//
//	go test ./internal/adapters/postgres/standby -run '^$' -bench ReadAtPosition -benchtime 2000x
func BenchmarkReadAtPosition(b *testing.B) {
	pc, sc := pgtest.NewReplicated(b, "orderapi")
	primary := eventstore.New(openPool(b, pc.URL("orderapi")), eventstore.Config{})
	replica := eventstore.New(openStandbyPool(b, sc.URL("orderapi")), eventstore.Config{})
	service := func(replayWait time.Duration) *app.Service {
		b.Helper()
		router, err := standby.New(primary, standby.Config{Standbys: []standby.Standby{{Name: "standby-1", Store: replica}},
			MaxLag: time.Hour, ReplayWait: replayWait, CheckEvery: 50 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = router.Run(ctx) }()
		b.Cleanup(func() { cancel(); <-done })
		for deadline := time.Now().Add(settle); !router.Stats().Standbys[0].InRotation; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("the standby never came into rotation")
			}
		}
		svc, err := app.NewService(primary, primary, app.Config{ReadModels: router})
		if err != nil {
			b.Fatal(err)
		}
		return svc
	}
	atOnce, waiting := service(-1), service(50*time.Millisecond)
	create := func() (uuid.UUID, int64) {
		res, err := atOnce.CreateOrder(context.Background(), app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
		if err != nil {
			b.Fatal(err)
		}
		return res.Order.ID, res.Position
	}
	read := func(b *testing.B, svc *app.Service, id uuid.UUID, position int64) app.ReadSource {
		_, src, err := svc.ReadOrder(context.Background(), apptest.Staff, app.OrderQuery{ID: id, MinPosition: position})
		if err != nil {
			b.Fatal(err)
		}
		return src
	}
	id, position := create()
	sc.CatchUp(b, pc)

	b.Run("standby/no position", func(b *testing.B) {
		for b.Loop() {
			read(b, atOnce, id, 0)
		}
	})
	b.Run("standby/position replayed", func(b *testing.B) {
		for b.Loop() {
			read(b, atOnce, id, position)
		}
	})
	// Right after each write: a client reading its own write at once.
	afterWrite := func(svc *app.Service) func(*testing.B) {
		return func(b *testing.B) {
			fromStandby := 0
			for range b.N {
				b.StopTimer()
				id, position := create()
				b.StartTimer()
				if read(b, svc, id, position).Standby {
					fromStandby++
				}
			}
			b.ReportMetric(float64(fromStandby)/float64(b.N), "standby/op")
		}
	}
	b.Run("after write/primary at once", afterWrite(atOnce))
	b.Run("after write/wait for replay", afterWrite(waiting))

	sc.PauseReplay(b)
	behind, behindAt := create()
	b.Run("primary/standby lacks position", func(b *testing.B) {
		for b.Loop() {
			if read(b, atOnce, behind, behindAt).Standby {
				b.Fatal("a standby whose replay is paused answered")
			}
		}
	})
	alone, err := standby.New(primary, standby.Config{})
	if err != nil {
		b.Fatal(err)
	}
	noStandby, err := app.NewService(primary, primary, app.Config{ReadModels: alone})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("primary/no standby", func(b *testing.B) {
		for b.Loop() {
			read(b, noStandby, behind, 0)
		}
	})
	b.Run("primary/no standby, position", func(b *testing.B) {
		for b.Loop() {
			read(b, noStandby, behind, behindAt)
		}
	})
	sc.ResumeReplay(b)
}
