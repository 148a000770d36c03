package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
)

// Verification compares projection rows column by column, as text: each
// column of a row read back and of the row a replay would write is shown
// the same way, so that equal values give equal text and a difference
// reads plainly.

// detailsColumnsSQL is order_details' columns as scanned into a
// eventstore.DetailsRow.
const detailsColumnsSQL = `order_id, customer_id, status, currency, items::text, item_count, total::text,
       shipping_address::text, tracking_number, carrier, signature, cancel_reason, cancelled_by,
       version, created_at, updated_at, placed_at, shipped_at, delivered_at, cancelled_at, erased`

// summaryColumnsSQL is customer_orders' columns as scanned into a
// eventstore.SummaryRow.
const summaryColumnsSQL = `order_id, customer_id, status, currency, total::text, item_count, version, created_at, updated_at`

func scanDetailsRow(row pgx.CollectableRow) (eventstore.DetailsRow, error) {
	var r eventstore.DetailsRow
	err := row.Scan(&r.OrderID, &r.CustomerID, &r.Status, &r.Currency, &r.Items, &r.ItemCount, &r.Total,
		&r.ShippingAddress, &r.TrackingNumber, &r.Carrier, &r.Signature, &r.CancelReason, &r.CancelledBy,
		&r.Version, &r.CreatedAt, &r.UpdatedAt, &r.PlacedAt, &r.ShippedAt, &r.DeliveredAt, &r.CancelledAt, &r.Erased)
	return r, err
}

// column is one column's name and value, shown as text.
type column struct{ name, value string }

// detailsColumns are the columns of an order_details row.
func detailsColumns(r eventstore.DetailsRow) []column {
	return []column{
		{"customer_id", r.CustomerID.String()},
		{"status", strconv.Quote(r.Status)},
		{"currency", strconv.Quote(r.Currency)},
		{"items", canonicalJSON(r.Items)},
		{"item_count", strconv.FormatInt(r.ItemCount, 10)},
		{"total", r.Total},
		{"shipping_address", nullJSON(r.ShippingAddress)},
		{"tracking_number", quoteOrNull(r.TrackingNumber)},
		{"carrier", quoteOrNull(r.Carrier)},
		{"signature", quoteOrNull(r.Signature)},
		{"cancel_reason", quoteOrNull(r.CancelReason)},
		{"cancelled_by", quoteOrNull(r.CancelledBy)},
		{"erased", strconv.FormatBool(r.Erased)},
		{"version", strconv.Itoa(r.Version)},
		{"created_at", showTime(&r.CreatedAt)},
		{"updated_at", showTime(&r.UpdatedAt)},
		{"placed_at", showTime(r.PlacedAt)},
		{"shipped_at", showTime(r.ShippedAt)},
		{"delivered_at", showTime(r.DeliveredAt)},
		{"cancelled_at", showTime(r.CancelledAt)},
	}
}

// summaryColumns are the columns of a customer_orders row.
func summaryColumns(r eventstore.SummaryRow) []column {
	return []column{
		{"status", strconv.Quote(r.Status)},
		{"currency", strconv.Quote(r.Currency)},
		{"total", r.Total},
		{"item_count", strconv.FormatInt(r.ItemCount, 10)},
		{"version", strconv.Itoa(r.Version)},
		{"created_at", showTime(&r.CreatedAt)},
		{"updated_at", showTime(&r.UpdatedAt)},
	}
}

// columnDifferences lists "<column> <got>, want <want>" for each column
// that differs; both lists come from the same columns method.
func columnDifferences(got, want []column) []string {
	var diffs []string
	for i := range want {
		if got[i].value != want[i].value {
			diffs = append(diffs, fmt.Sprintf("%s %s, want %s", want[i].name, got[i].value, want[i].value))
		}
	}
	return diffs
}

// canonicalJSON shows a JSON text with sorted keys and no spaces, so that
// jsonb's own layout and encoding/json's compare equal; text that is not
// JSON is shown as it is.
func canonicalJSON(s string) string {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return strconv.Quote(s)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return strconv.Quote(s)
	}
	return string(out)
}

func nullJSON(s *string) string {
	if s == nil {
		return "NULL"
	}
	return canonicalJSON(*s)
}

func quoteOrNull(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

func showTime(t *time.Time) string {
	if t == nil {
		return "NULL"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
