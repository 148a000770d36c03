package customer_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestACustomersStreamIsNeverAnOrders(t *testing.T) {
	seen := map[uuid.UUID]uuid.UUID{}
	for range 10_000 {
		// Given a customer
		c := uuid.New()

		// When its stream's id is derived
		id := customer.StreamID(c)

		// Then it is the same every time, no order's, and no other
		// customer's
		if again := customer.StreamID(c); again != id {
			t.Fatalf("customer %s: stream %s, then %s", c, id, again)
		}
		if order.IsOrderID(id) {
			t.Fatalf("customer %s's stream %s may name an order", c, id)
		}
		if other, dup := seen[id]; dup {
			t.Fatalf("customers %s and %s share stream %s", c, other, id)
		}
		seen[id] = c
	}
}

func TestOrderIDsOfEveryGeneratorAreOrders(t *testing.T) {
	// Given ids as clients and the service make them
	v1, _ := uuid.NewUUID()
	v7, _ := uuid.NewV7()
	ids := map[string]uuid.UUID{
		"v1": v1, "v4": uuid.New(), "v7": v7,
		"v5":                uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://shop.example/orders/1")),
		"NCS variant":       uuid.MustParse("0193a000-0000-7000-0000-000000000001"),
		"Microsoft variant": uuid.MustParse("0193a000-0000-7000-c000-000000000001"),
	}
	for name, id := range ids {
		// Then each may name an order
		if !order.IsOrderID(id) {
			t.Errorf("%s id %s refused", name, id)
		}
	}
	// And the nil UUID, and one of the reserved variant, may not
	for _, id := range []uuid.UUID{uuid.Nil, uuid.MustParse("0193a000-0000-7000-e000-000000000001"), uuid.Max} {
		if order.IsOrderID(id) {
			t.Errorf("%s taken for an order id", id)
		}
	}
}

func TestEventTypes(t *testing.T) {
	if !customer.KnownEventType(customer.TypePersonalDataErased) || customer.KnownEventType(order.TypeCreated) {
		t.Error("KnownEventType")
	}
	if (customer.PersonalDataErased{}).EventType() != "CustomerPersonalDataErased" {
		t.Error("the type's name changed: stored events carry it")
	}
}
