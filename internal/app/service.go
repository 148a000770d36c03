package app

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// AnyVersion as a Target's ExpectedVersion means the client set no
// precondition: a concurrent change is retried on fresh state.
const AnyVersion = 0

// Config tunes a Service. The zero value is usable.
type Config struct {
	// DefaultCurrency is used when a new order names none; USD if empty.
	DefaultCurrency order.Currency
	// MaxAttempts bounds how often a command without precondition is tried
	// when other writers change the order first; 10 if zero.
	MaxAttempts int
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Analytics reads the asynchronous analytics projection and every
	// projection's progress; its queries fail without it.
	Analytics AnalyticsStore
	// Wake wakes analytics queries waiting for a position when events are
	// appended; nil leaves them to poll.
	Wake Waker
	// AnalyticsWait bounds how long an analytics query waits for its
	// MinPosition; DefaultAnalyticsWait if zero.
	AnalyticsWait time.Duration
	// IdempotencyTTL is how long a claimed idempotency key is remembered;
	// after it the key is new again. DefaultIdempotencyTTL if zero.
	IdempotencyTTL time.Duration
	// Observer is told how every command ends; nil tells no one.
	Observer Observer
	// StateCacheSize is about how many orders' states the Service keeps
	// after its commands, to decide the next command on the order without
	// loading it; DefaultStateCacheSize if zero, none if negative.
	StateCacheSize int
}

// Service runs orderapi's use cases.
type Service struct {
	events          EventStore
	reads           ReadModel
	defaultCurrency order.Currency
	maxAttempts     int
	now             func() time.Time
	analytics       AnalyticsStore
	wake            Waker
	analyticsWait   time.Duration
	idempotencyTTL  time.Duration
	observer        Observer
	// locks serialize commands on one order within this process, so that
	// concurrent requests for a hot order queue instead of racing to a
	// version conflict. Other processes are still handled by the store's
	// expected-version check and the retries. A channel, not a mutex, so
	// that a waiting request gives up when its context ends.
	locks [lockStripes]chan struct{}
	// states are the states recent commands left their orders in, kept
	// per lock stripe; nil when off.
	states *stateCache
}

// NewService returns a Service over the given stores.
func NewService(events EventStore, reads ReadModel, cfg Config) (*Service, error) {
	if events == nil || reads == nil {
		return nil, errors.New("app: NewService needs an event store and a read model")
	}
	s := &Service{
		events:          events,
		reads:           reads,
		defaultCurrency: cfg.DefaultCurrency,
		maxAttempts:     cfg.MaxAttempts,
		now:             cfg.Now,
		analytics:       cfg.Analytics,
		wake:            cfg.Wake,
		analyticsWait:   cfg.AnalyticsWait,
		idempotencyTTL:  cfg.IdempotencyTTL,
		observer:        cfg.Observer,
	}
	if s.observer == nil {
		s.observer = noObserver{}
	}
	if s.idempotencyTTL < 0 {
		return nil, fmt.Errorf("app: negative IdempotencyTTL %s", s.idempotencyTTL)
	}
	if s.idempotencyTTL == 0 {
		s.idempotencyTTL = DefaultIdempotencyTTL
	}
	if s.analyticsWait <= 0 {
		s.analyticsWait = DefaultAnalyticsWait
	}
	if s.defaultCurrency == "" {
		s.defaultCurrency = "USD"
	}
	if _, err := order.ParseCurrency(string(s.defaultCurrency)); err != nil {
		return nil, fmt.Errorf("app: default currency %q: %w", s.defaultCurrency, err)
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = 10
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.locks {
		s.locks[i] = make(chan struct{}, 1)
	}
	if cfg.StateCacheSize >= 0 {
		s.states = newStateCache(cmp.Or(cfg.StateCacheSize, DefaultStateCacheSize))
	}
	return s, nil
}

// Target names the order a command acts on, the version the client expects
// it to be at (AnyVersion for none), the request's metadata (with the
// principal the command acts as), and its idempotency key, if any.
type Target struct {
	OrderID         uuid.UUID
	ExpectedVersion int
	Metadata        Metadata
	Idempotency     Idempotency
}

// Result is a successful command's outcome: the order after it, and the
// global position of the last event it wrote. Replayed says that the
// request's idempotency key had been claimed by an earlier, identical
// request: nothing was written now, and this is that request's outcome.
type Result struct {
	Order    order.Order
	Position int64
	Replayed bool
}

// decideFunc is one command's decision on the current state.
type decideFunc func(o *order.Order) ([]order.Event, error)

// execute loads the order, decides, and appends with the loaded version as
// the expected one. Without a precondition a lost race is retried on fresh
// state (the rules are checked again); with one, it is a failed
// precondition. The first attempt may decide on the state this process's
// last command on the order left (see stateCache) instead of loading it;
// every way that attempt can fail sends the command to a fresh load.
//
// With an idempotency key, a key claimed before is answered by replay, and
// the command is not executed again. The key is looked up after the load:
// a claim commits with its events, so when none is found the state loaded
// (or kept, which is older still) predates the claiming commit, and an append decided on that state
// conflicts with it (on the version or on the key) should it commit
// first. The loser of that race then replays the winner's answer.
//
// An order the principal may not change is not found, exactly as a
// missing one, whatever the command.
//
// The observer is told how the command, by its name, ended.
func (s *Service) execute(ctx context.Context, command string, t Target, decide decideFunc) (res Result, err error) {
	retries := 0
	defer func() { s.observer.CommandDone(command, outcomeOf(res, err), retries) }()
	p := t.Metadata.Principal

	lock := s.locks[lockStripe(t.OrderID)]
	select {
	case lock <- struct{}{}:
		defer func() { <-lock }()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}

	// A cached state is tried first, once: whatever goes wrong with it,
	// the command is decided again on a fresh load, without counting that
	// as a retry.
	//
	// An order the principal may not change must look like a missing one,
	// to the principal and to anyone watching the metrics: it is never
	// taken from the kept states, nor loaded, whose snapshot counters
	// would tell it exists and how long it is. Staff change every order;
	// anyone else's right is checked first, from the order's owner in
	// the read model (one primary-key read), unless a kept state of its
	// own order already says so.
	cached, fromCache := s.states.get(t.OrderID)
	if fromCache && !p.changes(&cached) {
		fromCache = false
	}
	if !fromCache && !p.Roles.Has(RoleStaff) {
		if err := s.mustChange(ctx, p, t.OrderID); err != nil {
			return Result{}, err
		}
	}
	for attempt := 1; ; attempt++ {
		retries = attempt - 1
		o, usedCache := cached, fromCache
		source := StateLoaded
		if fromCache {
			fromCache = false
			source = StateCached
		} else {
			var err error
			if o, err = s.events.Load(ctx, t.OrderID); err != nil {
				return Result{}, fmt.Errorf("load order %s: %w", t.OrderID, err)
			}
		}
		if !p.changes(&o) {
			return Result{}, fmt.Errorf("load order %s: %w", t.OrderID, hidden(t.OrderID))
		}
		s.observer.StateUsed(source)
		if res, found, err := s.replay(ctx, p, t.Idempotency); found || err != nil {
			return res, err
		}
		if t.ExpectedVersion != AnyVersion && o.Version != t.ExpectedVersion {
			if usedCache {
				s.forgetStale(t.OrderID)
				attempt-- // not a retry: the kept state was a guess
				continue
			}
			return Result{}, ErrPreconditionFailed
		}
		events, err := decide(&o)
		if err != nil {
			if usedCache {
				s.forgetStale(t.OrderID)
				attempt--
				continue
			}
			return Result{}, err
		}
		res, err := s.commit(ctx, o, events, t.Metadata, t.Idempotency)
		if res, handled, err := s.replayLoser(ctx, p, t.Idempotency, err); handled {
			return res, err
		}
		if err == nil {
			s.states.put(res.Order)
			return res, nil
		}
		if !errors.Is(err, ErrAppendConflict) {
			s.states.drop(t.OrderID)
			return res, err
		}
		if usedCache {
			s.forgetStale(t.OrderID)
			attempt--
			continue
		}
		if t.ExpectedVersion != AnyVersion {
			return Result{}, ErrPreconditionFailed
		}
		if attempt == s.maxAttempts {
			return Result{}, ErrRetriesExhausted
		}
		if err := backoff(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
}

// forgetStale drops a kept state that a command could not use as it was.
func (s *Service) forgetStale(id uuid.UUID) {
	s.states.drop(id)
	s.observer.StateUsed(StateStale)
}

// commit applies the decided events to the loaded state and appends them,
// claiming the idempotency key, if any, in the same append, scoped by the
// principal.
func (s *Service) commit(ctx context.Context, o order.Order, events []order.Event, meta Metadata, idem Idempotency) (Result, error) {
	expected := o.Version
	at := s.eventTime(&o)
	c := Commit{OrderID: o.ID, ExpectedVersion: expected, Metadata: meta, Events: make([]NewEvent, len(events))}
	if idem.Key != "" {
		c.Idempotency, c.IdempotencyTTL = idem.scopedTo(meta.Principal), s.idempotencyTTL
	}
	for i, e := range events {
		id, err := uuid.NewV7()
		if err != nil {
			return Result{}, fmt.Errorf("new event id: %w", err)
		}
		c.Events[i] = NewEvent{ID: id, Event: e, OccurredAt: at}
		o.Apply(e, at)
	}
	c.State = o
	appended, err := s.events.Append(ctx, c)
	if err != nil {
		return Result{}, fmt.Errorf("append to order %s: %w", c.OrderID, err)
	}
	s.observer.EventsAppended(c.Events)
	return Result{Order: o, Position: appended.LastPosition}, nil
}

// backoff waits a little, more after each attempt, with jitter so that
// racing writers spread out.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 6)
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lockStripes is how many locks the orders share. Two orders on one
// stripe wait for each other's commands, so there are many more stripes
// than commands a process runs at once: with 32 at a time, most of them
// find their stripe free.
const lockStripes = 1024

// lockStripe picks an order's lock from its id's last bytes, which are
// random in both the version 4 and the version 7 ids orderapi uses.
func lockStripe(id uuid.UUID) int {
	return int(binary.BigEndian.Uint16(id[14:])) % lockStripes
}
