package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestEventsCarryAmountsAndTimesAsRecorded: an event's data holds what it
// recorded and reads it back so, on the history and the feed alike, while
// the order document writes the same values its own way. A unit price
// keeps the places it was sent with (leading zeros dropped), and the
// placed total those of its most precise price; the document shows the
// currency's minor units at least. A delivery time keeps the fractional
// digits it has, none for a whole second; the document shows
// microseconds. The spec says so.
func TestEventsCarryAmountsAndTimesAsRecorded(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	for _, tc := range []struct {
		currency string
		prices   []string
		// event and document are the unit prices as each shows them;
		// the totals likewise.
		event, document           []string
		eventTotal, documentTotal string
	}{
		{"USD", []string{"0001.2300", "0.5", "1000"}, []string{"1.2300", "0.5", "1000"}, []string{"1.23", "0.50", "1000.00"}, "1001.7300", "1001.73"},
		{"JPY", []string{"1000.00"}, []string{"1000.00"}, []string{"1000"}, "1000.00", "1000"},
		{"BHD", []string{"1"}, []string{"1"}, []string{"1.000"}, "1", "1.000"},
	} {
		t.Run(tc.currency, func(t *testing.T) {
			// Given an order of these prices, delivered at a whole second
			o := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New(), "currency": tc.currency}).
				want(t, http.StatusCreated).order(t)
			for _, p := range tc.prices {
				a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
					"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": p,
				}).want(t, http.StatusOK)
			}
			a.place(o.ID)
			a.do("POST", "/v1/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "1Z", "carrier": "UPS"}).want(t, http.StatusOK)
			at := time.Now().UTC().Add(time.Minute).Truncate(time.Second)
			doc := a.do("POST", "/v1/orders/"+o.ID+"/deliver", map[string]any{"delivered_at": at.Format(time.RFC3339)}).
				want(t, http.StatusOK).order(t)

			// Then the document writes them its way
			var prices []string
			for _, it := range doc.Items {
				prices = append(prices, it.UnitPrice)
			}
			if !slices.Equal(prices, tc.document) || doc.Total != tc.documentTotal || *doc.DeliveredAt != at.Format("2006-01-02T15:04:05.000000Z") {
				t.Errorf("document: prices %q, total %q, delivered_at %q", prices, doc.Total, *doc.DeliveredAt)
			}
			// and the events as they recorded them
			var data struct {
				UnitPrice   string `json:"unit_price"`
				TotalAmount string `json:"total_amount"`
				DeliveredAt string `json:"delivered_at"`
			}
			prices = nil
			var total, delivered string
			history := a.events(o.ID)
			var feed feedPageJSON
			decodeStrict(t, a.do("GET", "/v1/events?limit=1000", nil).want(t, http.StatusOK).Body, &feed)
			for _, e := range history {
				i := slices.IndexFunc(feed.Events, func(f feedEventJSON) bool { return f.EventID == e.EventID })
				if i < 0 || !bytes.Equal(feed.Events[i].Data, e.Data) {
					t.Errorf("event %s: the feed's data is not the history's", e.EventID)
				}
				if err := json.Unmarshal(e.Data, &data); err != nil {
					t.Fatal(err)
				}
				switch e.Type {
				case "OrderItemAdded":
					prices = append(prices, data.UnitPrice)
				case "OrderPlaced":
					total = data.TotalAmount
				case "OrderDelivered":
					delivered = data.DeliveredAt
				}
			}
			if !slices.Equal(prices, tc.event) || total != tc.eventTotal || delivered != at.Format(time.RFC3339) {
				t.Errorf("events: prices %q, total %q, delivered_at %q", prices, total, delivered)
			}
		})
	}
}
