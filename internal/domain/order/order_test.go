package order_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestApplyLifeCycle(t *testing.T) {
	// Given a whole life
	o := given(created, addedA, addedB, order.ItemRemoved{OrderID: orderID, ProductID: productB}, placed, shipped, deliv)

	// Then the state is derived from the events alone
	if o.Status != order.StatusDelivered || o.Version != 7 {
		t.Errorf("status %s version %d, want delivered 7", o.Status, o.Version)
	}
	if got := o.Total(); !got.Equal(dec("59.97")) {
		t.Errorf("total = %s, want exactly 59.97 (3 × 19.99)", got)
	}
	if o.ItemCount() != 3 || len(o.Items) != 1 {
		t.Errorf("item count %d lines %d, want 3 units in 1 line", o.ItemCount(), len(o.Items))
	}
	if o.CreatedAt != t0 || o.PlacedAt != t0.Add(4*time.Second) || o.ShippedAt != t0.Add(5*time.Second) {
		t.Errorf("step times created %v placed %v shipped %v", o.CreatedAt, o.PlacedAt, o.ShippedAt)
	}
	if o.DeliveredAt != deliv.DeliveredAt || o.UpdatedAt != t0.Add(6*time.Second) {
		t.Errorf("delivered %v updated %v", o.DeliveredAt, o.UpdatedAt)
	}
	if o.ShippingAddress == nil || *o.ShippingAddress != address || o.TrackingNumber != "1Z999" || o.Carrier != "UPS" {
		t.Errorf("shipping details %+v %q %q", o.ShippingAddress, o.TrackingNumber, o.Carrier)
	}
}

func TestCopiesDoNotShareItems(t *testing.T) {
	// Given two copies of one order
	base := given(created, addedA)
	a, b := base, base

	// When each adds a different item
	a.Apply(addedB, t0)
	b.Apply(order.ItemAdded{OrderID: orderID, ProductID: productB, ProductName: "Other", Quantity: 9, UnitPrice: price("1")}, t0)

	// Then neither sees the other's
	if a.Items[1].ProductName != "Tea" || b.Items[1].ProductName != "Other" || len(base.Items) != 1 {
		t.Errorf("copies share items: a %v b %v base %v", a.Items, b.Items, base.Items)
	}
}

func TestAllowedActions(t *testing.T) {
	tests := []struct {
		history []order.Event
		want    []order.Action
	}{
		{[]order.Event{created}, []order.Action{"add_item", "remove_item", "place", "cancel"}},
		{[]order.Event{created, addedA, placed}, []order.Action{"ship", "cancel"}},
		{[]order.Event{created, addedA, placed, shipped}, []order.Action{"deliver"}},
		{[]order.Event{created, addedA, placed, shipped, deliv}, []order.Action{}},
		{[]order.Event{created, cancel}, []order.Action{}},
	}
	for _, tt := range tests {
		o := given(tt.history...)
		if got := o.AllowedActions(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: allowed %v, want %v", o.Status, got, tt.want)
		}
	}
}
