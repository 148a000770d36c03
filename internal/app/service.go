package app

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
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
	// StateMaxAge is how long after its load a kept state may decide
	// commands: it holds the customer's personal data as opened then, and
	// must not outlive an erasure this process did not hear of for long.
	// DefaultStateMaxAge if zero.
	StateMaxAge time.Duration
	// ReadModels chooses the read model of each query: a hot standby's
	// when one is in service. Nil reads the Service's own read model, the
	// primary's, for every query.
	ReadModels ReadModels
	// Eraser erases customers' personal data; ErasePersonalData fails
	// without it.
	Eraser PersonalDataEraser
}

// Service runs orderapi's use cases.
type Service struct {
	events EventStore
	// reads is the primary's read model: commands and their checks read
	// it. readModels chooses the one a query reads.
	reads           ReadModel
	readModels      ReadModels
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
	eraser PersonalDataEraser
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
		readModels:      cfg.ReadModels,
		eraser:          cfg.Eraser,
	}
	if s.readModels == nil {
		s.readModels = &onlyPrimary{reads}
	}
	if s.observer == nil {
		s.observer = noObserver{}
	}
	if cfg.StateMaxAge < 0 {
		return nil, fmt.Errorf("app: negative StateMaxAge %s", cfg.StateMaxAge)
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
		s.states = newStateCache(cmp.Or(cfg.StateCacheSize, DefaultStateCacheSize), cmp.Or(cfg.StateMaxAge, DefaultStateMaxAge))
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
