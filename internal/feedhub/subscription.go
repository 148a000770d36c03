package feedhub

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/orderapi/orderapi/internal/app"
)

// Query says what a subscription follows.
type Query struct {
	// After is where it starts: the events after this cursor.
	After app.FeedCursor
	// Types keeps only events of these types; empty keeps all.
	Types []string
	// MinPosition, when positive, is the global position of an event that
	// the subscription's first read must be able to see (see
	// app.FeedQuery); the reads after it follow the feed as it comes.
	MinPosition int64
}

// Subscription is one consumer's view of the feed: the events after its
// cursor, of its types, in feed order. One goroutine uses it: it waits on
// Ready, then calls Next.
type Subscription struct {
	hub   *Hub
	types []string
	ready chan struct{} // holds one signal: Next has something

	// The consumer's own, until it joins the tail.
	catching    bool
	retry       *time.Timer
	minPosition int64 // until the first read succeeds

	mu      sync.Mutex
	seen    app.FeedCursor // the feed is read up to here for this subscription
	pending []*Event       // offered by the tailer, not taken yet
	bytes   int            // their sizes
	err     error          // what ends it, once pending is taken
}

// Subscribe starts a subscription. It reads nothing yet: its first Next
// does, so that a database that cannot be reached is known before the
// consumer commits to anything.
func (h *Hub) Subscribe(q Query) (*Subscription, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	s := &Subscription{hub: h, types: slices.Clone(q.Types), ready: make(chan struct{}, 1), catching: true, seen: q.After,
		minPosition: q.MinPosition}
	s.signal()
	return s, nil
}

// Ready receives a value when Next has something to return: events, an
// error, or, while catching up, a page to read.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Next returns the events that follow those it returned before, possibly
// none. While the subscription is behind the tail it reads them itself,
// within ctx; a read that fails returns its error, and Ready fires again
// after the Hub's poll interval, to try again. Once joined, it returns what
// the tailer offered. An error that ends the subscription (ErrTooSlow,
// ErrClosed, or a read failure that the tailer cannot get past) comes
// after the events taken before it, and again on every later call.
func (s *Subscription) Next(ctx context.Context) ([]*Event, error) {
	if s.catching {
		return s.catchUp(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.pending
	s.pending, s.bytes = nil, 0
	if s.err != nil {
		if len(batch) == 0 {
			return nil, s.err
		}
		s.signal() // for the end, after this batch
	}
	return batch, nil
}

// catchUp reads the page after s.seen; a short one means the subscription
// has read all that was readable, so it joins the tail there.
func (s *Subscription) catchUp(ctx context.Context) ([]*Event, error) {
	page, err := s.hub.catchUp(ctx, s.seen, s.minPosition)
	if err != nil {
		if s.retry == nil {
			s.retry = time.AfterFunc(s.hub.cfg.Poll, s.signal)
		} else {
			s.retry.Reset(s.hub.cfg.Poll)
		}
		return nil, err
	}
	s.minPosition = 0
	var batch []*Event
	for _, e := range page.Events {
		if s.wants(e.Type) {
			batch = append(batch, newEvent(e))
		}
	}
	s.seen = page.Next
	if len(page.Events) == s.hub.catchUpPage {
		s.signal()
		return batch, nil
	}
	s.catching = false
	if err := s.hub.join(s); err != nil {
		s.end(err)
	}
	return batch, nil
}

// Close ends the subscription. Call it once the consumer is done.
func (s *Subscription) Close() {
	if s.retry != nil {
		s.retry.Stop()
	}
	s.hub.leave(s)
}

// offer hands a page the tailer read to the subscription, which keeps the
// events it has not seen and wants. It reports false, and ends the
// subscription with ErrTooSlow, when they do not fit the buffer beside
// events still waiting to be taken. The Hub's lock is held.
func (s *Subscription) offer(events []*Event, next app.FeedCursor) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	waiting, bytes := len(s.pending), s.bytes
	for _, e := range events {
		if s.seen.Before(e.cursor) && s.wants(e.typ) {
			s.pending = append(s.pending, e)
			s.bytes += e.size
		}
	}
	if s.seen.Before(next) {
		s.seen = next
	}
	switch {
	case len(s.pending) == waiting:
		return true
	case waiting > 0 && s.bytes > s.hub.cfg.Buffer:
		clear(s.pending[waiting:])
		s.pending, s.bytes = s.pending[:waiting], bytes
		s.err = ErrTooSlow
	}
	s.signal()
	return s.err == nil
}

// end ends the subscription with err, after what it holds.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) wants(typ string) bool {
	return len(s.types) == 0 || slices.Contains(s.types, typ)
}

func (s *Subscription) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}
