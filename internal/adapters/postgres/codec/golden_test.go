package codec_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The golden histories in testdata/golden are streams of events as stored,
// in every event type and every schema version any release has written,
// each with the state its fold must give. They are never regenerated:
// stored events are never rewritten either, so a change to the codec or to
// Apply that reads old data differently fails here. A new schema version
// gets a new sample (TestGoldenCoversEverySchema insists); an existing
// sample changes only when its expected state is wrong.

// goldenDefaultCurrency is the configured default currency the golden
// histories are decoded with: OrderCreated v1 without a currency gets it.
const goldenDefaultCurrency = "CHF"

type goldenHistory struct {
	Comment string        `json:"comment"`
	Events  []goldenEvent `json:"events"`
	State   goldenState   `json:"state"`
}

type goldenEvent struct {
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Data          json.RawMessage `json:"data"`
}

// goldenState is order.Order written out for comparison; zero times are
// empty strings.
type goldenState struct {
	ID              string            `json:"id"`
	CustomerID      string            `json:"customer_id"`
	Currency        string            `json:"currency"`
	Status          string            `json:"status"`
	Items           []goldenItem      `json:"items"`
	Total           string            `json:"total"`
	ShippingAddress *goldenAddress    `json:"shipping_address"`
	TrackingNumber  string            `json:"tracking_number"`
	Carrier         string            `json:"carrier"`
	Signature       string            `json:"signature"`
	CancelReason    string            `json:"cancel_reason"`
	CancelledBy     string            `json:"cancelled_by"`
	Version         int               `json:"version"`
	Times           map[string]string `json:"times"`
}

type goldenAddress struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	Region     string `json:"region"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type goldenItem struct {
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name"`
	Quantity    int64  `json:"quantity"`
	UnitPrice   string `json:"unit_price"`
}

func goldenStateOf(o order.Order) goldenState {
	s := goldenState{
		ID: o.ID.String(), CustomerID: o.CustomerID.String(), Currency: string(o.Currency), Status: string(o.Status),
		Items: []goldenItem{}, Total: o.Total().String(),
		TrackingNumber: o.TrackingNumber, Carrier: o.Carrier, Signature: o.Signature,
		CancelReason: o.CancelReason, CancelledBy: o.CancelledBy, Version: o.Version,
		Times: map[string]string{},
	}
	if a := o.ShippingAddress; a != nil {
		s.ShippingAddress = &goldenAddress{a.Name, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country}
	}
	for _, it := range o.Items {
		s.Items = append(s.Items, goldenItem{it.ProductID.String(), it.ProductName, it.Quantity, it.UnitPrice.String()})
	}
	for name, t := range map[string]time.Time{
		"created_at": o.CreatedAt, "updated_at": o.UpdatedAt, "placed_at": o.PlacedAt,
		"shipped_at": o.ShippedAt, "delivered_at": o.DeliveredAt, "cancelled_at": o.CancelledAt,
	} {
		if !t.IsZero() {
			s.Times[name] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	return s
}

// goldenHistories reads every file of testdata/golden, strictly.
func goldenHistories(t *testing.T) map[string]goldenHistory {
	return readGolden[goldenHistory](t, "golden")
}

// readGolden reads every file of testdata/dir, strictly, by name.
func readGolden[T any](t *testing.T, dir string) map[string]T {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden samples in %s: %v", dir, err)
	}
	all := make(map[string]T, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var h T
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all[filepath.Base(f)] = h
	}
	return all
}

func TestGoldenHistories(t *testing.T) {
	t.Parallel()
	c := codec.New(codec.Config{DefaultCurrency: goldenDefaultCurrency})
	for name, h := range goldenHistories(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// When the stored events are decoded and folded, as on replay
			var o order.Order
			for i, e := range h.Events {
				ev, err := c.Decode(e.Type, e.SchemaVersion, e.Data)
				if err != nil {
					t.Fatalf("event %d: %v", i+1, err)
				}
				// And each survives being written in the current shape
				// and read back, as the events API and the feed show it
				v, data, err := c.Encode(ev)
				if err != nil {
					t.Fatalf("event %d: %v", i+1, err)
				}
				again, err := c.Decode(ev.EventType(), v, data)
				if err != nil || !reflect.DeepEqual(again, ev) {
					t.Errorf("event %d in the current shape v%d %s reads back as %#v, %v; want %#v", i+1, v, data, again, err, ev)
				}
				o.Apply(ev, e.OccurredAt.UTC())
			}
			// Then the state is the one recorded
			if got := goldenStateOf(o); !reflect.DeepEqual(got, h.State) {
				gotJSON, _ := json.MarshalIndent(got, "    ", "  ")
				t.Errorf("folded state differs from the golden one; it is now:\n    %s", gotJSON)
			}
		})
	}
}

// TestGoldenCoversEverySchema fails when the codec decodes an event type
// at a schema version that no golden history has a sample of: add one to
// testdata/golden with the version.
func TestGoldenCoversEverySchema(t *testing.T) {
	t.Parallel()
	sampled := map[codec.Schema]bool{}
	for _, h := range goldenHistories(t) {
		for _, e := range h.Events {
			sampled[codec.Schema{EventType: e.Type, Version: e.SchemaVersion}] = true
		}
	}
	c := codec.New(codec.Config{})
	for _, s := range c.Schemas() {
		// Customer events have samples of their own: see
		// TestGoldenCustomerEvents.
		if !sampled[s] && !c.IsCustomerEvent(s.EventType) {
			t.Errorf("no golden sample of %s: add one to testdata/golden", s)
		}
	}
	// A sample the codec no longer reads is stored data it dropped.
	for s := range sampled {
		if !c.Decodable(s.EventType, s.Version) {
			t.Errorf("golden sample of %s, which the codec no longer decodes", s)
		}
	}
}
