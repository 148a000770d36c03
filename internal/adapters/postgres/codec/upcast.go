package codec

import (
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The older schema versions still stored, each with its upcaster to the
// next version. An upcaster is a plain function from one version's shape
// to the next's; the codec's table chains them. Keep every shape here for
// as long as a database may hold it: events are never rewritten.

// createdV1JSON is OrderCreated v1. As first written it had no currency;
// the currency came later, still written as v1, before v2 made it part of
// the shape. Both kinds of row are stored at schema version 1 and events
// cannot be relabelled (the events table refuses UPDATE), so v1 reads
// either: the currency when present, else the configured default.
type createdV1JSON struct {
	OrderID    uuid.UUID `json:"order_id"`
	CustomerID uuid.UUID `json:"customer_id"`
	Currency   string    `json:"currency,omitempty"`
}

// upcastCreatedV1 returns the OrderCreated v1 → v2 upcaster: a v1 event
// without a currency gets defaultCurrency. That is the currency such
// orders were taken in when no order could choose one; it is read from
// the configuration on every replay, so changing ORDERAPI_DEFAULT_CURRENCY
// while such events are stored changes their orders' currency on replay
// (the read models keep the one they were written with).
func upcastCreatedV1(defaultCurrency order.Currency) func(createdV1JSON) (createdJSON, error) {
	return func(j createdV1JSON) (createdJSON, error) {
		currency := j.Currency
		if currency == "" {
			currency = string(defaultCurrency)
		}
		return createdJSON{OrderID: j.OrderID, CustomerID: j.CustomerID, Currency: currency}, nil
	}
}

// cancelledV1JSON is OrderCancelled v1, written while cancelled_by was
// whatever the request declared.
type cancelledV1JSON struct {
	OrderID     uuid.UUID `json:"order_id"`
	Reason      string    `json:"reason"`
	CancelledBy string    `json:"cancelled_by"`
}

// upcastCancelledV1 is the OrderCancelled v1 → v2 upcaster: the declared
// name is kept as it was recorded, and marked as not verified.
func upcastCancelledV1(j cancelledV1JSON) (cancelledJSON, error) {
	return cancelledJSON{OrderID: j.OrderID, Reason: j.Reason, CancelledBy: j.CancelledBy, Verified: false}, nil
}
