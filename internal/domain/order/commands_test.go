package order_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

var (
	orderID    = uuid.MustParse("0193a000-0000-7000-8000-000000000001")
	customerID = uuid.MustParse("0193a000-0000-7000-8000-0000000000c1")
	productA   = uuid.MustParse("0193a000-0000-7000-8000-0000000000a1")
	productB   = uuid.MustParse("0193a000-0000-7000-8000-0000000000b1")
	t0         = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// price is the amount of s, which must fit one (negative and long ones
// included, for the checks that refuse them).
func price(s string) order.Amount { return amountOf(dec(s)) }

func amountOf(d decimal.Decimal) order.Amount {
	a, ok := order.AmountFromDecimal(d)
	if !ok {
		panic("amount does not fit: " + d.String())
	}
	return a
}

// given replays history into an order, one second per event.
func given(history ...order.Event) order.Order {
	var o order.Order
	for i, e := range history {
		o.Apply(e, t0.Add(time.Duration(i)*time.Second))
	}
	return o
}

var (
	created = order.Created{OrderID: orderID, CustomerID: customerID, Currency: "USD"}
	addedA  = order.ItemAdded{OrderID: orderID, ProductID: productA, ProductName: "Mug", Quantity: 3, UnitPrice: price("19.99")}
	addedB  = order.ItemAdded{OrderID: orderID, ProductID: productB, ProductName: "Tea", Quantity: 1, UnitPrice: price("4.50")}
	address = order.Address{Name: "Ada Lovelace", Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"}
	placed  = order.Placed{OrderID: orderID, ShippingAddress: address, TotalAmount: dec("59.97")}
	shipped = order.Shipped{OrderID: orderID, TrackingNumber: "1Z999", Carrier: "UPS"}
	deliv   = order.Delivered{OrderID: orderID, DeliveredAt: t0.Add(time.Hour)}
	cancel  = order.Cancelled{OrderID: orderID, Reason: "changed mind", CancelledBy: "customer", Verified: true}
)

func itemA() order.NewItem {
	return order.NewItem{ProductID: productA, ProductName: "Mug", Quantity: 3, UnitPrice: price("19.99")}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name    string
		given   []order.Event
		when    func(o *order.Order) ([]order.Event, error)
		want    []order.Event
		wantErr error
	}{
		{
			name:  "add item to a draft",
			given: []order.Event{created},
			when:  func(o *order.Order) ([]order.Event, error) { return o.AddItem(itemA()) },
			want:  []order.Event{addedA},
		},
		{
			name:  "add item with a zero price",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				it := itemA()
				it.UnitPrice = price("0")
				return o.AddItem(it)
			},
			want: []order.Event{order.ItemAdded{OrderID: orderID, ProductID: productA, ProductName: "Mug", Quantity: 3, UnitPrice: price("0")}},
		},
		{
			name:    "add a product twice",
			given:   []order.Event{created, addedA},
			when:    func(o *order.Order) ([]order.Event, error) { return o.AddItem(itemA()) },
			wantErr: order.ErrDuplicateProduct,
		},
		{
			name:    "add item to a placed order",
			given:   []order.Event{created, addedA, placed},
			when:    func(o *order.Order) ([]order.Event, error) { return o.AddItem(itemA()) },
			wantErr: order.ErrNotDraft,
		},
		{
			name:  "add a product again after removing it",
			given: []order.Event{created, addedA, order.ItemRemoved{OrderID: orderID, ProductID: productA}},
			when:  func(o *order.Order) ([]order.Event, error) { return o.AddItem(itemA()) },
			want:  []order.Event{addedA},
		},
		{
			name:  "remove an item",
			given: []order.Event{created, addedA, addedB},
			when:  func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(productA) },
			want:  []order.Event{order.ItemRemoved{OrderID: orderID, ProductID: productA}},
		},
		{
			name:    "remove a product not in the order",
			given:   []order.Event{created, addedA},
			when:    func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(productB) },
			wantErr: order.ErrItemNotInOrder,
		},
		{
			name:    "remove an item from a placed order",
			given:   []order.Event{created, addedA, placed},
			when:    func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(productA) },
			wantErr: order.ErrNotDraft,
		},
		{
			name:  "place records the exact total",
			given: []order.Event{created, addedA, addedB},
			when:  func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
			want:  []order.Event{order.Placed{OrderID: orderID, ShippingAddress: address, TotalAmount: dec("64.47")}},
		},
		{
			name:    "place an empty order",
			given:   []order.Event{created},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
			wantErr: order.ErrEmpty,
		},
		{
			name:    "place an empty order after removing its only item",
			given:   []order.Event{created, addedA, order.ItemRemoved{OrderID: orderID, ProductID: productA}},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
			wantErr: order.ErrEmpty,
		},
		{
			name:    "place twice",
			given:   []order.Event{created, addedA, placed},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
			wantErr: order.ErrNotDraft,
		},
		{
			name:  "ship a placed order",
			given: []order.Event{created, addedA, placed},
			when:  func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") },
			want:  []order.Event{shipped},
		},
		{
			name:    "ship a draft",
			given:   []order.Event{created, addedA},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") },
			wantErr: order.ErrNotPlaced,
		},
		{
			name:    "ship twice",
			given:   []order.Event{created, addedA, placed, shipped},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") },
			wantErr: order.ErrNotPlaced,
		},
		{
			name:  "deliver a shipped order",
			given: []order.Event{created, addedA, placed, shipped},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Deliver(t0.Add(time.Hour), t0.Add(time.Hour), "A. Lovelace")
			},
			want: []order.Event{order.Delivered{OrderID: orderID, DeliveredAt: t0.Add(time.Hour), Signature: "A. Lovelace"}},
		},
		{
			name:  "deliver a placed order",
			given: []order.Event{created, addedA, placed},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Deliver(t0.Add(time.Hour), t0.Add(time.Hour), "")
			},
			wantErr: order.ErrNotShipped,
		},
		{
			name:  "deliver twice",
			given: []order.Event{created, addedA, placed, shipped, deliv},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Deliver(t0.Add(time.Hour), t0.Add(time.Hour), "")
			},
			wantErr: order.ErrNotShipped,
		},
		{
			name:    "deliver before it was shipped",
			given:   []order.Event{created, addedA, placed, shipped},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Deliver(t0, t0.Add(time.Hour), "") },
			wantErr: &order.Error{Code: order.CodeValidation},
		},
		{
			name:  "cancel a draft",
			given: []order.Event{created},
			when:  func(o *order.Order) ([]order.Event, error) { return o.Cancel("changed mind", "customer") },
			want:  []order.Event{cancel},
		},
		{
			name:  "cancel a placed order",
			given: []order.Event{created, addedA, placed},
			when:  func(o *order.Order) ([]order.Event, error) { return o.Cancel("changed mind", "customer") },
			want:  []order.Event{cancel},
		},
		{
			name:    "cancel twice",
			given:   []order.Event{created, cancel},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Cancel("again", "customer") },
			wantErr: order.ErrAlreadyCancelled,
		},
		{
			name:    "cancel a shipped order",
			given:   []order.Event{created, addedA, placed, shipped},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Cancel("too late", "customer") },
			wantErr: order.ErrNotCancellable,
		},
		{
			name:    "cancel a delivered order",
			given:   []order.Event{created, addedA, placed, shipped, deliv},
			when:    func(o *order.Order) ([]order.Event, error) { return o.Cancel("too late", "customer") },
			wantErr: order.ErrNotCancellable,
		},
		{
			name:    "add item to a cancelled order",
			given:   []order.Event{created, cancel},
			when:    func(o *order.Order) ([]order.Event, error) { return o.AddItem(itemA()) },
			wantErr: order.ErrNotDraft,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given
			o := given(tt.given...)
			before := given(tt.given...)

			// When
			got, err := tt.when(&o)

			// Then
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("events = %v alongside an error", got)
				}
			} else {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("events = %#v\nwant %#v", got, tt.want)
				}
			}
			if !reflect.DeepEqual(o, before) {
				t.Errorf("a command changed the order: %#v", o)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	t.Run("records the order", func(t *testing.T) {
		got, err := order.Create(orderID, customerID, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		want := []order.Event{order.Created{OrderID: orderID, CustomerID: customerID, Currency: "EUR"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("events = %#v, want %#v", got, want)
		}
	})
	t.Run("lists every invalid field", func(t *testing.T) {
		_, err := order.Create(uuid.Nil, uuid.Nil, "usd")
		assertFields(t, err, "order_id", "customer_id", "currency")
	})
	t.Run("refuses an id of the variant that names other streams", func(t *testing.T) {
		_, err := order.Create(uuid.MustParse("0193a000-0000-7000-f000-000000000001"), customerID, "EUR")
		assertFields(t, err, "order_id")
	})
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name       string
		given      []order.Event
		when       func(o *order.Order) ([]order.Event, error)
		wantFields []string
	}{
		{
			name:  "quantity zero, negative price, blank name",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.AddItem(order.NewItem{ProductID: productA, ProductName: "  ", Quantity: 0, UnitPrice: price("-1")})
			},
			wantFields: []string{"product_name", "quantity", "unit_price"},
		},
		{
			name:  "quantity over the limit",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				it := itemA()
				it.Quantity = order.MaxQuantity + 1
				return o.AddItem(it)
			},
			wantFields: []string{"quantity"},
		},
		{
			name:  "price with five decimals",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				it := itemA()
				it.UnitPrice = price("1.00001")
				return o.AddItem(it)
			},
			wantFields: []string{"unit_price"},
		},
		{
			name:  "line total over the maximum amount",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				it := itemA()
				it.Quantity = 10
				it.UnitPrice = amountOf(order.MaxAmount)
				return o.AddItem(it)
			},
			wantFields: []string{"unit_price"},
		},
		{
			name:  "NUL byte and nil product",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.AddItem(order.NewItem{ProductName: "Mug\x00", Quantity: 1, UnitPrice: price("1")})
			},
			wantFields: []string{"product_id", "product_name"},
		},
		{
			name:  "invalid UTF-8 and too long",
			given: []order.Event{created, addedA},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Ship("\xff\xfe", strings.Repeat("x", 101))
			},
			wantFields: []string{"tracking_number", "carrier"},
		},
		{
			name:  "incomplete address",
			given: []order.Event{created, addedA},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Place(order.Address{Name: "Ada", Country: "gb"})
			},
			wantFields: []string{"shipping_address.line1", "shipping_address.city", "shipping_address.postal_code", "shipping_address.country"},
		},
		{
			name:  "cancel without reason or actor",
			given: []order.Event{created},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Cancel("", "")
			},
			wantFields: []string{"reason", "cancelled_by"},
		},
		{
			name:  "deliver without a time",
			given: []order.Event{created, addedA, placed, shipped},
			when: func(o *order.Order) ([]order.Event, error) {
				return o.Deliver(time.Time{}, t0, "")
			},
			wantFields: []string{"delivered_at"},
		},
		{
			name:  "invalid input wins over the state rule",
			given: []order.Event{created, cancel},
			when: func(o *order.Order) ([]order.Event, error) {
				it := itemA()
				it.Quantity = -1
				return o.AddItem(it)
			},
			wantFields: []string{"quantity"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := given(tt.given...)
			got, err := tt.when(&o)
			if got != nil {
				t.Errorf("events = %v alongside an error", got)
			}
			assertFields(t, err, tt.wantFields...)
		})
	}
}

func TestOrderTotalStaysInRange(t *testing.T) {
	// Given an order whose total is one cent below the maximum
	o := given(created, order.ItemAdded{OrderID: orderID, ProductID: productA, ProductName: "Yacht", Quantity: 1, UnitPrice: amountOf(order.MaxAmount.Sub(dec("0.01")))})

	// When a line of two cents is added
	_, err := o.AddItem(order.NewItem{ProductID: productB, ProductName: "Rope", Quantity: 2, UnitPrice: price("0.01")})

	// Then the rule refuses it
	if !errors.Is(err, order.ErrTotalOutOfRange) {
		t.Fatalf("error = %v, want %v", err, order.ErrTotalOutOfRange)
	}
}

func TestTooManyItems(t *testing.T) {
	history := []order.Event{created}
	for range order.MaxItemsPerOrder {
		history = append(history, order.ItemAdded{OrderID: orderID, ProductID: uuid.New(), ProductName: "Thing", Quantity: 1, UnitPrice: price("1")})
	}
	o := given(history...)
	_, err := o.AddItem(itemA())
	if !errors.Is(err, order.ErrTooManyItems) {
		t.Fatalf("error = %v, want %v", err, order.ErrTooManyItems)
	}
}

// longDraft is a draft order of n events: created, a line of product B
// that stays, then a line of product A added and removed in turn.
func longDraft(n int) order.Order {
	history := []order.Event{created, addedB}
	for len(history) < n {
		if len(history)%2 == 0 {
			history = append(history, addedA)
		} else {
			history = append(history, order.ItemRemoved{OrderID: orderID, ProductID: productA})
		}
	}
	return given(history...)
}

// longSingle is a draft of n events, n even, whose one item is product
// B: longDraft ends so at an even length.
func longSingle(n int) order.Order {
	o := longDraft(n)
	if n%2 != 0 || len(o.Items) != 1 {
		panic(fmt.Sprintf("longSingle(%d): %d items", n, len(o.Items)))
	}
	return o
}

func TestHistoryKeepsRoomToFinish(t *testing.T) {
	full := order.MaxEvents - order.ReservedEvents
	addC := func(o *order.Order) ([]order.Event, error) {
		return o.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: "Pot", Quantity: 1, UnitPrice: price("30")})
	}
	removeB := func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(productB) }

	t.Run("the last item change fits", func(t *testing.T) {
		// Given drafts one event short of the items' share of the history,
		// with one item, and two short, with two
		one, two := longDraft(full-1), longDraft(full-2)
		removeA := func(o *order.Order) ([]order.Event, error) { return o.RemoveItem(productA) }
		// When an item is added, or one of two removed, then it is recorded
		for _, c := range []struct {
			o    order.Order
			when func(*order.Order) ([]order.Event, error)
		}{{one, addC}, {two, addC}, {two, removeA}, {two, removeB}} {
			if events, err := c.when(&c.o); err != nil || len(events) != 1 {
				t.Fatalf("at %d events: %v, %v", c.o.Version, events, err)
			}
		}
	})

	t.Run("past it, items no longer change", func(t *testing.T) {
		// Given a draft with an item, at the items' share of the history
		o := longDraft(full)
		if o.Version != full || len(o.Items) == 0 {
			t.Fatalf("given version %d with %d items", o.Version, len(o.Items))
		}
		if got, want := o.AllowedActions(), []order.Action{order.ActionPlace, order.ActionCancel}; !reflect.DeepEqual(got, want) {
			t.Errorf("allowed actions %v, want %v", got, want)
		}
		// When an item is added or removed, then the history is full
		for _, when := range []func(*order.Order) ([]order.Event, error){addC, removeB} {
			_, err := when(&o)
			var e *order.Error
			if !errors.Is(err, order.ErrHistoryFull) || !errors.As(err, &e) || e.Kind != order.KindRule || !strings.Contains(e.Message, fmt.Sprint(order.MaxEvents)) {
				t.Fatalf("error = %v, want %v", err, order.ErrHistoryFull)
			}
		}
	})

	t.Run("the last item stays while there would be no room to add another", func(t *testing.T) {
		// Given drafts of one item (so at an even version), one event
		// short of the items' share of the history, and three short
		for _, tt := range []struct {
			version int
			refused bool
		}{{full - 1, true}, {full - 3, false}} {
			o := longSingle(tt.version)
			// When its last item is removed
			events, err := o.RemoveItem(productB)
			// Then it is refused where no item could be added after it
			if tt.refused != errors.Is(err, order.ErrHistoryFull) {
				t.Fatalf("at %d events: %v, %v; refused want %v", o.Version, events, err, tt.refused)
			}
			if tt.refused {
				continue
			}
			// And otherwise the empty draft can be filled, placed, shipped
			// and delivered within MaxEvents
			o.Apply(events[0], t0)
			for _, when := range []func(*order.Order) ([]order.Event, error){
				addC,
				func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
				func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") },
				func(o *order.Order) ([]order.Event, error) { return o.Deliver(o.ShippedAt, o.ShippedAt, "") },
			} {
				events, err := when(&o)
				if err != nil {
					t.Fatalf("at version %d: %v", o.Version, err)
				}
				o.Apply(events[0], t0)
			}
			if o.Version > order.MaxEvents || o.Status != order.StatusDelivered {
				t.Errorf("ended at version %d, %s", o.Version, o.Status)
			}
		}
	})

	t.Run("the order can still finish its life, within MaxEvents", func(t *testing.T) {
		for name, life := range map[string][]func(*order.Order) ([]order.Event, error){
			"delivered": {
				func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
				func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") },
				func(o *order.Order) ([]order.Event, error) { return o.Deliver(o.ShippedAt, o.ShippedAt, "") },
			},
			"cancelled when placed": {
				func(o *order.Order) ([]order.Event, error) { return o.Place(address) },
				func(o *order.Order) ([]order.Event, error) { return o.Cancel("changed mind", "customer") },
			},
			"cancelled as a draft": {
				func(o *order.Order) ([]order.Event, error) { return o.Cancel("changed mind", "customer") },
			},
		} {
			// Given a draft whose history is full for items
			o := longDraft(full)
			// When it goes through the rest of its life
			for _, when := range life {
				events, err := when(&o)
				if err != nil {
					t.Fatalf("%s: at version %d: %v", name, o.Version, err)
				}
				for _, e := range events {
					o.Apply(e, t0)
				}
			}
			// Then it ends, within the cap
			if o.Version > order.MaxEvents || len(o.AllowedActions()) != 0 {
				t.Errorf("%s: version %d, actions %v", name, o.Version, o.AllowedActions())
			}
		}
	})
}

func assertFields(t *testing.T, err error, want ...string) {
	t.Helper()
	var e *order.Error
	if !errors.As(err, &e) || e.Kind != order.KindInvalid {
		t.Fatalf("error = %v, want a validation error", err)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("invalid fields = %v, want %v", got, want)
	}
}

// A delivery time is a fact about the past: not before the shipment, not
// later than now beyond the clock skew allowed, within the time bounds.
func TestDeliverTimeBounds(t *testing.T) {
	shippedAt := t0.Add(3 * time.Second) // given replays one second per event
	now := shippedAt.Add(time.Hour)
	tests := []struct {
		name      string
		at        time.Time
		wantField string // the field code refused; "" when accepted
	}{
		{"now", now, ""},
		{"the moment it was shipped", shippedAt, ""},
		{"ahead by the skew allowed", now.Add(order.MaxClockSkew), ""},
		{"ahead by more than the skew allowed", now.Add(order.MaxClockSkew + time.Microsecond), order.FieldInFuture},
		{"a year ahead", now.AddDate(1, 0, 0), order.FieldInFuture},
		{"before the shipment", shippedAt.Add(-time.Microsecond), order.FieldBeforeShip},
		{"year 10000 in UTC", time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(23*3600+59*60))), order.FieldOutOfRange},
		{"before the earliest time", order.EarliestTime.Add(-time.Second), order.FieldOutOfRange},
		{"missing", time.Time{}, order.FieldRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given
			o := given(created, addedA, placed, shipped)
			// when
			events, err := o.Deliver(tt.at, now, "")
			// then
			if tt.wantField == "" {
				if err != nil || len(events) != 1 {
					t.Fatalf("Deliver(%s) = %v, %v; want one event", tt.at, events, err)
				}
				return
			}
			var oe *order.Error
			if !errors.As(err, &oe) || oe.Kind != order.KindInvalid || len(oe.Fields) != 1 ||
				oe.Fields[0].Field != "delivered_at" || oe.Fields[0].Code != tt.wantField {
				t.Fatalf("Deliver(%s) = %v, %#v; want %s on delivered_at", tt.at, events, err, tt.wantField)
			}
		})
	}
}

// The refusal of a delivery before the shipment names the shipment's time
// exactly, so that a client can send it back as the earliest it may.
func TestDeliverBeforeTheShipmentNamesItsTime(t *testing.T) {
	// Given an order shipped at a time with microseconds
	o := given(created, addedA, placed)
	shippedAt := t0.Add(time.Hour + 86305*time.Microsecond)
	o.Apply(shipped, shippedAt)
	// When it is delivered a microsecond before
	_, err := o.Deliver(shippedAt.Add(-time.Microsecond), shippedAt, "")
	// Then the error says when it was shipped, to the microsecond
	var e *order.Error
	if !errors.As(err, &e) || len(e.Fields) != 1 || !strings.Contains(e.Fields[0].Message, shippedAt.Format(time.RFC3339Nano)) {
		t.Fatalf("Deliver = %v, want the shipment time %s named", err, shippedAt.Format(time.RFC3339Nano))
	}
	// And that time itself is accepted
	if _, err := o.Deliver(shippedAt, shippedAt, ""); err != nil {
		t.Fatalf("Deliver at the shipment's time: %v", err)
	}
}
