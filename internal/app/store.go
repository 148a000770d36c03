package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// EventStore loads and appends order streams.
type EventStore interface {
	// Load replays the order's stream. It returns order.ErrNotFound when the
	// stream has no events.
	Load(ctx context.Context, id uuid.UUID) (order.Order, error)
	// Append writes the commit's events after ExpectedVersion and updates
	// the inline projections from State, atomically. It returns
	// ErrAppendConflict, and writes nothing, when the stream is not at
	// ExpectedVersion. A commit with an idempotency key claims it in the
	// same atomic append; a key another commit holds, unexpired, is
	// ErrKeyClaimed, and nothing is written. An expired claim is replaced.
	//
	// ctx bounds the wait to send the commit; once sent, Append returns
	// its outcome even when ctx ends meanwhile (within a bound of the
	// store's): success if it committed, an error only if it did not, or
	// ErrOutcomeUnknown when that cannot be learnt.
	Append(ctx context.Context, c Commit) (Appended, error)
	// LookupIdempotency returns the record of the commit that claimed the
	// key; found is false when none did or its claim has expired.
	// Keys are scoped by principal: the same key claimed by two principals
	// is two claims. Claims made before requests had principals are
	// scoped by "".
	LookupIdempotency(ctx context.Context, principal, key string) (rec IdempotencyRecord, found bool, err error)
}

// ReadModel answers queries from the projections and the event store.
type ReadModel interface {
	// GetOrder reads the order_details projection; order.ErrNotFound if
	// absent.
	GetOrder(ctx context.Context, id uuid.UUID) (order.Order, error)
	// ListCustomerOrders pages a customer's orders, newest first.
	ListCustomerOrders(ctx context.Context, q ListQuery) (OrderPage, error)
	// OrderEvents returns a stream's events in version order;
	// order.ErrNotFound when the stream has none.
	OrderEvents(ctx context.Context, q EventQuery) ([]RecordedEvent, error)
	// EventAt reports whether an event is stored at c: whether a feed
	// cursor names a real place in the feed.
	EventAt(ctx context.Context, c FeedCursor) (bool, error)
	// CustomerOrderAt reports whether c names an order of the customer.
	CustomerOrderAt(ctx context.Context, customerID uuid.UUID, c Cursor) (bool, error)
	EventFeed
	History
}

// Metadata travels with every event: who asked, and as part of what.
// Principal is who did it, as the request's verified token said: its
// subject, its roles at the time and its client. Events written before
// tokens were verified show the name their request declared as the
// subject, with no roles.
type Metadata struct {
	RequestID     string
	CorrelationID string
	CausationID   string
	Principal     Principal
	// TraceID and SpanID name the sampled trace, and the span in it, of
	// the request that recorded the event, as lower-case hex (32 and 16
	// digits); empty when tracing was off or the request not sampled.
	TraceID, SpanID string
}

// NewEvent is an event decided by a command, not yet stored.
type NewEvent struct {
	ID         uuid.UUID
	Event      order.Event
	OccurredAt time.Time
}

// Commit is one atomic append to an order's stream.
type Commit struct {
	OrderID uuid.UUID
	// ExpectedVersion is the stream's version before the append; 0 means
	// the stream must not exist yet.
	ExpectedVersion int
	Events          []NewEvent
	// State is the order after the events: the inline projections are
	// written from it in the same transaction.
	State    order.Order
	Metadata Metadata
	// Idempotency, when its Key is set, is claimed by this commit and
	// kept for IdempotencyTTL after it.
	Idempotency    Idempotency
	IdempotencyTTL time.Duration
}

// Appended reports where a commit's events landed in the global order.
type Appended struct {
	// LastPosition is the global position of the commit's last event.
	LastPosition int64
}

// RecordedEvent is an event as stored, with its envelope. Data is the
// event's JSON in the store's current schema for its type.
type RecordedEvent struct {
	EventID  uuid.UUID
	OrderID  uuid.UUID
	Version  int
	Position int64
	// TransactionID is the writing transaction's id: the global feed is
	// ordered by (TransactionID, Position); see FeedCursor.
	TransactionID uint64
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      Metadata
	OccurredAt    time.Time
	RecordedAt    time.Time
	// Unreadable is set when this build cannot decode the event: Type,
	// SchemaVersion and Data are then as stored, Data perhaps not of the
	// type's shape. See ErrEventUnreadable.
	Unreadable bool
	// Erased is set when the event's personal data was erased: its
	// personal fields are then null in Data (read Sealed, their sealed
	// text, which nothing opens any more).
	Erased bool
	// Sealed is set when Data's personal fields are sealed text, as the
	// store keeps them (FeedQuery.Sealed): they open only with the keys
	// the service holds.
	Sealed bool
}

// EventQuery selects part of one order's history.
type EventQuery struct {
	OrderID uuid.UUID
	// AfterVersion skips the events up to and including this version.
	AfterVersion int
	// Limit caps the number of events; 0 means all.
	Limit int
	// MinPosition, when positive, is the global position of an event (the
	// X-Event-Position of a command) that the answer must include.
	MinPosition int64
}

// ListQuery selects a page of a customer's orders.
type ListQuery struct {
	CustomerID uuid.UUID
	// Status filters by status; empty means all.
	Status order.Status
	Limit  int
	// After continues from a previous page's Next; nil starts at the newest.
	After *Cursor
	// MinPosition, when positive, is the global position of an event (the
	// X-Event-Position of a command) that the answer must include.
	MinPosition int64
}

// Cursor is a keyset position in a customer's orders, newest first.
type Cursor struct {
	CreatedAt time.Time
	OrderID   uuid.UUID
}

// OrderPage is one page of a customer's orders; Next is nil on the last.
type OrderPage struct {
	Orders []OrderSummary
	Next   *Cursor
	// Source is the database that answered; the Service sets it.
	Source ReadSource
}

// OrderSummary is one row of the customer_orders projection.
type OrderSummary struct {
	ID         uuid.UUID
	CustomerID uuid.UUID
	Status     order.Status
	Currency   order.Currency
	Total      decimal.Decimal
	ItemCount  int64
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
