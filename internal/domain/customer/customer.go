// Package customer holds what orderapi records of a customer rather than
// of one of its orders: that its personal data was erased. Such facts are
// events in a stream of the customer's own (StreamID), beside the orders'
// streams, in the same store and the same global feed; they never hold
// personal data.
//
// The package does no I/O and knows nothing of HTTP or SQL.
package customer

import (
	"crypto/sha256"

	"github.com/google/uuid"
)

// Event is a fact about a customer. The set is closed: only this
// package's types implement it.
type Event interface {
	// EventType is the event's stable name in the store and on the wire.
	EventType() string
	isEvent()
}

// TypePersonalDataErased is PersonalDataErased's stable name. Never
// rename it: stored events carry it.
const TypePersonalDataErased = "CustomerPersonalDataErased"

// PersonalDataErased records that the customer's personal data was
// erased: the keys that sealed it (in every order of the customer, until
// then) were destroyed. Who erased it, and when, are the event's envelope.
type PersonalDataErased struct {
	CustomerID uuid.UUID
	// DataKeys are the ids of the keys destroyed, none if the customer had
	// none: an erasure applied again after a restore destroys exactly
	// these, never a key the customer's later personal data got. An id
	// names a key, and tells nothing of what it sealed.
	DataKeys []uuid.UUID
}

func (PersonalDataErased) EventType() string { return TypePersonalDataErased }
func (PersonalDataErased) isEvent()          {}

// EventTypes lists every event type name.
var EventTypes = []string{TypePersonalDataErased}

// KnownEventType reports whether name is one of EventTypes.
func KnownEventType(name string) bool {
	for _, t := range EventTypes {
		if t == name {
			return true
		}
	}
	return false
}

// StreamID is the id of the customer's stream: a digest of the customer's
// id, so that it is found without a lookup, made of the UUID variant
// reserved for future definition, which no order id may be
// (order.IsOrderID). A customer's stream and an order's never share an
// id, whatever ids clients choose.
func StreamID(customerID uuid.UUID) uuid.UUID {
	sum := sha256.Sum256(append([]byte("orderapi customer stream\x00"), customerID[:]...))
	var id uuid.UUID
	copy(id[:], sum[:16])
	id[8] |= 0xe0
	return id
}
