package httpapi

import (
	"time"

	"github.com/orderapi/orderapi/internal/adapters/timetext"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// timeLayout writes times in UTC with microseconds, the store's precision,
// always with the same width so that clients can compare them as text.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// orderJSON is the order document every command answers with and GET
// /v1/orders/{order_id} returns. What has not happened yet is null, never
// an empty string or a zero time.
type orderJSON struct {
	ID              string       `json:"id"`
	CustomerID      string       `json:"customer_id"`
	Status          string       `json:"status"`
	Currency        string       `json:"currency"`
	Items           []itemJSON   `json:"items"`
	ItemCount       int64        `json:"item_count"`
	Total           string       `json:"total"`
	ShippingAddress *addressJSON `json:"shipping_address"`
	TrackingNumber  *string      `json:"tracking_number"`
	Carrier         *string      `json:"carrier"`
	Signature       *string      `json:"signature"`
	CancelReason    *string      `json:"cancel_reason"`
	CancelledBy     *string      `json:"cancelled_by"`
	Version         int          `json:"version"`
	AllowedActions  []string     `json:"allowed_actions"`
	CreatedAt       string       `json:"created_at"`
	UpdatedAt       string       `json:"updated_at"`
	PlacedAt        *string      `json:"placed_at"`
	ShippedAt       *string      `json:"shipped_at"`
	DeliveredAt     *string      `json:"delivered_at"`
	CancelledAt     *string      `json:"cancelled_at"`
	// Erased is only ever true: the customer's personal data that the
	// order held was erased, and its fields read null.
	Erased bool `json:"erased,omitempty"`
}

// itemJSON is one line of an order; amounts are exact decimal text.
type itemJSON struct {
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name"`
	Quantity    int64  `json:"quantity"`
	UnitPrice   string `json:"unit_price"`
	LineTotal   string `json:"line_total"`
}

func toOrderJSON(o order.Order) orderJSON {
	doc := orderJSON{
		ID:             o.ID.String(),
		CustomerID:     o.CustomerID.String(),
		Status:         string(o.Status),
		Currency:       string(o.Currency),
		Items:          make([]itemJSON, len(o.Items)),
		ItemCount:      o.ItemCount(),
		Total:          formatTotal(&o),
		TrackingNumber: optional(o.TrackingNumber),
		Carrier:        optional(o.Carrier),
		Signature:      optional(o.Signature),
		CancelReason:   optional(o.CancelReason),
		CancelledBy:    optional(o.CancelledBy),
		Version:        o.Version,
		AllowedActions: []string{},
		CreatedAt:      formatTime(o.CreatedAt),
		UpdatedAt:      formatTime(o.UpdatedAt),
		PlacedAt:       optionalTime(o.PlacedAt),
		ShippedAt:      optionalTime(o.ShippedAt),
		DeliveredAt:    optionalTime(o.DeliveredAt),
		CancelledAt:    optionalTime(o.CancelledAt),
		Erased:         o.Erased,
	}
	for i, it := range o.Items {
		doc.Items[i] = itemJSON{
			ProductID:   it.ProductID.String(),
			ProductName: it.ProductName,
			Quantity:    it.Quantity,
			UnitPrice:   o.Currency.FormatAmount(it.UnitPrice),
			LineTotal:   formatLine(o.Currency, it),
		}
	}
	if a := o.ShippingAddress; a != nil {
		doc.ShippingAddress = &addressJSON{
			Name:       a.Name,
			Line1:      a.Line1,
			Line2:      optional(a.Line2),
			City:       a.City,
			Region:     optional(a.Region),
			PostalCode: a.PostalCode,
			Country:    a.Country,
		}
	}
	for _, a := range o.AllowedActions() {
		doc.AllowedActions = append(doc.AllowedActions, string(a))
	}
	return doc
}

// formatTotal writes the order's total as Currency.Format does, from the
// integer the domain keeps when it fits one (it always does within the
// order's rules).
func formatTotal(o *order.Order) string {
	if a, ok := o.TotalAmount(); ok {
		return o.Currency.FormatAmount(a)
	}
	return o.Currency.Format(o.Total())
}

// formatLine writes an item's line total as formatTotal writes a total.
func formatLine(c order.Currency, it order.Item) string {
	if a, ok := it.LineAmount(); ok {
		return c.FormatAmount(a)
	}
	return c.Format(it.LineTotal())
}

// formatTime writes t in UTC, or, for an instant some older build stored
// beyond four-digit years, in the offset that keeps it valid RFC 3339.
func formatTime(t time.Time) string {
	return timetext.Format(t, timeLayout)
}

// optional is nil for "", which the domain uses for "not set".
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}
