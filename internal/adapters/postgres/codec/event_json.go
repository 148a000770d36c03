package codec

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// The stored JSON shapes of the events at their current schema versions,
// and their converters. Field names are snake_case and part of the stored
// contract: change a shape only by adding a schema version to the codec
// (older shapes and their upcasters are in upcast.go).

// createdJSON is OrderCreated v2: the currency is required.
type createdJSON struct {
	OrderID    uuid.UUID `json:"order_id"`
	CustomerID uuid.UUID `json:"customer_id"`
	Currency   string    `json:"currency"`
}

func createdToJSON(e order.Created) createdJSON {
	return createdJSON{OrderID: e.OrderID, CustomerID: e.CustomerID, Currency: string(e.Currency)}
}

// createdFromJSON takes the currency as stored, not through
// order.ParseCurrency: a code retired from ISO 4217 after the order was
// created must not make its history unreadable. Only a missing one is
// refused: v2 always has it.
func createdFromJSON(j createdJSON) (order.Event, error) {
	if j.Currency == "" {
		return nil, fmt.Errorf("currency: missing")
	}
	return order.Created{OrderID: j.OrderID, CustomerID: j.CustomerID, Currency: order.Currency(j.Currency)}, nil
}

type itemAddedJSON struct {
	OrderID     uuid.UUID `json:"order_id"`
	ProductID   uuid.UUID `json:"product_id"`
	ProductName string    `json:"product_name"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   string    `json:"unit_price"`
}

func itemAddedToJSON(e order.ItemAdded) itemAddedJSON {
	return itemAddedJSON{
		OrderID:     e.OrderID,
		ProductID:   e.ProductID,
		ProductName: e.ProductName,
		Quantity:    e.Quantity,
		UnitPrice:   e.UnitPrice.String(),
	}
}

// itemAddedFromJSON holds the quantity and price to the domain's bounds,
// which every build has kept: a value beyond them was written by hand, and
// folding it would overflow the order's figures.
func itemAddedFromJSON(j itemAddedJSON) (order.Event, error) {
	price, err := eventAmount(j.UnitPrice)
	if err != nil {
		return nil, fmt.Errorf("unit_price: %w", err)
	}
	if j.Quantity < 1 || j.Quantity > order.MaxQuantity {
		return nil, fmt.Errorf("quantity %d: beyond 1 to %d", j.Quantity, order.MaxQuantity)
	}
	return order.ItemAdded{
		OrderID:     j.OrderID,
		ProductID:   j.ProductID,
		ProductName: j.ProductName,
		Quantity:    j.Quantity,
		UnitPrice:   price,
	}, nil
}

type itemRemovedJSON struct {
	OrderID   uuid.UUID `json:"order_id"`
	ProductID uuid.UUID `json:"product_id"`
}

func itemRemovedToJSON(e order.ItemRemoved) itemRemovedJSON {
	return itemRemovedJSON{OrderID: e.OrderID, ProductID: e.ProductID}
}

func itemRemovedFromJSON(j itemRemovedJSON) (order.Event, error) {
	return order.ItemRemoved{OrderID: j.OrderID, ProductID: j.ProductID}, nil
}

// AddressJSON is a shipping address, in the OrderPlaced event and in the
// order_details projection alike.
type AddressJSON struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

func AddressToJSON(a order.Address) AddressJSON {
	return AddressJSON(a)
}

func AddressFromJSON(j AddressJSON) order.Address {
	return order.Address(j)
}

type placedJSON struct {
	OrderID         uuid.UUID   `json:"order_id"`
	ShippingAddress AddressJSON `json:"shipping_address"`
	TotalAmount     string      `json:"total_amount"`
}

func placedToJSON(e order.Placed) placedJSON {
	return placedJSON{
		OrderID:         e.OrderID,
		ShippingAddress: AddressToJSON(e.ShippingAddress),
		TotalAmount:     FormatAmount(e.TotalAmount),
	}
}

func placedFromJSON(j placedJSON) (order.Event, error) {
	total, err := eventAmount(j.TotalAmount)
	if err != nil {
		return nil, fmt.Errorf("total_amount: %w", err)
	}
	return order.Placed{OrderID: j.OrderID, ShippingAddress: AddressFromJSON(j.ShippingAddress), TotalAmount: total.Decimal()}, nil
}

type shippedJSON struct {
	OrderID        uuid.UUID `json:"order_id"`
	TrackingNumber string    `json:"tracking_number"`
	Carrier        string    `json:"carrier"`
}

func shippedToJSON(e order.Shipped) shippedJSON {
	return shippedJSON{OrderID: e.OrderID, TrackingNumber: e.TrackingNumber, Carrier: e.Carrier}
}

func shippedFromJSON(j shippedJSON) (order.Event, error) {
	return order.Shipped{OrderID: j.OrderID, TrackingNumber: j.TrackingNumber, Carrier: j.Carrier}, nil
}

type deliveredJSON struct {
	OrderID     uuid.UUID `json:"order_id"`
	DeliveredAt string    `json:"delivered_at"`
	Signature   string    `json:"signature,omitempty"`
}

func deliveredToJSON(e order.Delivered) deliveredJSON {
	return deliveredJSON{OrderID: e.OrderID, DeliveredAt: FormatTime(e.DeliveredAt), Signature: e.Signature}
}

func deliveredFromJSON(j deliveredJSON) (order.Event, error) {
	at, err := ParseTime(j.DeliveredAt)
	if err != nil {
		return nil, fmt.Errorf("delivered_at: %w", err)
	}
	return order.Delivered{OrderID: j.OrderID, DeliveredAt: at, Signature: j.Signature}, nil
}

// cancelledJSON is OrderCancelled v2: cancelled_by_verified says whether
// cancelled_by is the id of a verified principal (every event since v2)
// or a name the request declared (upcast from v1).
type cancelledJSON struct {
	OrderID     uuid.UUID `json:"order_id"`
	Reason      string    `json:"reason"`
	CancelledBy string    `json:"cancelled_by"`
	Verified    bool      `json:"cancelled_by_verified"`
}

func cancelledToJSON(e order.Cancelled) cancelledJSON {
	return cancelledJSON{OrderID: e.OrderID, Reason: e.Reason, CancelledBy: e.CancelledBy, Verified: e.Verified}
}

func cancelledFromJSON(j cancelledJSON) (order.Event, error) {
	return order.Cancelled{OrderID: j.OrderID, Reason: j.Reason, CancelledBy: j.CancelledBy, Verified: j.Verified}, nil
}

// FormatAmount writes an amount as exact decimal text that keeps its scale
// ("4.50" stays "4.50", where decimal's String gives "4.5"), so that what
// is read back equals what was written, digit for digit.
func FormatAmount(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return d.StringFixed(-d.Exponent())
	}
	return d.String()
}

// eventAmount reads an amount of an event: text FormatAmount wrote of an
// amount within the domain's bounds, as every build has.
func eventAmount(s string) (order.Amount, error) {
	a, err := order.ParseAmount("amount", s)
	if err != nil {
		return order.Amount{}, fmt.Errorf("amount %q: beyond the bounds of an amount", s)
	}
	return a, nil
}

// ParseAmount reads the text FormatAmount wrote, or a NUMERIC as text.
func ParseAmount(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("amount %q: %w", s, err)
	}
	return d, nil
}

// ParsePrice reads a unit price as an Amount: text Amount.String wrote,
// or any decimal text that fits one (a NUMERIC as text).
func ParsePrice(s string) (order.Amount, error) {
	if a, err := order.ParseAmount("amount", s); err == nil {
		return a, nil
	}
	d, err := ParseAmount(s)
	if err != nil {
		return order.Amount{}, err
	}
	a, ok := order.AmountFromDecimal(d)
	if !ok {
		return order.Amount{}, fmt.Errorf("amount %q: beyond what an amount holds", s)
	}
	return a, nil
}

// FormatTime writes an instant as RFC 3339 in UTC with as many fractional
// digits as it has, so no precision is lost (see timetext for the rare
// stored instant outside four-digit years).
func FormatTime(t time.Time) string {
	return timetext.Format(t, time.RFC3339Nano)
}

// ParseTime reads an RFC 3339 instant and returns it in UTC, the location
// every time in orderapi's state carries. It reads every instant any
// build of orderapi has stored, years beyond 9999 included.
func ParseTime(s string) (time.Time, error) {
	return timetext.Parse(s)
}
