package codec

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/customer"
)

// The events of a customer's stream (customer.StreamID), in the same
// table as the orders': their own table of shapes, since they decode to
// customer events, never to an order's. Decode refuses them
// (ErrNotOrderEvent); DecodeCustomer reads them.

// customerShape is a customer event type's current schema version and
// its converters.
type customerShape struct {
	version int
	encode  func(customer.Event) ([]byte, error)
	decode  func(data []byte) (customer.Event, error)
}

// customerShapes is the table of the customer events' shapes.
var customerShapes = map[string]customerShape{
	customer.TypePersonalDataErased: {1, encodeAs[customer.Event](personalDataErasedToJSON), decodeAs(personalDataErasedFromJSON)},
}

// ErrNotOrderEvent is Decode's error for an event of a customer's stream:
// it is not an order's, and no order is folded from it.
var ErrNotOrderEvent = errors.New("a customer's event, not an order's")

// IsCustomerEvent reports whether eventType is a customer event's type,
// stored in a customer's stream: DecodeCustomer reads it, Decode refuses
// it.
func (c *Codec) IsCustomerEvent(eventType string) bool {
	_, ok := customerShapes[eventType]
	return ok
}

// EncodeCustomer returns a customer event's data in its type's current
// schema version.
func (c *Codec) EncodeCustomer(e customer.Event) (schemaVersion int, data []byte, err error) {
	if e == nil {
		return 0, nil, fmt.Errorf("encode event: nil event")
	}
	sh, ok := customerShapes[e.EventType()]
	if !ok {
		return 0, nil, fmt.Errorf("encode event: no encoder for type %q", e.EventType())
	}
	if data, err = sh.encode(e); err != nil {
		return 0, nil, fmt.Errorf("encode %s v%d: %w", e.EventType(), sh.version, err)
	}
	return sh.version, data, nil
}

// DecodeCustomer reads stored data of a customer event's type and schema
// version.
func (c *Codec) DecodeCustomer(eventType string, schemaVersion int, data []byte) (customer.Event, error) {
	sh, ok := customerShapes[eventType]
	if !ok || schemaVersion != sh.version {
		return nil, fmt.Errorf("decode event: unknown customer event type %q at schema version %d", eventType, schemaVersion)
	}
	e, err := sh.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s v%d: %w", eventType, schemaVersion, err)
	}
	return e, nil
}

// personalDataErasedJSON is CustomerPersonalDataErased v1: the customer
// and the ids of the keys destroyed (always a list, empty for none), and
// nothing of its personal data.
type personalDataErasedJSON struct {
	CustomerID uuid.UUID   `json:"customer_id"`
	DataKeys   []uuid.UUID `json:"data_keys"`
}

func personalDataErasedToJSON(e customer.PersonalDataErased) personalDataErasedJSON {
	keys := e.DataKeys
	if keys == nil {
		keys = []uuid.UUID{}
	}
	return personalDataErasedJSON{CustomerID: e.CustomerID, DataKeys: keys}
}

func personalDataErasedFromJSON(j personalDataErasedJSON) (customer.Event, error) {
	if j.CustomerID == uuid.Nil {
		return nil, fmt.Errorf("customer_id: missing")
	}
	if j.DataKeys == nil {
		return nil, fmt.Errorf("data_keys: missing")
	}
	return customer.PersonalDataErased{CustomerID: j.CustomerID, DataKeys: j.DataKeys}, nil
}
