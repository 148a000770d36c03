package natsrelay

import (
	"context"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// timeNow is the clock of stall records.
var timeNow = time.Now

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// tailWait bounds Progress's look at the stream's tail, so that a slow
// NATS cannot hold up a metrics scrape: the tail last seen serves then.
const tailWait = 500 * time.Millisecond

// Progress is how far the stream is behind the feed, as a projection's
// status named Name: the stream's tail (read from NATS, or as last seen
// when NATS does not answer) and the committed events after it. ok is
// false when the tail was never seen (NATS unreachable since the start).
func (r *Relay) Progress(ctx context.Context) (st app.ProjectionStatus, ok bool, err error) {
	st = app.ProjectionStatus{Name: Name, Stalled: r.stalled.Load()}
	if js, nc := r.js.Load(), r.nc.Load(); js != nil && nc != nil && nc.IsConnected() {
		tctx, cancel := context.WithTimeout(ctx, tailWait)
		_, _ = r.readTail(tctx, *js)
		cancel()
	}
	at := r.known.Load()
	if at == nil {
		return st, false, nil
	}
	st.Position, st.UpdatedAt = at.cursor, at.at.UTC()
	if r.cfg.Lag != nil {
		if st.LagEvents, st.Lag, err = r.cfg.Lag.FeedLag(ctx, at.cursor); err != nil {
			return st, false, fmt.Errorf("nats relay lag: %w", err)
		}
	}
	r.last.Store(&st)
	return st, true, nil
}

// LastProgress is what Progress last found, without asking anyone: cheap
// enough for every readiness probe.
func (r *Relay) LastProgress() (app.ProjectionStatus, bool) {
	st := r.last.Load()
	if st == nil {
		return app.ProjectionStatus{}, false
	}
	return *st, true
}

// Connected reports whether this process is connected to NATS now.
func (r *Relay) Connected() bool {
	nc := r.nc.Load()
	return nc != nil && nc.IsConnected()
}
