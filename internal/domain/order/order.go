package order

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Status is where an order is in its life.
type Status string

// The statuses: draft → placed → shipped → delivered; draft or placed →
// cancelled.
const (
	StatusDraft     Status = "draft"
	StatusPlaced    Status = "placed"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status, in life-cycle order.
var Statuses = []Status{StatusDraft, StatusPlaced, StatusShipped, StatusDelivered, StatusCancelled}

// ParseStatus accepts one of Statuses.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", Invalid("status", FieldBadFormat, "must be one of draft, placed, shipped, delivered, cancelled")
}

// Item is one product line of an order.
type Item struct {
	ProductID   uuid.UUID
	ProductName string
	Quantity    int64
	UnitPrice   Amount
}

// LineTotal is Quantity × UnitPrice, exactly, at the price's scale.
func (i Item) LineTotal() decimal.Decimal {
	if units, ok := i.lineUnits(); ok {
		return decimal.New(units, -int32(i.UnitPrice.scale))
	}
	return i.UnitPrice.Decimal().Mul(decimal.NewFromInt(i.Quantity))
}

// LineAmount is LineTotal as an Amount; ok is false when it does not fit
// one, which no line an order's rules allow does.
func (i Item) LineAmount() (_ Amount, ok bool) {
	units, ok := i.lineUnits()
	return Amount{units: units, scale: i.UnitPrice.scale}, ok
}

// Order is the state of one order, derived only by applying its events.
// Read its fields freely; change them only through Apply.
type Order struct {
	ID         uuid.UUID
	CustomerID uuid.UUID
	Currency   Currency
	Status     Status
	// Items are in the order they were added.
	Items           []Item
	ShippingAddress *Address
	TrackingNumber  string
	Carrier         string
	Signature       string
	CancelReason    string
	CancelledBy     string
	// Erased is set once an event whose personal data was erased has been
	// applied: the fields that held it (ShippingAddress, Signature,
	// CancelReason) are then empty. Nothing else depends on them.
	Erased bool
	// Version is the number of events applied: 1 after Created.
	Version int
	// CreatedAt and UpdatedAt are the occurrence times of the first and the
	// last event; a step's time is zero until the step happens.
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PlacedAt    time.Time
	ShippedAt   time.Time
	DeliveredAt time.Time
	CancelledAt time.Time
}

// Clone returns a copy of o that shares nothing with it that either could
// change: Apply may grow Items in place when its array has room.
func (o Order) Clone() Order {
	o.Items = slices.Clone(o.Items)
	if o.ShippingAddress != nil {
		a := *o.ShippingAddress
		o.ShippingAddress = &a
	}
	return o
}

// Total is the sum of the line totals, exactly, at the largest scale
// among them (0 for no items).
func (o *Order) Total() decimal.Decimal {
	if units, scale, ok := o.totalUnits(); ok {
		return decimal.New(units, -int32(scale))
	}
	total := decimal.Zero
	for _, it := range o.Items {
		total = total.Add(it.LineTotal())
	}
	return total
}

// TotalAmount is Total as an Amount; ok is false when it does not fit one,
// which no total an order's rules allow does.
func (o *Order) TotalAmount() (_ Amount, ok bool) {
	units, scale, ok := o.totalUnits()
	return Amount{units: units, scale: scale}, ok
}

// ItemCount is the number of units in the order, over all lines.
func (o *Order) ItemCount() int64 {
	var n int64
	for _, it := range o.Items {
		n += it.Quantity
	}
	return n
}

func (o *Order) item(productID uuid.UUID) (int, bool) {
	for i, it := range o.Items {
		if it.ProductID == productID {
			return i, true
		}
	}
	return -1, false
}

// Apply folds one event that occurred at the given time into the state. It
// checks nothing: the event is a fact, already decided. Replay and commands
// both go through here, so state is derived the same way on both paths.
func (o *Order) Apply(e Event, occurredAt time.Time) {
	o.Version++
	o.UpdatedAt = occurredAt
	switch e := e.(type) {
	case Created:
		o.ID = e.OrderID
		o.CustomerID = e.CustomerID
		o.Currency = e.Currency
		o.Status = StatusDraft
		o.CreatedAt = occurredAt
	case ItemAdded:
		// Full slice expression: copies never share a backing array, so
		// a copy of an Order cannot see another copy's items.
		o.Items = append(o.Items[:len(o.Items):len(o.Items)], Item{
			ProductID:   e.ProductID,
			ProductName: e.ProductName,
			Quantity:    e.Quantity,
			UnitPrice:   e.UnitPrice,
		})
	case ItemRemoved:
		if i, ok := o.item(e.ProductID); ok {
			// A new slice: a caller may still hold the old one. An order
			// without items has none at all, as after Created.
			o.Items = append(o.Items[:i:i], o.Items[i+1:]...)
			if len(o.Items) == 0 {
				o.Items = nil
			}
		}
	case Placed:
		if e.Erased {
			o.ShippingAddress, o.Erased = nil, true
		} else {
			addr := e.ShippingAddress
			o.ShippingAddress = &addr
		}
		o.Status = StatusPlaced
		o.PlacedAt = occurredAt
	case Shipped:
		o.TrackingNumber = e.TrackingNumber
		o.Carrier = e.Carrier
		o.Status = StatusShipped
		o.ShippedAt = occurredAt
	case Delivered:
		o.Signature = e.Signature
		o.Erased = o.Erased || e.Erased
		o.Status = StatusDelivered
		o.DeliveredAt = e.DeliveredAt
	case Cancelled:
		o.CancelReason = e.Reason
		o.Erased = o.Erased || e.Erased
		o.CancelledBy = e.CancelledBy
		o.Status = StatusCancelled
		o.CancelledAt = occurredAt
	}
}
