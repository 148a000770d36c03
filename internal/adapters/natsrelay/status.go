package natsrelay

import (
	"context"
	"fmt"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// Progress is how far the stream is behind the feed, as a projection's
// status named Name: the checkpoint the relay recorded, the committed
// events after it, and why it is stopped, if it is. Every replica reads
// the same record, whichever holds the lock and whether or not it can
// reach NATS.
func (r *Relay) Progress(ctx context.Context) (app.ProjectionStatus, error) {
	rec, err := r.cfg.Checkpoints.Load(ctx, r.cfg.Stream.Name)
	if err != nil {
		return app.ProjectionStatus{}, fmt.Errorf("nats relay progress: %w", err)
	}
	st := app.ProjectionStatus{Name: Name, Position: rec.Checkpoint.Cursor, UpdatedAt: rec.UpdatedAt, Stalled: rec.Stopped}
	if !rec.Taken {
		st.UpdatedAt = time.Time{}
	}
	if r.cfg.Lag != nil {
		if st.LagEvents, st.Lag, err = r.cfg.Lag.FeedLag(ctx, st.Position); err != nil {
			return st, fmt.Errorf("nats relay lag: %w", err)
		}
	}
	r.last.Store(&st)
	return st, nil
}

// Stalled returns why the relay publishes nothing, nil when it does: the
// record every replica shares, a primary-key lookup.
func (r *Relay) Stalled(ctx context.Context) (*app.ProjectionStall, error) {
	rec, err := r.cfg.Checkpoints.Load(ctx, r.cfg.Stream.Name)
	if err != nil {
		return nil, err
	}
	return rec.Stopped, nil
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
