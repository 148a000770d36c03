package analytics

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// These tests need no database: the consumer's memory is a map.

func TestOrderStatesForgetTheLeastRecentlyCountedPastTheirCap(t *testing.T) {
	// Given room for two orders, holding a and b, a counted last
	m := newOrderStates(2)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	m.put(b, &analyticsOrder{currency: "EUR"})
	m.put(a, &analyticsOrder{currency: "USD"})
	if _, ok := m.get(b); !ok {
		t.Fatal("b forgotten")
	}

	// When a third is remembered
	m.put(c, &analyticsOrder{currency: "JPY"})

	// Then a, the least recently used, is forgotten, and b and c kept
	if _, ok := m.get(a); ok {
		t.Error("a still remembered")
	}
	if st, ok := m.get(b); !ok || st.currency != "EUR" {
		t.Errorf("b = %+v, %v", st, ok)
	}
	if st, ok := m.get(c); !ok || st.currency != "JPY" {
		t.Errorf("c = %+v, %v", st, ok)
	}
	if m.len() != 2 {
		t.Errorf("len = %d, want 2", m.len())
	}

	// And a state put again replaces the one remembered
	m.put(c, &analyticsOrder{currency: "KWD"})
	if st, _ := m.get(c); st.currency != "KWD" || m.len() != 2 {
		t.Errorf("c = %+v, len %d", st, m.len())
	}

	// And remove and forget forget
	m.remove(b)
	if _, ok := m.get(b); ok || m.len() != 1 {
		t.Errorf("b still remembered, len %d", m.len())
	}
	m.forget()
	if _, ok := m.get(c); ok || m.len() != 0 {
		t.Errorf("c still remembered, len %d", m.len())
	}
}

func TestOrderStatesWithoutRoomRememberNothing(t *testing.T) {
	for _, max := range []int{0, -1} {
		m := newOrderStates(max)
		id := uuid.New()
		m.put(id, &analyticsOrder{currency: "EUR"})
		if _, ok := m.get(id); ok || m.len() != 0 {
			t.Errorf("max %d: remembered an order", max)
		}
	}
}

func TestItemsJSONOfAChange(t *testing.T) {
	// Given lines set and one removed
	items := map[uuid.UUID]int64{cup: 3, saucer: 0}

	// When written as the change to analytics_orders.items
	var got map[string]*int64
	if err := json.Unmarshal(appendItemsJSON(nil, items), &got); err != nil {
		t.Fatal(err)
	}

	// Then the set line has its quantity and the removed one is null
	if len(got) != 2 || got[cup.String()] == nil || *got[cup.String()] != 3 || got[saucer.String()] != nil {
		t.Errorf("items = %v", got)
	}
	if s := string(appendItemsJSON(nil, nil)); s != "{}" {
		t.Errorf("no items = %s", s)
	}
}

func TestBatchChangesOnlyTheRowsItChanges(t *testing.T) {
	// Given a remembered placed order and a remembered draft
	placed, draft := uuid.New(), uuid.New()
	b := newAnalyticsBatch(map[uuid.UUID]*analyticsOrder{
		placed: {currency: "EUR", items: map[uuid.UUID]int64{cup: 1}, placedTotal: ptrTo(foldAmount("2"))},
		draft:  {currency: "EUR", items: map[uuid.UUID]int64{cup: 1}},
	})

	// When the placed one is shipped and the draft's lines change
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	events := []struct {
		id uuid.UUID
		e  order.Event
	}{
		{placed, order.Shipped{OrderID: placed}},
		{draft, order.ItemAdded{OrderID: draft, ProductID: saucer, Quantity: 2}},
		{draft, order.ItemRemoved{OrderID: draft, ProductID: cup}},
		{draft, order.ItemAdded{OrderID: draft, ProductID: cup, Quantity: 5}},
		{draft, order.ItemRemoved{OrderID: draft, ProductID: saucer}},
	}
	for _, e := range events {
		if err := b.fold(e.id, e.e, at); err != nil {
			t.Fatal(err)
		}
	}

	// Then only the draft's row is written, with the last quantity of
	// each line it touched
	if ids := b.changedOrders(); len(ids) != 1 || ids[0] != draft {
		t.Fatalf("changed orders = %v, want the draft only", ids)
	}
	if c := b.changes[draft]; c.created || c.placed || len(c.items) != 2 || c.items[cup] != 5 || c.items[saucer] != 0 {
		t.Errorf("change = %+v", c)
	}
}
