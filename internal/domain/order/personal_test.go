package order

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func TestAnOrderFoldedFromErasedEventsKeepsEverythingButItsPersonalData(t *testing.T) {
	// Given an order's history, as recorded and as read after erasure
	id, customer, product := uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	history := []Event{
		Created{OrderID: id, CustomerID: customer, Currency: "EUR"},
		ItemAdded{OrderID: id, ProductID: product, ProductName: "Tea", Quantity: 2, UnitPrice: MustParseAmount("4.50")},
		Placed{OrderID: id, ShippingAddress: Address{Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"}, TotalAmount: decimal.RequireFromString("9.00")},
		Shipped{OrderID: id, TrackingNumber: "TRK1", Carrier: "DHL"},
		Delivered{OrderID: id, DeliveredAt: at.Add(time.Hour), Signature: "A. Lovelace"},
	}
	var recorded, erased Order
	for i, e := range history {
		recorded.Apply(e, at.Add(time.Duration(i)*time.Minute))
		erased.Apply(WithPersonalDataErased(e), at.Add(time.Duration(i)*time.Minute))
	}

	// Then the erased order has no personal data and says so
	if erased.ShippingAddress != nil || erased.Signature != "" || !erased.Erased {
		t.Fatalf("erased order still holds personal data: %+v", erased)
	}
	// And everything else is as recorded
	recorded.ShippingAddress, recorded.Signature, recorded.Erased = nil, "", true
	if got, want := erased.Clone(), recorded.Clone(); got.Total().String() != want.Total().String() || got.Status != want.Status ||
		got.Version != want.Version || !got.DeliveredAt.Equal(want.DeliveredAt) || got.TrackingNumber != want.TrackingNumber || len(got.Items) != len(want.Items) {
		t.Errorf("erased order differs beyond its personal data:\n got %+v\nwant %+v", got, want)
	}
}

func TestErasingAnEventWithoutPersonalDataChangesNothing(t *testing.T) {
	// Given an event that holds no personal data
	e := Shipped{OrderID: uuid.New(), TrackingNumber: "TRK1", Carrier: "DHL"}

	// When it is read as after erasure
	got := WithPersonalDataErased(e)

	// Then it is the same event
	if got != Event(e) {
		t.Errorf("got %+v, want %+v", got, e)
	}
}

func TestACancellationAfterErasureLeavesTheOrderErased(t *testing.T) {
	// Given a placed order whose address was erased
	id := uuid.New()
	var o Order
	o.Apply(Created{OrderID: id, CustomerID: uuid.New(), Currency: "EUR"}, time.Now())
	o.Apply(WithPersonalDataErased(Placed{OrderID: id, ShippingAddress: Address{Name: "x"}}), time.Now())

	// When it is cancelled with a reason recorded after the erasure
	o.Apply(Cancelled{OrderID: id, Reason: "changed my mind", CancelledBy: "c", Verified: true}, time.Now())

	// Then the new reason reads back and the order still says it was erased
	if o.CancelReason != "changed my mind" || !o.Erased || o.ShippingAddress != nil {
		t.Errorf("got %+v", o)
	}
}
