package order

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Event is a fact about one order. The set is closed: only this package's
// types implement it, so a type switch over them can be exhaustive.
type Event interface {
	// EventType is the event's stable name in the store and on the wire.
	EventType() string
	isEvent()
}

// Stable event type names. Never rename one: stored events carry them.
const (
	TypeCreated     = "OrderCreated"
	TypeItemAdded   = "OrderItemAdded"
	TypeItemRemoved = "OrderItemRemoved"
	TypePlaced      = "OrderPlaced"
	TypeShipped     = "OrderShipped"
	TypeDelivered   = "OrderDelivered"
	TypeCancelled   = "OrderCancelled"
)

// Created starts an order's stream.
type Created struct {
	OrderID    uuid.UUID
	CustomerID uuid.UUID
	Currency   Currency
}

// ItemAdded puts a product line into a draft order.
type ItemAdded struct {
	OrderID     uuid.UUID
	ProductID   uuid.UUID
	ProductName string
	Quantity    int64
	UnitPrice   Amount
}

// ItemRemoved takes a product line out of a draft order.
type ItemRemoved struct {
	OrderID   uuid.UUID
	ProductID uuid.UUID
}

// Placed commits the customer to the order; TotalAmount is the exact total
// at that moment, recorded so that history never depends on recomputation.
type Placed struct {
	OrderID         uuid.UUID
	ShippingAddress Address
	TotalAmount     decimal.Decimal
	// Erased is set on an event read back after its customer's personal
	// data was erased: ShippingAddress is then empty. See PersonalData.
	Erased bool
}

// Shipped records the hand-over to a carrier.
type Shipped struct {
	OrderID        uuid.UUID
	TrackingNumber string
	Carrier        string
}

// Delivered records the delivery; Signature is empty when none was taken,
// and when Erased (see Placed).
type Delivered struct {
	OrderID     uuid.UUID
	DeliveredAt time.Time
	Signature   string
	Erased      bool
}

// Cancelled ends a draft or placed order. CancelledBy is the id of the
// verified principal that cancelled it when Verified is set; events
// recorded before principals were verified hold the name their request
// declared, unverified.
// Reason is empty when Erased (see Placed).
type Cancelled struct {
	OrderID     uuid.UUID
	Reason      string
	CancelledBy string
	Verified    bool
	Erased      bool
}

func (Created) EventType() string     { return TypeCreated }
func (ItemAdded) EventType() string   { return TypeItemAdded }
func (ItemRemoved) EventType() string { return TypeItemRemoved }
func (Placed) EventType() string      { return TypePlaced }
func (Shipped) EventType() string     { return TypeShipped }
func (Delivered) EventType() string   { return TypeDelivered }
func (Cancelled) EventType() string   { return TypeCancelled }

func (Created) isEvent()     {}
func (ItemAdded) isEvent()   {}
func (ItemRemoved) isEvent() {}
func (Placed) isEvent()      {}
func (Shipped) isEvent()     {}
func (Delivered) isEvent()   {}
func (Cancelled) isEvent()   {}

// EventTypes lists every event type name, in life-cycle order.
var EventTypes = []string{TypeCreated, TypeItemAdded, TypeItemRemoved, TypePlaced, TypeShipped, TypeDelivered, TypeCancelled}

// KnownEventType reports whether name is one of EventTypes.
func KnownEventType(name string) bool {
	for _, t := range EventTypes {
		if t == name {
			return true
		}
	}
	return false
}
