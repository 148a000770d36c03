package eventstore

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
)

// A bulk load writes the read models with COPY rather than through the
// append's upsert: these are the same rows, as the binary COPY protocol
// takes them, so that a loaded row is the row an append of the same state
// would have left.

// DetailsColumns are order_details' columns in the order of
// DetailsRow.CopyValues.
var DetailsColumns = []string{
	"order_id", "customer_id", "status", "currency", "items", "item_count", "total",
	"shipping_address", "tracking_number", "carrier", "signature", "cancel_reason", "cancelled_by",
	"version", "created_at", "updated_at", "placed_at", "shipped_at", "delivered_at", "cancelled_at", "erased",
}

// CopyValues are the row's values for DetailsColumns. JSON goes as the
// text DetailsFromOrder made (pgx sends a string to jsonb as it is), the
// total as the exact decimal it spells, its scale kept ("4.50" stays
// 4.50, as the append's ::numeric cast of the same text keeps it).
func (r DetailsRow) CopyValues() ([]any, error) {
	total, err := numeric(r.Total)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", r.OrderID, err)
	}
	return []any{
		[16]byte(r.OrderID), [16]byte(r.CustomerID), r.Status, r.Currency, r.Items, r.ItemCount, total,
		r.ShippingAddress, r.TrackingNumber, r.Carrier, r.Signature, r.CancelReason, r.CancelledBy,
		r.Version, r.CreatedAt, r.UpdatedAt, r.PlacedAt, r.ShippedAt, r.DeliveredAt, r.CancelledAt, r.Erased,
	}, nil
}

// Summary is the customer_orders row of the same state: a subset of the
// order_details row.
func (r DetailsRow) Summary() SummaryRow {
	return SummaryRow{
		OrderID: r.OrderID, CustomerID: r.CustomerID, Status: r.Status, Currency: r.Currency, Total: r.Total,
		ItemCount: r.ItemCount, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// SummaryColumns are customer_orders' columns in the order of
// SummaryRow.CopyValues.
var SummaryColumns = []string{
	"customer_id", "order_id", "status", "currency", "total", "item_count", "version", "created_at", "updated_at",
}

// CopyValues are the row's values for SummaryColumns.
func (r SummaryRow) CopyValues() ([]any, error) {
	total, err := numeric(r.Total)
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", r.OrderID, err)
	}
	return []any{
		[16]byte(r.CustomerID), [16]byte(r.OrderID), r.Status, r.Currency, total, r.ItemCount, r.Version,
		r.CreatedAt, r.UpdatedAt,
	}, nil
}

// numeric is an amount's text as pgx's binary NUMERIC: coefficient and
// exponent, which carries the scale.
func numeric(s string) (pgtype.Numeric, error) {
	d, err := codec.ParseAmount(s)
	if err != nil {
		return pgtype.Numeric{}, err
	}
	return pgtype.Numeric{Int: d.Coefficient(), Exp: d.Exponent(), Valid: true}, nil
}
