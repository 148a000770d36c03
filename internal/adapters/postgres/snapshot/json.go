package snapshot

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// snapshotJSON is the stored shape of an order.Order in the snapshots
// table: one field per field of the state, money as exact decimal text,
// times as RFC 3339 in UTC with every digit they have, zero values left
// out, and nil Items told apart from empty ones. Its shape is part of the
// snapshot fingerprint, so changing it only makes the stored snapshots
// foreign, never misread.
type snapshotJSON struct {
	ID              uuid.UUID            `json:"id"`
	CustomerID      uuid.UUID            `json:"customer_id"`
	Currency        string               `json:"currency,omitempty"`
	Status          string               `json:"status"`
	Items           []snapshotItemJSON   `json:"items"` // null when nil, [] when empty
	ShippingAddress *snapshotAddressJSON `json:"shipping_address,omitempty"`
	TrackingNumber  string               `json:"tracking_number,omitempty"`
	Carrier         string               `json:"carrier,omitempty"`
	Signature       string               `json:"signature,omitempty"`
	CancelReason    string               `json:"cancel_reason,omitempty"`
	CancelledBy     string               `json:"cancelled_by,omitempty"`
	Erased          bool                 `json:"erased,omitempty"`
	Version         int                  `json:"version"`
	CreatedAt       string               `json:"created_at,omitempty"`
	UpdatedAt       string               `json:"updated_at,omitempty"`
	PlacedAt        string               `json:"placed_at,omitempty"`
	ShippedAt       string               `json:"shipped_at,omitempty"`
	DeliveredAt     string               `json:"delivered_at,omitempty"`
	CancelledAt     string               `json:"cancelled_at,omitempty"`
}

type snapshotItemJSON struct {
	ProductID   uuid.UUID `json:"product_id"`
	ProductName string    `json:"product_name"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   string    `json:"unit_price"`
}

// snapshotAddressJSON is the snapshot's own copy of the address shape, so
// that the events' and the projection's shapes can change on their own.
type snapshotAddressJSON struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// PersonalFields are the members of an encoded state that hold personal
// data: the ones the store seals.
var PersonalFields = []string{"shipping_address", "signature", "cancel_reason"}

// Encode returns the stored JSON of a state.
func Encode(o order.Order) ([]byte, error) {
	j := snapshotJSON{
		ID:             o.ID,
		CustomerID:     o.CustomerID,
		Currency:       string(o.Currency),
		Status:         string(o.Status),
		TrackingNumber: o.TrackingNumber,
		Carrier:        o.Carrier,
		Signature:      o.Signature,
		CancelReason:   o.CancelReason,
		CancelledBy:    o.CancelledBy,
		Erased:         o.Erased,
		Version:        o.Version,
		CreatedAt:      snapshotTime(o.CreatedAt),
		UpdatedAt:      snapshotTime(o.UpdatedAt),
		PlacedAt:       snapshotTime(o.PlacedAt),
		ShippedAt:      snapshotTime(o.ShippedAt),
		DeliveredAt:    snapshotTime(o.DeliveredAt),
		CancelledAt:    snapshotTime(o.CancelledAt),
	}
	if o.Items != nil {
		j.Items = make([]snapshotItemJSON, 0, len(o.Items))
	}
	for _, it := range o.Items {
		j.Items = append(j.Items, snapshotItemJSON{
			ProductID:   it.ProductID,
			ProductName: it.ProductName,
			Quantity:    it.Quantity,
			UnitPrice:   it.UnitPrice.String(),
		})
	}
	if a := o.ShippingAddress; a != nil {
		j.ShippingAddress = &snapshotAddressJSON{
			Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		}
	}
	data, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return data, nil
}

// Decode reads a stored snapshot of stream id at version back
// into the exact state it was written from: amounts keep their scale,
// times are in UTC, and Items are nil or empty as they were. It is
// strict: unknown fields, a status that is not one, or a state of another
// stream or version are errors.
func Decode(id uuid.UUID, version int, data []byte) (order.Order, error) {
	var j snapshotJSON
	if err := codec.UnmarshalStrict(data, &j); err != nil {
		return order.Order{}, fmt.Errorf("decode snapshot: %w", err)
	}
	if j.ID != id || j.Version != version {
		return order.Order{}, fmt.Errorf("decode snapshot: holds order %s at version %d, stored as %s at %d", j.ID, j.Version, id, version)
	}
	status, err := order.ParseStatus(j.Status)
	if err != nil {
		return order.Order{}, fmt.Errorf("decode snapshot: status %q: %w", j.Status, err)
	}
	o := order.Order{
		ID:             j.ID,
		CustomerID:     j.CustomerID,
		Currency:       order.Currency(j.Currency),
		Status:         status,
		TrackingNumber: j.TrackingNumber,
		Carrier:        j.Carrier,
		Signature:      j.Signature,
		CancelReason:   j.CancelReason,
		CancelledBy:    j.CancelledBy,
		Erased:         j.Erased,
		Version:        j.Version,
	}
	if j.Items != nil {
		o.Items = make([]order.Item, 0, len(j.Items))
	}
	for _, it := range j.Items {
		price, err := codec.ParsePrice(it.UnitPrice)
		if err != nil {
			return order.Order{}, fmt.Errorf("decode snapshot: unit_price: %w", err)
		}
		o.Items = append(o.Items, order.Item{ProductID: it.ProductID, ProductName: it.ProductName, Quantity: it.Quantity, UnitPrice: price})
	}
	if a := j.ShippingAddress; a != nil {
		o.ShippingAddress = &order.Address{
			Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country,
		}
	}
	for _, t := range []struct {
		field string
		text  string
		into  *time.Time
	}{
		{"created_at", j.CreatedAt, &o.CreatedAt},
		{"updated_at", j.UpdatedAt, &o.UpdatedAt},
		{"placed_at", j.PlacedAt, &o.PlacedAt},
		{"shipped_at", j.ShippedAt, &o.ShippedAt},
		{"delivered_at", j.DeliveredAt, &o.DeliveredAt},
		{"cancelled_at", j.CancelledAt, &o.CancelledAt},
	} {
		if t.text == "" {
			continue
		}
		if *t.into, err = codec.ParseTime(t.text); err != nil {
			return order.Order{}, fmt.Errorf("decode snapshot: %s: %w", t.field, err)
		}
	}
	return o, nil
}

// snapshotTime writes a time as formatTime does; the zero time, a step
// not taken yet, is left out.
func snapshotTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return codec.FormatTime(t)
}
