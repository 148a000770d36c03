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

// Progress is how far the stream is behind the feed, as a projection's
// status named Name: the stream's tail (read from NATS, or as last seen
// when NATS does not answer) and the committed events after it. ok is
// false when the tail was never seen (NATS unreachable since the start).
func (r *Relay) Progress(ctx context.Context) (st app.ProjectionStatus, ok bool, err error) {
	st = app.ProjectionStatus{Name: Name, Stalled: r.stalled.Load()}
	if js := r.js.Load(); js != nil {
		if _, err := r.readTail(ctx, *js); err != nil && ctx.Err() != nil {
			return st, false, ctx.Err()
		}
	}
	at := r.known.Load()
	if at == nil {
		return st, false, nil
	}
	st.Position = *at
	if r.cfg.Lag != nil {
		if st.LagEvents, st.Lag, err = r.cfg.Lag.FeedLag(ctx, *at); err != nil {
			return st, false, fmt.Errorf("nats relay lag: %w", err)
		}
	}
	return st, true, nil
}
