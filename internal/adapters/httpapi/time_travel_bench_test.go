package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/rs/zerolog"
)

// BenchmarkLongOrderReads is what reading a 2,500-event order costs,
// through the server and a real store: now (the read model), at versions
// and as of times mid-stream and just before a multiple of 100, with
// snapshots every 100 events (written before the timing) and with none.
//
//	go test -run '^$' -bench LongOrderReads ./internal/adapters/httpapi/
func BenchmarkLongOrderReads(b *testing.B) {
	const events = 2500
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, every := range []int{100, 0} {
		ctx, stop := context.WithCancel(context.Background())
		pool := pgtest.New(b)
		store := eventstore.New(pool, eventstore.Config{SnapshotEvery: every})
		done := make(chan error, 1)
		go func() { done <- eventstore.NewSnapshotWriter(store, zerolog.Nop()).Run(ctx) }()
		svc, err := app.NewService(store, store, app.Config{})
		if err != nil {
			b.Fatal(err)
		}
		h, err := NewServer(svc, zerolog.New(io.Discard), Config{Ready: func(context.Context) error { return nil }, Cursors: testCursors, Fingerprints: testFingerprints, Auth: testAuthenticator})
		if err != nil {
			b.Fatal(err)
		}
		o, err := apptest.LongOrder(ctx, store, events, start)
		if err != nil {
			b.Fatal(err)
		}
		get := func(b *testing.B, path string) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, withStaffToken(httptest.NewRequest("GET", path, nil)))
			if w.Code != http.StatusOK {
				b.Fatalf("%s: %d %s", path, w.Code, w.Body)
			}
		}
		path := "/v1/orders/" + o.ID.String()
		// One read of the last version passes every multiple of 100.
		get(b, path+"?version=2500")
		for deadline := time.Now().Add(10 * time.Second); every > 0 && store.SnapshotStats().Written < events/uint64(every); {
			if time.Now().After(deadline) {
				b.Fatalf("snapshots not written: %+v", store.SnapshotStats())
			}
			time.Sleep(10 * time.Millisecond)
		}
		asOf := func(v int) string {
			return path + "?as_of=" + url.QueryEscape(start.Add(time.Duration(v)*time.Microsecond).Format(time.RFC3339Nano))
		}
		for _, bc := range []struct{ name, path string }{
			{"current", path},
			{"version=1250", path + "?version=1250"},
			{"version=1299", path + "?version=1299"},
			{"as_of=1250", asOf(1250)},
			{"as_of=1299", asOf(1299)},
		} {
			b.Run(fmt.Sprintf("snapshot_every=%d/%s", every, bc.name), func(b *testing.B) {
				for b.Loop() {
					get(b, bc.path)
				}
			})
		}
		stop()
		// With snapshots off the writer returns at once, with nil.
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
	}
}
