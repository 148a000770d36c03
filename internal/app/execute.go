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

// decideFunc is one command's decision on the current state.
type decideFunc func(o *order.Order) ([]order.Event, error)

// execute runs a command: it holds the order's lock and tries s.attempt
// until one answers. Without a precondition a lost race is tried again on
// fresh state after a backoff, on at most MaxAttempts loads; with one, it
// is a failed precondition. The first attempt may decide on the state this
// process's last command on the order left (see stateCache); every way
// that attempt can fail sends the command to a fresh load, not counted as
// a retry. An order the principal may not change is not found, exactly as
// a missing one. The observer is told how the command, by name, ended.
func (s *Service) execute(ctx context.Context, command string, t Target, decide decideFunc) (res Result, err error) {
	retries := 0
	defer func() { s.observer.CommandDone(command, outcomeOf(res, err), retries) }()
	p := t.Metadata.Principal
	if err := mustBeOrderID(t.OrderID); err != nil {
		return Result{}, err
	}

	lock := s.locks[lockStripe(t.OrderID)]
	select {
	case lock <- struct{}{}:
		defer func() { <-lock }()
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}

	// An order the principal may not change must look like a missing one,
	// to the principal and to anyone watching the metrics: it is never
	// taken from the kept states, nor loaded, whose snapshot counters
	// would tell it exists and how long it is. Staff change every order;
	// anyone else's right is checked first, from the order's owner in
	// the read model (one primary-key read), unless a kept state of its
	// own order already says so.
	kept, fromCache := s.states.get(t.OrderID)
	if fromCache && !p.changes(&kept.Order) {
		fromCache = false
	}
	if !fromCache && !p.Roles.Has(RoleStaff) {
		if err := s.mustChange(ctx, p, t.OrderID); err != nil {
			return Result{}, err
		}
	}
	var retry bool
	if fromCache {
		// Tried once: whatever goes wrong with it, the command is decided
		// again on a fresh load, without counting that as a retry.
		if res, retry, err = s.attempt(ctx, t, decide, &kept); !retry {
			return res, err
		}
	}
	for attempt := 1; ; attempt++ {
		retries = attempt - 1
		if res, retry, err = s.attempt(ctx, t, decide, nil); !retry {
			return res, err
		}
		if attempt == s.maxAttempts {
			return Result{}, ErrRetriesExhausted
		}
		if err := backoff(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
}

// attempt decides the command once, on the kept state if kept is not nil,
// else on a fresh load, and appends its events; the state it leaves is
// kept, as loaded when the state it started from was. retry asks for another
// attempt on a fresh load: after any failure on a kept state, a mere
// guess, or a lost race without a precondition (err is the conflict).
// Otherwise res and err are the command's answer. An idempotency key
// claimed before is replayed. It is looked up after the load: a claim
// commits with its events, so an append decided on a state that predates
// the claim conflicts with it, and its loser replays the winner's answer.
func (s *Service) attempt(ctx context.Context, t Target, decide decideFunc, kept *keptState) (_ Result, retry bool, _ error) {
	p := t.Metadata.Principal
	var o order.Order
	source := StateLoaded
	loaded := time.Now()
	if kept != nil {
		o, source, loaded = kept.Order, StateCached, kept.loaded
	} else {
		var err error
		if o, err = s.events.Load(ctx, t.OrderID); err != nil {
			return Result{}, false, fmt.Errorf("load order %s: %w", t.OrderID, err)
		}
	}
	if !p.changes(&o) {
		return Result{}, false, fmt.Errorf("load order %s: %w", t.OrderID, hidden(t.OrderID))
	}
	s.observer.StateUsed(source)
	if res, found, err := s.replay(ctx, p, t.Idempotency); found || err != nil {
		return res, false, err
	}
	if t.ExpectedVersion != AnyVersion && o.Version != t.ExpectedVersion {
		if kept != nil {
			return s.forgetStale(t.OrderID)
		}
		return Result{}, false, ErrPreconditionFailed
	}
	events, err := decide(&o)
	if err != nil {
		if kept != nil {
			return s.forgetStale(t.OrderID)
		}
		return Result{}, false, err
	}
	res, err := s.commit(ctx, o, events, t.Metadata, t.Idempotency)
	if res, handled, err := s.replayLoser(ctx, p, t.Idempotency, err); handled {
		return res, false, err
	}
	switch {
	case err == nil:
		s.states.put(res.Order, loaded)
		return res, false, nil
	case !errors.Is(err, ErrAppendConflict):
		s.states.drop(t.OrderID)
		return res, false, err
	case kept != nil:
		return s.forgetStale(t.OrderID)
	case t.ExpectedVersion != AnyVersion:
		return Result{}, false, ErrPreconditionFailed
	}
	return Result{}, true, err
}

// forgetStale drops a kept state that a command could not use as it was,
// and asks for the command to be decided again on a fresh load.
func (s *Service) forgetStale(id uuid.UUID) (_ Result, retry bool, _ error) {
	s.states.drop(id)
	s.observer.StateUsed(StateStale)
	return Result{}, true, nil
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
