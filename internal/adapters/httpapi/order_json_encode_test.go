package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The order document written by hand is, byte for byte, what json.Marshal
// writes of it: whatever its strings hold, set or not.
func TestOrderDocumentIsWhatJSONMarshalWrites(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20261206, 1))
	for range 3000 {
		// Given a document of random content
		doc := randomOrderJSON(rng)

		// When it is written by hand and by json.Marshal
		want, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		got := doc.appendJSON(nil)

		// Then the bytes are the same
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSON:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
}

// An order's answer carries the document and the JSON media type.
func TestWriteOrder(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 1, 2, 3, 456000, time.UTC)
	o := order.Order{ID: uuid.New(), CustomerID: uuid.New(), Currency: "EUR", Status: order.StatusPlaced, Version: 3,
		Items:           []order.Item{{ProductID: uuid.New(), ProductName: `Mug "<Tom & Jerry>"`, Quantity: 2, UnitPrice: order.MustParseAmount("9.50")}},
		ShippingAddress: &order.Address{Name: "Ada", Line1: "1 Way", City: "London", PostalCode: "N1", Country: "GB"},
		CreatedAt:       at, UpdatedAt: at, PlacedAt: at}
	w := httptest.NewRecorder()

	writeOrder(w, 201, o)

	want, err := json.Marshal(toOrderJSON(o))
	if err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Header().Get("Content-Type") != "application/json" || !bytes.Equal(w.Body.Bytes(), want) {
		t.Errorf("%d %v\n%s\nwant\n%s", w.Code, w.Header(), w.Body, want)
	}
}

// randomText is text of every kind a string field could hold: plain,
// HTML, JavaScript line separators, control characters, invalid UTF-8.
func randomText(rng *rand.Rand) string {
	pieces := []string{"", "a", "Merino crew-neck", "é", "日本", "😀", "<", ">", "&", `"`, `\`, "/",
		"\u2028", "\u2029", "\x00", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f", "\xff", "\xe2\x80", "\xed\xa0\x80", "\ufffd"}
	var b []byte
	for range rng.IntN(6) {
		if rng.IntN(4) == 0 {
			b = append(b, byte(rng.IntN(256)))
			continue
		}
		b = append(b, pieces[rng.IntN(len(pieces))]...)
	}
	return string(b)
}

func randomOptional(rng *rand.Rand) *string {
	if rng.IntN(2) == 0 {
		return nil
	}
	s := randomText(rng)
	return &s
}

func randomOrderJSON(rng *rand.Rand) orderJSON {
	doc := orderJSON{
		ID: randomText(rng), CustomerID: randomText(rng), Status: randomText(rng), Currency: randomText(rng),
		ItemCount: rng.Int64() - rng.Int64(), Total: randomText(rng),
		TrackingNumber: randomOptional(rng), Carrier: randomOptional(rng), Signature: randomOptional(rng),
		CancelReason: randomOptional(rng), CancelledBy: randomOptional(rng),
		Version:   rng.Int() - rng.Int(),
		CreatedAt: randomText(rng), UpdatedAt: randomText(rng),
		PlacedAt: randomOptional(rng), ShippedAt: randomOptional(rng), DeliveredAt: randomOptional(rng), CancelledAt: randomOptional(rng),
	}
	if rng.IntN(4) > 0 {
		doc.Items = make([]itemJSON, rng.IntN(3))
		for i := range doc.Items {
			doc.Items[i] = itemJSON{ProductID: randomText(rng), ProductName: randomText(rng), Quantity: rng.Int64() - rng.Int64(),
				UnitPrice: randomText(rng), LineTotal: randomText(rng)}
		}
	}
	if rng.IntN(2) == 0 {
		doc.ShippingAddress = &addressJSON{Name: randomText(rng), Line1: randomText(rng), Line2: randomOptional(rng),
			City: randomText(rng), Region: randomOptional(rng), PostalCode: randomText(rng), Country: randomText(rng)}
	}
	if rng.IntN(4) > 0 {
		doc.AllowedActions = make([]string, rng.IntN(3))
		for i := range doc.AllowedActions {
			doc.AllowedActions[i] = randomText(rng)
		}
	}
	return doc
}
