package standby_test

import (
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
)

// TestStandbyBehindAtStartStaysOut: a standby already further behind
// than MaxLag when the checks begin is out of rotation from their first:
// with no WAL positions of the primary seen yet, the age of the last
// commit it replayed bounds its lag.
func TestStandbyBehindAtStartStaysOut(t *testing.T) {
	t.Parallel()
	// Given a standby that has replayed an order, then stopped replaying
	// while the primary wrote on, longer ago than MaxLag; and a router
	// that checks it once
	const maxLag = 300 * time.Millisecond
	f, start := newStoppedFixture(t, standby.Config{MaxLag: maxLag, CheckEvery: time.Hour})
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)
	f.standby.PauseReplay(t)
	f.addItem(t, id, meta)
	time.Sleep(2 * maxLag)

	// When the router starts and has checked it
	start()
	f.waitFor(t, func(s standby.StandbyStats) bool { return s.Checks > 0 }, "checked")

	// Then it is out of rotation, with a lag beyond MaxLag, and the
	// primary answers reads
	if st := f.state(); st.InRotation || st.Lag <= maxLag {
		t.Errorf("standby after its first check: %+v, want it out of rotation, lagging more than %s", st, maxLag)
	}
	o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id})
	if err != nil || o.Version != 2 || src.Name != "primary" {
		t.Errorf("read: version %d from %+v (%v), want version 2 from the primary", o.Version, src, err)
	}
}
