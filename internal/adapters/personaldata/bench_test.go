package personaldata

import (
	"context"
	"testing"
)

// benchPlaced is an OrderPlaced event's data as the codec writes it, with
// an address of every line the API takes.
var benchPlaced = []byte(`{"order_id":"0193a000-0000-7000-8000-0000000000c1","shipping_address":{"name":"Ada Lovelace",` +
	`"line1":"12 St James's Square","line2":"Second floor","city":"London","region":"Greater London","postal_code":"SW1Y 4JH",` +
	`"country":"GB"},"total_amount":"119.80","currency":"USD","placed_at":"2026-12-06T04:00:00.123456Z"}`)

// benchFields are its personal members, as codec.PersonalFields gives them.
var benchFields = []string{"shipping_address"}

func benchPlace(field string) string {
	return Place("event", "0193a000-0000-7000-8000-0000000000c1", field)
}

// BenchmarkSealMembers seals an OrderPlaced event's address, as an
// append does.
func BenchmarkSealMembers(b *testing.B) {
	k := testKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SealMembers(benchPlaced, benchFields, func(string) (*DataKey, error) { return k, nil }, benchPlace); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenMembers opens it, its key cached, as a read of the event
// does.
func BenchmarkOpenMembers(b *testing.B) {
	k := testKey(b)
	sealed, _, err := SealMembers(benchPlaced, benchFields, func(string) (*DataKey, error) { return k, nil }, benchPlace)
	if err != nil {
		b.Fatal(err)
	}
	r := NewKeyring(nil, nil)
	r.remember(k.ID, k.CustomerID, k, false, 0, r.now())
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.OpenMembers(context.Background(), sealed, benchFields, benchPlace); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNullMembers withholds it, as the analytics consumer does.
func BenchmarkNullMembers(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NullMembers(benchPlaced, benchFields); err != nil {
			b.Fatal(err)
		}
	}
}
