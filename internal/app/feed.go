package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// FeedCursor is a place in the global feed of every order's events (and
// the customers': see FeedEventTypes),
// which is ordered by the writing transaction's id, then by position, and
// read only below the oldest transaction still running, so that no event
// is ever skipped. The zero FeedCursor is the start of the feed. See
// docs/design.md, "The global feed".
type FeedCursor struct {
	TransactionID uint64
	Position      int64
}

// Before reports whether c comes before d in the feed.
func (c FeedCursor) Before(d FeedCursor) bool {
	if c.TransactionID != d.TransactionID {
		return c.TransactionID < d.TransactionID
	}
	return c.Position < d.Position
}

// CursorOf is the feed cursor just after e.
func CursorOf(e RecordedEvent) FeedCursor {
	return FeedCursor{TransactionID: e.TransactionID, Position: e.Position}
}

// FeedQuery selects a page of the global feed.
type FeedQuery struct {
	// After continues after this cursor; zero starts at the beginning.
	After FeedCursor
	// Limit caps the page; 0 is DefaultFeedPage.
	Limit int
	// Types keeps only events of these types; empty keeps all.
	Types []string
	// MinPosition, when positive, is the global position of an event that
	// the database read must have: the page is read in a snapshot that
	// includes it (the event itself may still be held back by an older
	// transaction, as on the primary).
	MinPosition int64
	// Sealed gives each event's personal data as the store keeps it,
	// sealed, instead of opened (RecordedEvent.Sealed): for a copy kept
	// outside the service, which erasure reaches when it destroys the
	// keys. It reads the same before an erasure and after it, the event
	// then marked Erased. Personal data stored in clear, before sealing
	// began, is given in clear.
	Sealed bool
}

// FeedPage is one page of the feed. Next is where to continue: after the
// page's last event, or After again when the page is empty.
type FeedPage struct {
	Events []RecordedEvent
	Next   FeedCursor
	// Source is the database that answered.
	Source ReadSource
}

// EventFeed reads the global feed.
type EventFeed interface {
	// ReadFeed returns up to q.Limit committed events after q.After in feed
	// order, none of which a later read could find before them.
	ReadFeed(ctx context.Context, q FeedQuery) ([]RecordedEvent, error)
}

// FeedEventTypes are the event types of the global feed: every order's,
// then the customers' (customer.EventTypes), which hold no personal data.
var FeedEventTypes = append(slices.Clone(order.EventTypes), customer.EventTypes...)

// KnownFeedEventType reports whether name is one of FeedEventTypes.
func KnownFeedEventType(name string) bool { return slices.Contains(FeedEventTypes, name) }

// Feed page sizes.
const (
	DefaultFeedPage = 100
	MaxFeedPage     = 1000
)

// Feed returns a page of every order's events, in an order that never
// skips or repeats one.
func (s *Service) Feed(ctx context.Context, q FeedQuery) (FeedPage, error) {
	if q.Limit == 0 {
		q.Limit = DefaultFeedPage
	}
	if q.Limit < 1 || q.Limit > MaxFeedPage {
		return FeedPage{}, order.Invalid("limit", order.FieldOutOfRange, fmt.Sprintf("must be between 1 and %d", MaxFeedPage))
	}
	for _, t := range q.Types {
		if !KnownFeedEventType(t) {
			return FeedPage{}, order.Invalid("type", order.FieldBadFormat, fmt.Sprintf("unknown event type %q", t))
		}
	}
	rm, err := s.chooseReads(ctx, q.MinPosition)
	var events []RecordedEvent
	if err == nil {
		events, err = rm.ReadFeed(ctx, q)
	}
	if err != nil {
		return FeedPage{}, fmt.Errorf("read feed after %d/%d: %w", q.After.TransactionID, q.After.Position, err)
	}
	page := FeedPage{Events: events, Next: q.After, Source: rm.Source()}
	if n := len(events); n > 0 {
		page.Next = CursorOf(events[n-1])
	}
	return page, nil
}

// FeedCursorExists reports whether c is a place the feed hands out: its
// start, or just after a stored event. It is how a cursor that carries no
// proof of its origin (one issued before cursors were signed) is judged:
// on the primary, which has every event a feed has shown.
func (s *Service) FeedCursorExists(ctx context.Context, c FeedCursor) (bool, error) {
	if c == (FeedCursor{}) {
		return true, nil
	}
	ok, err := s.reads.EventAt(ctx, c)
	if err != nil {
		return false, fmt.Errorf("feed cursor %d/%d: %w", c.TransactionID, c.Position, err)
	}
	return ok, nil
}
