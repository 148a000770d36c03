// Package cloudevent writes a stored event, an order's or a customer's,
// as a CloudEvents 1.0 event in JSON structured mode: the body of every
// message orderapi publishes to a broker. Its subject is the event's
// stream: the order's id, or the id of the customer's stream. The shape is a public contract, documented in
// api/asyncapi.yaml and kept equal to it by api/asyncapitest: `time` and
// `data` are exactly what GET /v1/events shows for the event.
package cloudevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// ContentType is the media type of an encoded event (structured mode).
const ContentType = "application/cloudevents+json"

// timeLayout is the events API's: UTC with microseconds, always the same
// width, so `time` reads as the event's occurred_at does there.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

var (
	// ErrUnreadable refuses an event this build cannot decode: it is never
	// published, since its data may not have its type's shape.
	ErrUnreadable = errors.New("cloudevent: unreadable event")
	// ErrUnknownType refuses an event type or schema version with no
	// CloudEvents type name.
	ErrUnknownType = errors.New("cloudevent: unknown event type")
)

// names are the CloudEvents names of the event types, each after the
// kind of stream it is of; never rename one, consumers subscribe by them.
var names = map[string]string{
	order.TypeCreated:               "order.created",
	order.TypeItemAdded:             "order.item_added",
	order.TypeItemRemoved:           "order.item_removed",
	order.TypePlaced:                "order.placed",
	order.TypeShipped:               "order.shipped",
	order.TypeDelivered:             "order.delivered",
	order.TypeCancelled:             "order.cancelled",
	customer.TypePersonalDataErased: "customer.personal_data_erased",
}

// Type returns the CloudEvents type of an event type at a schema version:
// "dev.orderapi.order.<name>.v<schema version>" for an order's event,
// "dev.orderapi.customer.<name>.v<schema version>" for a customer's.
func Type(eventType string, schemaVersion int) (string, error) {
	name, ok := names[eventType]
	if !ok || schemaVersion < 1 {
		return "", fmt.Errorf("%w: %q at schema version %d", ErrUnknownType, eventType, schemaVersion)
	}
	return "dev.orderapi." + name + ".v" + strconv.Itoa(schemaVersion), nil
}

// envelope is the CloudEvent with orderapi's extension attributes; the
// optional ones are absent when the request did not carry them.
type envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	Position        string          `json:"orderapiposition"`
	TransactionID   string          `json:"orderapitxid"`
	Version         int             `json:"orderapiversion"`
	Erased          bool            `json:"orderapierased,omitempty"`
	PersonalData    string          `json:"orderapipersonaldata,omitempty"`
	CorrelationID   string          `json:"correlationid,omitempty"`
	CausationID     string          `json:"causationid,omitempty"`
	Actor           string          `json:"orderapiactor,omitempty"`
	TraceParent     string          `json:"traceparent,omitempty"`
}

// Encode returns the event as a CloudEvent from source (a URI-reference,
// such as "/orderapi"). The position and the transaction id are strings:
// with them a consumer can resume the events API's feed, and a uint64
// does not fit a JSON number every consumer reads exactly. An event read
// after its customer's erasure says so: `orderapierased: true`, absent
// otherwise; one whose personal members are sealed text (read so, see
// app.FeedQuery.Sealed) too: `orderapipersonaldata: "sealed"`.
func Encode(e app.RecordedEvent, source string) ([]byte, error) {
	if e.Unreadable {
		return nil, fmt.Errorf("%w: %s %s at position %d", ErrUnreadable, e.Type, e.EventID, e.Position)
	}
	typ, err := Type(e.Type, e.SchemaVersion)
	if err != nil {
		return nil, err
	}
	if source == "" {
		return nil, errors.New("cloudevent: empty source")
	}
	if !json.Valid(e.Data) {
		return nil, fmt.Errorf("cloudevent: %s %s: data is not JSON", e.Type, e.EventID)
	}
	return json.Marshal(envelope{
		SpecVersion:     "1.0",
		ID:              e.EventID.String(),
		Source:          source,
		Type:            typ,
		Subject:         e.OrderID.String(),
		Time:            timetext.Format(e.OccurredAt, timeLayout),
		DataContentType: "application/json",
		Data:            e.Data,
		Position:        strconv.FormatInt(e.Position, 10),
		TransactionID:   strconv.FormatUint(e.TransactionID, 10),
		Version:         e.Version,
		Erased:          e.Erased,
		PersonalData:    personalData(e),
		CorrelationID:   e.Metadata.CorrelationID,
		CausationID:     e.Metadata.CausationID,
		Actor:           e.Metadata.Principal.Subject,
		TraceParent:     TraceParent(e.Metadata),
	})
}

// PersonalDataSealed is the attribute orderapipersonaldata of a message
// whose data's personal members are sealed text.
const PersonalDataSealed = "sealed"

func personalData(e app.RecordedEvent) string {
	if e.Sealed {
		return PersonalDataSealed
	}
	return ""
}

// Published is what a message's body says of its event's personal data.
type Published struct {
	// Data is the event's data.
	Data json.RawMessage
	// Sealed says that its personal members are sealed text.
	Sealed bool
	// Erased says that its customer's personal data had been erased.
	Erased bool
}

// Read returns what body, a CloudEvent as Encode writes it, says of its
// event's personal data. It reads no further: whether body is an event's
// message at all is for its reader to tell (Encode it again, compare).
func Read(body []byte) (Published, error) {
	var ce struct {
		Data         json.RawMessage `json:"data"`
		Erased       bool            `json:"orderapierased"`
		PersonalData string          `json:"orderapipersonaldata"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		return Published{}, fmt.Errorf("cloudevent: %w", err)
	}
	return Published{Data: ce.Data, Sealed: ce.PersonalData == PersonalDataSealed, Erased: ce.Erased}, nil
}

// TraceParent is the W3C traceparent of the request that recorded an
// event, from the trace and span ids in its metadata, for the CloudEvents
// distributed tracing extension and the message's header: a consumer's
// spans then continue that request's trace. It is "" when the metadata
// holds no trace, or ids that are not a trace's (metadata is an open
// envelope). The trace was sampled, or its ids would not be stored.
func TraceParent(m app.Metadata) string {
	if !isHexID(m.TraceID, 32) || !isHexID(m.SpanID, 16) {
		return ""
	}
	return "00-" + m.TraceID + "-" + m.SpanID + "-01"
}

// isHexID reports whether s is n lower-case hex digits, not all zero (an
// invalid id in W3C Trace Context).
func isHexID(s string, n int) bool {
	if len(s) != n {
		return false
	}
	zero := true
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
		zero = zero && c == '0'
	}
	return !zero
}
