package feedhub

import (
	"sync"

	"github.com/orderapi/orderapi/internal/app"
)

// eventOverhead is what an event holds besides its data, roughly: the
// envelope and metadata as read, or the message's framing and envelope
// once encoded (see Event.Encoded).
const eventOverhead = 1024

// Event is an event of the feed as the Hub hands it out: one value shared
// by every subscription that gets it.
type Event struct {
	cursor app.FeedCursor
	typ    string
	size   int // what a buffer counts for it

	once    sync.Once
	rec     app.RecordedEvent // until encoded
	encoded []byte
	err     error
}

func newEvent(e app.RecordedEvent) *Event {
	return &Event{cursor: app.CursorOf(e), typ: e.Type, size: len(e.Data) + eventOverhead, rec: e}
}

// newEvents wraps a page's events, each on its own: a subscriber that
// keeps one must not keep its whole page alive.
func newEvents(page []app.RecordedEvent) []*Event {
	events := make([]*Event, len(page))
	for i, e := range page {
		events[i] = newEvent(e)
	}
	return events
}

// Cursor is the feed cursor just after the event.
func (e *Event) Cursor() app.FeedCursor { return e.cursor }

// Type is the event's type, such as OrderPlaced.
func (e *Event) Type() string { return e.typ }

// Encoded returns encode's result for the event, computed by the first
// subscriber that asks and shared with the others, so that a hundred
// streams serialise an event once. The event as read is released then:
// pass the same encode every time.
func (e *Event) Encoded(encode func(app.RecordedEvent) ([]byte, error)) ([]byte, error) {
	e.once.Do(func() {
		e.encoded, e.err = encode(e.rec)
		e.rec = app.RecordedEvent{}
	})
	return e.encoded, e.err
}
