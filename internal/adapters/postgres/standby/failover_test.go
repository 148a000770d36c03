package standby_test

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
)

// TestMultiHostStandbyComesBack: a standby URL that names the standby and
// then the primary (libpq's multi-host syntax) reaches the primary while
// the standby is down, and is out of rotation, as a server not in
// recovery; once the standby is up again it is back in rotation, though
// its pool had connected to the primary. No read fails meanwhile.
func TestMultiHostStandbyComesBack(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation, its URL naming the primary after it,
	// with an order it has replayed, and readers of the order in a loop
	f := newFixtureAt(t, standby.Config{}, func(f *fixture) string { return multiHost(t, f.standby, f.primary) })
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		readErr atomic.Value
	)
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				if _, _, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id}); err != nil {
					readErr.Store(err)
					return
				}
			}
		})
	}

	// When the standby stops
	if err := f.standby.Stop("fast"); err != nil {
		t.Fatal(err)
	}

	// Then its pool reaches the primary, and it is out, as not in recovery
	f.waitFor(t, func(s standby.StandbyStats) bool {
		return !s.InRotation && strings.HasPrefix(s.Reason, "not in recovery")
	}, "out of rotation, not in recovery")

	// When it starts again
	if err := f.standby.Start(); err != nil {
		t.Fatal(err)
	}

	// Then it is back in rotation, and answers reads
	f.waitRotation(t, true)
	if _, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id}); err != nil || src.Name != "standby-1" {
		t.Errorf("read once the standby is back: from %+v (%v), want standby-1", src, err)
	}
	stop.Store(true)
	wg.Wait()
	if err := readErr.Load(); err != nil {
		t.Errorf("a read failed meanwhile: %v", err)
	}
}

// multiHost is the URL of the orderapi database on first, else on then.
func multiHost(t *testing.T, first, then *pgtest.Cluster) string {
	t.Helper()
	u, err := url.Parse(first.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.Parse(then.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	u.Host += "," + v.Host
	return u.String()
}
