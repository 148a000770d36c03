package app

import (
	"context"
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
	// locks serialize commands on one order within this process, so that
	// concurrent requests for a hot order queue instead of racing to a
	// version conflict. Other processes are still handled by the store's
	// expected-version check and the retries. A channel, not a mutex, so
	// that a waiting request gives up when its context ends.
	locks [64]chan struct{}
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
	return s, nil
}

// Target names the order a command acts on, the version the client expects
// it to be at (AnyVersion for none), and the request's metadata.
type Target struct {
	OrderID         uuid.UUID
	ExpectedVersion int
	Metadata        Metadata
}

// Result is a successful command's outcome: the order after it, and the
// global position of the last event it wrote.
type Result struct {
	Order    order.Order
	Position int64
}

// decideFunc is one command's decision on the current state.
type decideFunc func(o *order.Order) ([]order.Event, error)

// execute loads the order, decides, and appends with the loaded version as
// the expected one. Without a precondition a lost race is retried on fresh
// state (the rules are checked again); with one, it is a failed
// precondition.
func (s *Service) execute(ctx context.Context, t Target, decide decideFunc) (Result, error) {
	lock := s.locks[int(t.OrderID[len(t.OrderID)-1])%len(s.locks)]
	select {
	case lock <- struct{}{}:
		defer func() { <-lock }()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}

	for attempt := 1; ; attempt++ {
		o, err := s.events.Load(ctx, t.OrderID)
		if err != nil {
			return Result{}, fmt.Errorf("load order %s: %w", t.OrderID, err)
		}
		if t.ExpectedVersion != AnyVersion && o.Version != t.ExpectedVersion {
			return Result{}, ErrPreconditionFailed
		}
		events, err := decide(&o)
		if err != nil {
			return Result{}, err
		}
		res, err := s.commit(ctx, o, events, t.Metadata)
		if !errors.Is(err, ErrVersionConflict) {
			return res, err
		}
		if t.ExpectedVersion != AnyVersion {
			return Result{}, ErrPreconditionFailed
		}
		if attempt == s.maxAttempts {
			return Result{}, ErrConflict
		}
		if err := backoff(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
}

// commit applies the decided events to the loaded state and appends them.
func (s *Service) commit(ctx context.Context, o order.Order, events []order.Event, meta Metadata) (Result, error) {
	expected := o.Version
	// PostgreSQL keeps microseconds; the answer must equal what a later
	// read returns, so the state is built with the stored precision.
	at := s.now().UTC().Truncate(time.Microsecond)
	c := Commit{OrderID: o.ID, ExpectedVersion: expected, Metadata: meta, Events: make([]NewEvent, len(events))}
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
