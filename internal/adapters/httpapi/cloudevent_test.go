package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/app"
)

// TestCloudEventShowsWhatTheEventsAPIShows holds the broker's message to
// the events API: a consumer sees the same data, byte for byte, and the
// same time text as GET /v1/events shows for the event.
func TestCloudEventShowsWhatTheEventsAPIShows(t *testing.T) {
	t.Parallel()
	for name, occurred := range map[string]time.Time{
		"in an offset":     time.Date(2026, 11, 25, 13, 0, 0, 5000, time.FixedZone("CET", 3600)),
		"whole seconds":    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		"in UTC year 1e4":  time.Date(10000, 1, 1, 10, 0, 0, 0, time.UTC),
		"in UTC year -1":   time.Date(-1, 12, 31, 20, 0, 0, 0, time.UTC),
		"nanoseconds kept": time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given a stored event, its data as the store gives it back (spaced, with markup)
			e := app.RecordedEvent{
				EventID: uuid.New(), OrderID: uuid.New(), Version: 2, Position: 7, TransactionID: 9,
				Type: "OrderItemAdded", SchemaVersion: 1, OccurredAt: occurred, RecordedAt: occurred,
				Data: json.RawMessage(`{"order_id": "0190d6c9-0000-7000-8000-000000000001", "product_name": "Mug <b>&</b> \u00e9", "quantity": 1, "unit_price": "1.50"}`),
			}
			// When the events API and the CloudEvents encoding write it
			shown, err := json.Marshal(toEventJSON(e))
			if err != nil {
				t.Fatal(err)
			}
			sent, err := cloudevent.Encode(e, "/orderapi")
			if err != nil {
				t.Fatal(err)
			}
			// Then data is the same bytes and time the same text as occurred_at
			var api, ce map[string]json.RawMessage
			if err := json.Unmarshal(shown, &api); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(sent, &ce); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(api["data"], ce["data"]) {
				t.Errorf("data\n API %s\n  CE %s", api["data"], ce["data"])
			}
			if !bytes.Equal(api["occurred_at"], ce["time"]) {
				t.Errorf("time %s, occurred_at %s", ce["time"], api["occurred_at"])
			}
			if want, _ := json.Marshal(e.EventID.String()); !bytes.Equal(api["event_id"], ce["id"]) || !bytes.Equal(ce["id"], want) {
				t.Errorf("id %s, event_id %s", ce["id"], api["event_id"])
			}
		})
	}
}
