package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The inline projections are written by Append from the order's state and
// read back by the queries; this file is the one mapping between that
// state and the rows, so both directions stay in step.

// DetailsRow is one order_details row in the Go types exchanged with the
// driver: JSON and amounts as text (PostgreSQL casts them, so no float and
// no driver-side JSON handling is involved), NULLable columns as pointers.
// customer_orders holds a subset of the same values.
type DetailsRow struct {
	OrderID         uuid.UUID
	CustomerID      uuid.UUID
	Status          string
	Currency        string
	Items           string // jsonb array of itemJSON, in the order's item order
	ItemCount       int64
	Total           string  // numeric
	ShippingAddress *string // jsonb codec.AddressJSON; NULL until placed
	TrackingNumber  *string
	Carrier         *string
	Signature       *string
	CancelReason    *string
	CancelledBy     *string
	// Erased: the order's personal data was erased when the row was
	// written. ShippingAddress, Signature and CancelReason hold sealed
	// text in the table (see sealDetails); in a row read through the
	// store they are open, and a value whose key was destroyed is nil
	// with Erased set.
	Erased      bool
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PlacedAt    *time.Time
	ShippedAt   *time.Time
	DeliveredAt *time.Time
	CancelledAt *time.Time
}

// itemJSON is one element of order_details.items.
type itemJSON struct {
	ProductID   uuid.UUID `json:"product_id"`
	ProductName string    `json:"product_name"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   string    `json:"unit_price"`
}

// appendItemsJSON writes items as the jsonb array of itemJSON that
// encoding/json would, by hand: every add item writes the whole list, and
// reflection over it cost more than the rest of the row. jsonb keeps the
// values, not the text, so only the values must agree (a test checks they
// do).
func appendItemsJSON(dst []byte, items []order.Item) []byte {
	dst = append(dst, '[')
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"product_id":"`...)
		dst = postgres.AppendUUID(dst, it.ProductID)
		dst = append(dst, `","product_name":`...)
		// Invalid UTF-8 becomes U+FFFD, as encoding/json writes it; the
		// domain never holds any.
		dst, _ = jsontext.AppendQuote(dst, it.ProductName)
		dst = append(dst, `,"quantity":`...)
		dst = strconv.AppendInt(dst, it.Quantity, 10)
		dst = append(dst, `,"unit_price":"`...)
		dst, _ = it.UnitPrice.AppendText(dst) // digits and a point: nothing to escape
		dst = append(dst, `"}`...)
	}
	return append(dst, ']')
}

// DetailsFromOrder maps the order's state to its projection row.
func DetailsFromOrder(o order.Order) (DetailsRow, error) {
	itemsJSON := appendItemsJSON(make([]byte, 0, 128*len(o.Items)+2), o.Items)
	var addr *string
	if o.ShippingAddress != nil {
		a, err := json.Marshal(codec.AddressToJSON(*o.ShippingAddress))
		if err != nil {
			return DetailsRow{}, fmt.Errorf("encode shipping address: %w", err)
		}
		addr = new(string(a))
	}
	return DetailsRow{
		OrderID:         o.ID,
		CustomerID:      o.CustomerID,
		Status:          string(o.Status),
		Currency:        string(o.Currency),
		Items:           string(itemsJSON),
		ItemCount:       o.ItemCount(),
		Total:           totalText(&o),
		ShippingAddress: addr,
		TrackingNumber:  nullText(o.TrackingNumber),
		Carrier:         nullText(o.Carrier),
		Signature:       nullText(o.Signature),
		CancelReason:    nullText(o.CancelReason),
		CancelledBy:     nullText(o.CancelledBy),
		Erased:          o.Erased,
		Version:         o.Version,
		CreatedAt:       o.CreatedAt,
		UpdatedAt:       o.UpdatedAt,
		PlacedAt:        nullTime(o.PlacedAt),
		ShippedAt:       nullTime(o.ShippedAt),
		DeliveredAt:     nullTime(o.DeliveredAt),
		CancelledAt:     nullTime(o.CancelledAt),
	}, nil
}

// toOrder rebuilds the state the row was written from. Every value comes
// back exactly: amounts keep their scale, times come back in UTC, and an
// order without items has nil Items, as a freshly created one does.
func (r DetailsRow) toOrder() (order.Order, error) {
	status, err := storedStatus(r.OrderID, r.Status)
	if err != nil {
		return order.Order{}, err
	}
	var items []itemJSON
	if err := codec.UnmarshalStrict([]byte(r.Items), &items); err != nil {
		return order.Order{}, fmt.Errorf("order %s: items: %w", r.OrderID, err)
	}
	o := order.Order{
		ID:             r.OrderID,
		CustomerID:     r.CustomerID,
		Currency:       order.Currency(r.Currency),
		Status:         status,
		TrackingNumber: textOrEmpty(r.TrackingNumber),
		Carrier:        textOrEmpty(r.Carrier),
		Signature:      textOrEmpty(r.Signature),
		CancelReason:   textOrEmpty(r.CancelReason),
		CancelledBy:    textOrEmpty(r.CancelledBy),
		Erased:         r.Erased,
		Version:        r.Version,
		CreatedAt:      r.CreatedAt.UTC(),
		UpdatedAt:      r.UpdatedAt.UTC(),
		PlacedAt:       timeOrZero(r.PlacedAt),
		ShippedAt:      timeOrZero(r.ShippedAt),
		DeliveredAt:    timeOrZero(r.DeliveredAt),
		CancelledAt:    timeOrZero(r.CancelledAt),
	}
	for _, it := range items {
		price, err := codec.ParsePrice(it.UnitPrice)
		if err != nil {
			return order.Order{}, fmt.Errorf("order %s: item %s: unit_price: %w", r.OrderID, it.ProductID, err)
		}
		o.Items = append(o.Items, order.Item{ProductID: it.ProductID, ProductName: it.ProductName, Quantity: it.Quantity, UnitPrice: price})
	}
	if r.ShippingAddress != nil {
		var a codec.AddressJSON
		if err := codec.UnmarshalStrict([]byte(*r.ShippingAddress), &a); err != nil {
			return order.Order{}, fmt.Errorf("order %s: shipping address: %w", r.OrderID, err)
		}
		o.ShippingAddress = new(codec.AddressFromJSON(a))
	}
	return o, nil
}

// SummaryRow is one customer_orders row as the list query reads it.
type SummaryRow struct {
	OrderID    uuid.UUID
	CustomerID uuid.UUID
	Status     string
	Currency   string
	Total      string // numeric as text
	ItemCount  int64
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (r SummaryRow) toSummary() (app.OrderSummary, error) {
	status, err := storedStatus(r.OrderID, r.Status)
	if err != nil {
		return app.OrderSummary{}, err
	}
	total, err := codec.ParseAmount(r.Total)
	if err != nil {
		return app.OrderSummary{}, fmt.Errorf("order %s: total: %w", r.OrderID, err)
	}
	return app.OrderSummary{
		ID:         r.OrderID,
		CustomerID: r.CustomerID,
		Status:     status,
		Currency:   order.Currency(r.Currency),
		Total:      total,
		ItemCount:  r.ItemCount,
		Version:    r.Version,
		CreatedAt:  r.CreatedAt.UTC(),
		UpdatedAt:  r.UpdatedAt.UTC(),
	}, nil
}

// storedStatus reads the status a row of the order's holds. One this
// build does not know is the stored data's fault, so the domain's
// invalid-field error, which would be answered as the request's, is not
// passed on.
func storedStatus(id uuid.UUID, s string) (order.Status, error) {
	status, err := order.ParseStatus(s)
	if err != nil {
		return "", fmt.Errorf("order %s: stored status %q is not one this build knows", id, s)
	}
	return status, nil
}

// totalText is the order's total as codec.FormatAmount writes it, from
// the integer the domain keeps when it fits one.
func totalText(o *order.Order) string {
	if a, ok := o.TotalAmount(); ok {
		return a.String()
	}
	return codec.FormatAmount(o.Total())
}

// nullText stores an unset text field as NULL rather than as empty text.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func textOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullTime stores a step that has not happened (zero time) as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// The SET lists of the two read models' upserts. A rebuild's writes set
// every column; the append's set a personal column only when its commit
// records one (see Personal data in personal.go), and keep erased once set.
var (
	OrderDetailsUpdate = orderDetailsSet(`
        shipping_address = EXCLUDED.shipping_address, signature = EXCLUDED.signature,
        cancel_reason = EXCLUDED.cancel_reason, erased = EXCLUDED.erased`)
	appendDetailsUpdate = orderDetailsSet(`
        shipping_address = coalesce(EXCLUDED.shipping_address, d.shipping_address),
        signature = coalesce(EXCLUDED.signature, d.signature),
        cancel_reason = coalesce(EXCLUDED.cancel_reason, d.cancel_reason), erased = d.erased OR EXCLUDED.erased`)
)

// orderDetailsSet is the SET list of an order_details upsert, with
// personal setting its personal columns.
func orderDetailsSet(personal string) string {
	return `
        customer_id = EXCLUDED.customer_id, status = EXCLUDED.status, currency = EXCLUDED.currency,
        items = EXCLUDED.items, item_count = EXCLUDED.item_count, total = EXCLUDED.total,
        tracking_number = EXCLUDED.tracking_number, carrier = EXCLUDED.carrier, cancelled_by = EXCLUDED.cancelled_by,
        version = EXCLUDED.version, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
        placed_at = EXCLUDED.placed_at, shipped_at = EXCLUDED.shipped_at,
        delivered_at = EXCLUDED.delivered_at, cancelled_at = EXCLUDED.cancelled_at,` + personal
}

// CustomerOrdersUpdate is the SET list of a customer_orders upsert.
const CustomerOrdersUpdate = `
        status = EXCLUDED.status, currency = EXCLUDED.currency, total = EXCLUDED.total,
        item_count = EXCLUDED.item_count, version = EXCLUDED.version,
        created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`
