package httpapi

import (
	"encoding/json"

	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/app"
)

// orderPageJSON is a page of a customer's orders, newest first. NextCursor
// is null on the last page.
type orderPageJSON struct {
	Orders     []orderSummaryJSON `json:"orders"`
	NextCursor *string            `json:"next_cursor"`
}

// orderSummaryJSON is one order in a customer's list.
type orderSummaryJSON struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Currency  string `json:"currency"`
	Total     string `json:"total"`
	ItemCount int64  `json:"item_count"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Version   int    `json:"version"`
}

// toOrderPageJSON writes the page of the list q asked for: next_cursor
// continues that list only.
func toOrderPageJSON(p app.OrderPage, q app.ListQuery, cursors *cursor.Signer) orderPageJSON {
	doc := orderPageJSON{Orders: make([]orderSummaryJSON, len(p.Orders))}
	for i, s := range p.Orders {
		doc.Orders[i] = orderSummaryJSON{
			ID:        s.ID.String(),
			Status:    string(s.Status),
			Currency:  string(s.Currency),
			Total:     s.Currency.Format(s.Total),
			ItemCount: s.ItemCount,
			CreatedAt: formatTime(s.CreatedAt),
			UpdatedAt: formatTime(s.UpdatedAt),
			Version:   s.Version,
		}
	}
	if p.Next != nil {
		c := encodeCursor(cursors, q, *p.Next)
		doc.NextCursor = &c
	}
	return doc
}

// eventsJSON is a page of an order's history, oldest first.
// NextAfterVersion continues it; null when the page reached the end.
type eventsJSON struct {
	Events           []eventJSON `json:"events"`
	NextAfterVersion *int        `json:"next_after_version"`
}

// eventJSON is one stored event with its envelope. Data is the event's
// JSON as the store keeps it, in the current schema of its type.
type eventJSON struct {
	EventID       string            `json:"event_id"`
	Type          string            `json:"type"`
	Version       int               `json:"version"`
	Position      int64             `json:"position"`
	SchemaVersion int               `json:"schema_version"`
	OccurredAt    string            `json:"occurred_at"`
	RecordedAt    string            `json:"recorded_at"`
	Data          json.RawMessage   `json:"data"`
	Metadata      eventMetadataJSON `json:"metadata"`
	// Unreadable is only ever true: this build cannot decode the event,
	// and Type, SchemaVersion and Data are as stored.
	Unreadable bool `json:"unreadable,omitempty"`
	// Erased is only ever true: the event's personal data was erased,
	// and its personal fields in Data are null.
	Erased bool `json:"erased,omitempty"`
}

// eventMetadataJSON says who caused an event and as part of what; ids the
// request did not carry are null. The actor is the subject of the
// request's verified token, with the roles it held then and the client it
// was issued to; events from before tokens were verified show the name
// their request declared, with no roles. The trace ids are there only
// when the request was traced (sampled), so events recorded otherwise
// read exactly as they always did.
type eventMetadataJSON struct {
	RequestID     *string  `json:"request_id"`
	CorrelationID *string  `json:"correlation_id"`
	CausationID   *string  `json:"causation_id"`
	Actor         *string  `json:"actor"`
	ActorRoles    []string `json:"actor_roles"`
	ClientID      *string  `json:"client_id"`
	TraceID       *string  `json:"trace_id,omitempty"`
	SpanID        *string  `json:"span_id,omitempty"`
}

func toEventsJSON(events []app.RecordedEvent) eventsJSON {
	doc := eventsJSON{Events: make([]eventJSON, len(events))}
	for i, e := range events {
		doc.Events[i] = toEventJSON(e)
	}
	return doc
}

func toEventJSON(e app.RecordedEvent) eventJSON {
	return eventJSON{
		EventID:       e.EventID.String(),
		Type:          e.Type,
		Version:       e.Version,
		Position:      e.Position,
		SchemaVersion: e.SchemaVersion,
		OccurredAt:    formatTime(e.OccurredAt),
		RecordedAt:    formatTime(e.RecordedAt),
		Data:          e.Data,
		Unreadable:    e.Unreadable,
		Erased:        e.Erased,
		Metadata: eventMetadataJSON{
			RequestID:     optional(e.Metadata.RequestID),
			CorrelationID: optional(e.Metadata.CorrelationID),
			CausationID:   optional(e.Metadata.CausationID),
			Actor:         optional(e.Metadata.Principal.Subject),
			ActorRoles:    append([]string{}, e.Metadata.Principal.Roles.Names()...),
			ClientID:      optional(e.Metadata.Principal.ClientID),
			TraceID:       optional(e.Metadata.TraceID),
			SpanID:        optional(e.Metadata.SpanID),
		},
	}
}
