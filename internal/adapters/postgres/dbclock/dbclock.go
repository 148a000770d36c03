// Package dbclock gives every replica one clock, the database's, so that
// the times events carry agree across replicas whatever their own clocks
// say. A Clock measures its offset from the database's clock now and then
// and counts with the monotonic clock in between. See docs/design.md,
// "One clock".
package dbclock

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// Defaults of Config.
const (
	defaultEvery    = 30 * time.Second
	defaultSamples  = 3
	defaultWarnSkew = time.Second
	// measureWait bounds one measurement.
	measureWait = 5 * time.Second
)

// Querier reads the database's clock; a *pgxpool.Pool is one.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config tunes a Clock. The zero value is usable.
type Config struct {
	// Local is the replica's own clock; time.Now if nil. Times it returns
	// should carry a monotonic reading, as time.Now's do.
	Local func() time.Time
	// Every is how often the offset is measured again; 30s if zero.
	Every time.Duration
	// Samples is how many round trips one measurement takes; the one
	// answered fastest is kept, being the least uncertain. 3 if zero.
	Samples int
	// WarnSkew is the skew of the replica's clock beyond which it is
	// logged as a warning; 1s if zero.
	WarnSkew time.Duration
	// Log receives the warnings.
	Log zerolog.Logger
}

// anchor is one measurement: the database's time at a local instant.
type anchor struct {
	local time.Time // with its monotonic reading
	db    time.Time
	rtt   time.Duration
}

// Clock is the database's clock, as seen from this replica.
type Clock struct {
	q      Querier
	cfg    Config
	anchor atomic.Pointer[anchor]
	// last is the latest time Now returned, in Unix nanoseconds: Now
	// never returns an earlier one.
	last   atomic.Int64
	warned bool // touched only by measure's callers, one at a time
}

// New returns a Clock over q. Until its first measurement (Sync), it
// tells the replica's own time.
func New(q Querier, cfg Config) *Clock {
	if cfg.Local == nil {
		cfg.Local = time.Now
	}
	cfg.Every = cmp.Or(cfg.Every, defaultEvery)
	if cfg.Samples <= 0 {
		cfg.Samples = defaultSamples
	}
	cfg.WarnSkew = cmp.Or(cfg.WarnSkew, defaultWarnSkew)
	return &Clock{q: q, cfg: cfg}
}

// Now is the database's time now, as last measured: the database's time
// at the measurement plus the local time elapsed since. It never returns
// a time before one it returned earlier, nor one ahead of the database's
// clock (see sample).
func (c *Clock) Now() time.Time {
	t := c.cfg.Local()
	if a := c.anchor.Load(); a != nil {
		t = a.db.Add(t.Sub(a.local))
	}
	ns := t.UnixNano()
	for {
		last := c.last.Load()
		if ns <= last {
			return time.Unix(0, last).UTC()
		}
		if c.last.CompareAndSwap(last, ns) {
			return time.Unix(0, ns).UTC()
		}
	}
}

// Skew is how far the replica's own clock is ahead of the database's
// (behind, when negative), as last measured; 0 before the first.
func (c *Clock) Skew() time.Duration {
	a := c.anchor.Load()
	if a == nil {
		return 0
	}
	// The local reading loses its monotonic part, so that Sub compares
	// the two wall clocks.
	return a.local.Round(0).Sub(a.db)
}

// Sync measures the offset now. serve calls it before it serves, so that
// the first command already has the database's time.
func (c *Clock) Sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, measureWait)
	defer cancel()
	var best *anchor
	for range c.cfg.Samples {
		a, err := c.sample(ctx)
		if err != nil {
			return fmt.Errorf("read the database's clock: %w", err)
		}
		if best == nil || a.rtt < best.rtt {
			best = &a
		}
	}
	c.anchor.Store(best)
	c.logSkew(best)
	return nil
}

// Run measures the offset again every Every until ctx ends, then returns
// ctx's error. A failed measurement keeps the last one, which the
// monotonic clock carries on accurately for far longer than an outage.
func (c *Clock) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Log.Warn().Err(err).Msg("cannot measure the database's clock; keeping the last measurement")
		}
	}
}

// sample takes one round trip: the database's time is taken to be that
// of the end of the trip. The database read its clock somewhere within
// the trip, so the clock told is behind the database's by up to the
// trip, never ahead: an event's time is never later than the time the
// database records it at.
func (c *Clock) sample(ctx context.Context) (anchor, error) {
	var db time.Time
	t0 := c.cfg.Local()
	if err := c.q.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&db); err != nil {
		return anchor{}, err
	}
	t1 := c.cfg.Local()
	return anchor{local: t1, db: db, rtt: t1.Sub(t0)}, nil
}

// logSkew warns when the replica's clock is off by more than WarnSkew,
// once until it is back within it.
func (c *Clock) logSkew(a *anchor) {
	skew := c.Skew()
	large := skew > c.cfg.WarnSkew || skew < -c.cfg.WarnSkew
	switch {
	case large && !c.warned:
		c.cfg.Log.Warn().Dur("skew", skew).Dur("round_trip", a.rtt).
			Msg("this replica's clock differs from the database's; events take the database's time")
	case !large && c.warned:
		c.cfg.Log.Info().Dur("skew", skew).Msg("this replica's clock agrees with the database's again")
	}
	c.warned = large
}
