// Package standby serves orderapi's queries from hot standbys that stream
// from its primary database. A health check keeps each standby in
// rotation while it is reachable, still in recovery, a standby of this
// primary and less than a bound behind it; a query that must include a
// client's write (a min_position) is handed a standby that has replayed
// it, or the primary; and a read a standby fails under is answered by the
// primary. See docs/design.md, "Reads from standbys".
package standby

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// Defaults of Config.
const (
	// DefaultMaxLag is how far behind the primary a standby may be and
	// still answer queries that ask for no position.
	DefaultMaxLag = 5 * time.Second
	// DefaultReplayWait is how long a query with a position waits for a
	// standby to replay it before the primary answers: about what
	// streaming takes on a local network (docs/performance.md).
	DefaultReplayWait = 10 * time.Millisecond
	// DefaultPositionWait is how long a query waits for a position that
	// the primary has not committed yet, while a write that may commit it
	// runs, before it is refused as lagging.
	DefaultPositionWait = 2 * time.Second
	// DefaultCheckEvery is how often each standby's health is checked.
	DefaultCheckEvery = time.Second
)

// Config sets up a Router. The zero value of each duration is its
// default.
type Config struct {
	// Standbys are the hot standbys queries may read; none sends every
	// query to the primary.
	Standbys []Standby
	// MaxLag: a standby further behind the primary is out of rotation
	// until it catches up.
	MaxLag time.Duration
	// ReplayWait bounds how long a query with a position waits for a
	// standby to replay it before the primary answers; negative reads
	// the primary at once.
	ReplayWait time.Duration
	// PositionWait bounds how long a query with a position waits, for a
	// standby to replay it and then for a write running on the primary to
	// commit it, before app.ErrPositionNotReached.
	PositionWait time.Duration
	// CheckEvery is how often each standby is checked.
	CheckEvery time.Duration
	Log        zerolog.Logger
}

// Standby is one hot standby: its name, as responses and metrics show it,
// and a store over its pool, made like the primary's.
type Standby struct {
	Name  string
	Store *eventstore.Store
}

// Router chooses the read model of each query: app.ReadModels over the
// primary and the standbys.
type Router struct {
	primary  *eventstore.Store
	standbys []*standby
	cfg      Config
	// next picks the standby a query without a position reads, round
	// the ones in rotation.
	next atomic.Uint64
	// fromPrimary is handed out for every query the primary answers.
	fromPrimary *reads
	// primaryReads counts the queries handed to the primary.
	primaryReads atomic.Uint64
}

var _ app.ReadModels = (*Router)(nil)

// New returns a Router over the primary's store and cfg's standbys. Its
// standbys are out of rotation until Run has checked them.
func New(primary *eventstore.Store, cfg Config) (*Router, error) {
	if primary == nil {
		return nil, errors.New("standby: New needs the primary's store")
	}
	if cfg.MaxLag < 0 || cfg.PositionWait < 0 || cfg.CheckEvery < 0 {
		return nil, fmt.Errorf("standby: negative duration in MaxLag %s, PositionWait %s or CheckEvery %s",
			cfg.MaxLag, cfg.PositionWait, cfg.CheckEvery)
	}
	cfg.MaxLag = orDefault(cfg.MaxLag, DefaultMaxLag)
	cfg.ReplayWait = max(orDefault(cfg.ReplayWait, DefaultReplayWait), 0)
	cfg.PositionWait = orDefault(cfg.PositionWait, DefaultPositionWait)
	cfg.CheckEvery = orDefault(cfg.CheckEvery, DefaultCheckEvery)
	r := &Router{primary: primary, cfg: cfg}
	r.fromPrimary = &reads{router: r}
	seen := map[string]bool{}
	for _, s := range cfg.Standbys {
		if s.Store == nil || s.Name == "" || s.Name == primaryName || seen[s.Name] {
			return nil, fmt.Errorf("standby: a standby needs a store and a name of its own, not %q", s.Name)
		}
		recovery := recoveryOf(s.Store.Pool().Config().ConnConfig.Tracer)
		if recovery == nil {
			return nil, fmt.Errorf("standby: the pool of standby %s must trace with RecoveryTracer", s.Name)
		}
		seen[s.Name] = true
		r.standbys = append(r.standbys, &standby{name: s.Name, store: s.Store, recovery: recovery, why: notChecked})
	}
	return r, nil
}

// notChecked is why a standby is out of rotation before its first check.
const notChecked = "not checked yet"

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// primaryName is the primary's name in answers and metrics.
const primaryName = "primary"

// Choose returns the read model of a query: with no position, a standby
// in rotation (each in turn), else the primary; with one, a standby that
// has replayed it, waiting up to ReplayWait for one to, else the primary
// once it has committed it (see primaryHas: app.ErrUnknownPosition for
// a position no event will have, app.ErrPositionNotReached past the
// wait): PositionWait bounds both waits together.
func (r *Router) Choose(ctx context.Context, minPosition int64) (app.SourcedReadModel, error) {
	deadline := time.Now().Add(r.cfg.PositionWait)
	first := r.pick()
	if minPosition <= 0 {
		if first == nil {
			r.primaryReads.Add(1)
			return r.fromPrimary, nil
		}
		return first.handOut(r), nil
	}
	if first != nil {
		if s := r.replayed(ctx, first, minPosition); s != nil {
			return s.handOut(r), nil
		}
		// A standby that has the position after the wait has it
		// committed: only a wait that fails asks the primary. One that
		// failed under the probes is out, and counted so.
		if first.inRotation.Load() && r.awaitReplay(ctx, first, minPosition, deadline) {
			return first.handOut(r), nil
		}
		if first.inRotation.Load() {
			first.fallbacks[fellBehind].Add(1)
		}
	}
	if err := r.primaryHas(ctx, minPosition, deadline); err != nil {
		return nil, err
	}
	r.primaryReads.Add(1)
	return r.fromPrimary, nil
}

// pick returns the next standby in rotation, round them all; nil when
// none is.
func (r *Router) pick() *standby {
	n := uint64(len(r.standbys))
	if n == 0 {
		return nil
	}
	start := r.next.Add(1)
	for i := range n {
		if s := r.standbys[(start+i)%n]; s.inRotation.Load() {
			return s
		}
	}
	return nil
}

// replayed returns first, or another standby in rotation, that has
// replayed the event at position; nil when none has, or none answers.
func (r *Router) replayed(ctx context.Context, first *standby, position int64) *standby {
	for s := first; s != nil; s = r.after(s) {
		if ok, err := s.has(ctx, position); err == nil && ok {
			return s
		} else if err != nil {
			r.failed(ctx, s, err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// after is the standby in rotation after s in the list, or nil: replayed
// asks each at most once, from the one picked on to the end.
func (r *Router) after(s *standby) *standby {
	for i, t := range r.standbys {
		if t != s {
			continue
		}
		for _, u := range r.standbys[i+1:] {
			if u.inRotation.Load() {
				return u
			}
		}
	}
	return nil
}

// replayPollFirst is awaitReplay's first delay: on one network, a standby
// replays a commit a fraction of a millisecond after the primary's client
// hears of it.
const replayPollFirst = 200 * time.Microsecond

// awaitReplay polls s, at doubling delays from replayPollFirst, until it
// has replayed position or ReplayWait has passed, or the query's
// deadline; false at once when the wait is off.
func (r *Router) awaitReplay(ctx context.Context, s *standby, position int64, deadline time.Time) bool {
	if d := time.Now().Add(r.cfg.ReplayWait); d.Before(deadline) {
		deadline = d
	}
	for delay := replayPollFirst; ; delay *= 2 {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return false
		}
		if postgres.Sleep(ctx, min(delay, left)) != nil {
			return false
		}
		ok, err := s.has(ctx, position)
		if err != nil {
			r.failed(ctx, s, err)
			return false
		}
		if ok {
			return true
		}
	}
}
