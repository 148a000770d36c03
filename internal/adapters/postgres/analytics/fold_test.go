package analytics

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// These tests need no database: the fold is pure.

var (
	foldOrder = uuid.MustParse("0193a000-0000-7000-8000-0000000000a1")
	cup       = uuid.MustParse("0193a000-0000-7000-8000-0000000000b1")
	saucer    = uuid.MustParse("0193a000-0000-7000-8000-0000000000b2")
)

func foldAmount(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func ptrTo[T any](v T) *T { return &v }

func TestFoldAnalytics(t *testing.T) {
	draft := func() *analyticsOrder {
		return &analyticsOrder{currency: "EUR", items: map[uuid.UUID]int64{cup: 3, saucer: 1}}
	}
	placed := func() *analyticsOrder {
		st := draft()
		st.placedTotal = ptrTo(foldAmount("64.47"))
		return st
	}
	tests := []struct {
		name      string
		given     *analyticsOrder
		when      order.Event
		wantState *analyticsOrder
		wantDay   dayFigures
	}{
		{
			name:      "created starts the state in its currency",
			when:      order.Created{OrderID: foldOrder, Currency: "JPY"},
			wantState: &analyticsOrder{currency: "JPY", items: map[uuid.UUID]int64{}},
			wantDay:   dayFigures{created: 1},
		},
		{
			name:      "an added item is remembered, not counted",
			given:     &analyticsOrder{currency: "EUR", items: map[uuid.UUID]int64{cup: 3}},
			when:      order.ItemAdded{OrderID: foldOrder, ProductID: saucer, Quantity: 1, UnitPrice: order.MustParseAmount("4.50")},
			wantState: draft(),
		},
		{
			name:      "a removed item is forgotten",
			given:     draft(),
			when:      order.ItemRemoved{OrderID: foldOrder, ProductID: saucer},
			wantState: &analyticsOrder{currency: "EUR", items: map[uuid.UUID]int64{cup: 3}},
		},
		{
			name:      "placed counts the order, its recorded total and its units",
			given:     draft(),
			when:      order.Placed{OrderID: foldOrder, TotalAmount: foldAmount("64.47")},
			wantState: placed(),
			wantDay:   dayFigures{placed: 1, revenuePlaced: foldAmount("64.47"), itemsSold: 4},
		},
		{
			name:      "shipped",
			given:     placed(),
			when:      order.Shipped{OrderID: foldOrder, TrackingNumber: "1Z", Carrier: "UPS"},
			wantState: placed(),
			wantDay:   dayFigures{shipped: 1},
		},
		{
			name:      "delivered",
			given:     placed(),
			when:      order.Delivered{OrderID: foldOrder, DeliveredAt: time.Now()},
			wantState: placed(),
			wantDay:   dayFigures{delivered: 1},
		},
		{
			name:      "a cancelled draft counts, with no revenue",
			given:     draft(),
			when:      order.Cancelled{OrderID: foldOrder, Reason: "r", CancelledBy: "customer"},
			wantState: draft(),
			wantDay:   dayFigures{cancelled: 1},
		},
		{
			name:      "a cancelled placed order takes back its placed total",
			given:     placed(),
			when:      order.Cancelled{OrderID: foldOrder, Reason: "r", CancelledBy: "customer"},
			wantState: placed(),
			wantDay:   dayFigures{cancelled: 1, revenueCancelled: foldAmount("64.47")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, day, err := foldAnalytics(tt.given, tt.when)
			if err != nil {
				t.Fatal(err)
			}
			if !sameState(st, tt.wantState) {
				t.Errorf("state = %+v, want %+v", st, tt.wantState)
			}
			if !sameFigures(day, tt.wantDay) {
				t.Errorf("day = %+v, want %+v", day, tt.wantDay)
			}
		})
	}
}

func TestFoldAnalyticsRefusesAStreamWithoutItsStart(t *testing.T) {
	if _, _, err := foldAnalytics(nil, order.Placed{OrderID: foldOrder}); !errors.Is(err, errNoOrderState) {
		t.Errorf("placed without state: %v, want errNoOrderState", err)
	}
	st := &analyticsOrder{currency: "USD", items: map[uuid.UUID]int64{}}
	if _, _, err := foldAnalytics(st, order.Created{OrderID: foldOrder, Currency: "USD"}); err == nil {
		t.Error("a second OrderCreated was folded")
	}
}

func TestAnalyticsBatchSumsPerUTCDayAndCurrency(t *testing.T) {
	// Given two orders in two currencies, with events either side of
	// midnight UTC; one time is given in another zone
	usd, eur := uuid.New(), uuid.New()
	paris := time.FixedZone("CET", 3600)
	beforeMidnight := time.Date(2026, 3, 1, 23, 59, 59, 999999000, time.UTC)
	midnight := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	b := newAnalyticsBatch(map[uuid.UUID]*analyticsOrder{})
	steps := []struct {
		id uuid.UUID
		e  order.Event
		at time.Time
	}{
		{usd, order.Created{OrderID: usd, Currency: "USD"}, beforeMidnight},
		{usd, order.ItemAdded{OrderID: usd, ProductID: cup, Quantity: 3, UnitPrice: order.MustParseAmount("19.99")}, beforeMidnight},
		{usd, order.Placed{OrderID: usd, TotalAmount: foldAmount("59.97")}, midnight},
		{eur, order.Created{OrderID: eur, Currency: "EUR"}, beforeMidnight},
		{eur, order.ItemAdded{OrderID: eur, ProductID: cup, Quantity: 2, UnitPrice: order.MustParseAmount("1.5")}, beforeMidnight},
		{eur, order.ItemAdded{OrderID: eur, ProductID: saucer, Quantity: 5, UnitPrice: order.MustParseAmount("1")}, beforeMidnight},
		{eur, order.ItemRemoved{OrderID: eur, ProductID: saucer}, beforeMidnight},
		// 00:30 in Paris is 23:30 UTC the day before
		{eur, order.Placed{OrderID: eur, TotalAmount: foldAmount("3.0")}, time.Date(2026, 3, 2, 0, 30, 0, 0, paris)},
		{eur, order.Cancelled{OrderID: eur, Reason: "r", CancelledBy: "shop"}, midnight},
		{usd, order.Cancelled{OrderID: usd, Reason: "r", CancelledBy: "shop"}, midnight.Add(24*time.Hour - time.Microsecond)},
	}

	// When the batch folds them
	for _, s := range steps {
		if err := b.fold(s.id, s.e, s.at); err != nil {
			t.Fatal(err)
		}
	}

	// Then each event counts on its UTC day, in its order's currency
	want := map[dayKey]dayFigures{
		{"2026-03-01", "USD"}: {created: 1},
		{"2026-03-02", "USD"}: {placed: 1, revenuePlaced: foldAmount("59.97"), itemsSold: 3, cancelled: 1, revenueCancelled: foldAmount("59.97")},
		{"2026-03-01", "EUR"}: {created: 1, placed: 1, revenuePlaced: foldAmount("3"), itemsSold: 2},
		{"2026-03-02", "EUR"}: {cancelled: 1, revenueCancelled: foldAmount("3")},
	}
	if len(b.days) != len(want) {
		t.Errorf("days = %v, want %v", b.days, want)
	}
	for k, w := range want {
		if got, ok := b.days[k]; !ok || !sameFigures(*got, w) {
			t.Errorf("%v = %+v, want %+v", k, got, w)
		}
	}
	if keys := b.dayKeys(); !reflect.DeepEqual(keys, []dayKey{{"2026-03-01", "EUR"}, {"2026-03-01", "USD"}, {"2026-03-02", "EUR"}, {"2026-03-02", "USD"}}) {
		t.Errorf("day keys = %v", keys)
	}
	if ids := b.changedOrders(); len(ids) != 2 {
		t.Errorf("changed orders = %v", ids)
	}
}

func TestAnalyticsOrderRowConverters(t *testing.T) {
	id := uuid.New()
	tests := map[string]*analyticsOrder{
		"draft without items": {currency: "USD", items: map[uuid.UUID]int64{}},
		"draft":               {currency: "JPY", items: map[uuid.UUID]int64{cup: 1, saucer: 1_000_000}},
		"placed":              {currency: "KWD", items: map[uuid.UUID]int64{cup: 2}, placedTotal: ptrTo(foldAmount("9999999999999.9999"))},
		"placed at zero":      {currency: "EUR", items: map[uuid.UUID]int64{cup: 2}, placedTotal: ptrTo(foldAmount("0.00"))},
	}
	for name, st := range tests {
		t.Run(name, func(t *testing.T) {
			row, err := analyticsOrderRowOf(id, st)
			if err != nil {
				t.Fatal(err)
			}
			if row.OrderID != id || row.Currency != string(st.currency) {
				t.Errorf("row = %+v", row)
			}
			back, err := row.toState()
			if err != nil {
				t.Fatal(err)
			}
			if !sameState(back, st) {
				t.Errorf("round trip: %+v, want %+v", back, st)
			}
		})
	}
	bad := map[string]analyticsOrderRow{
		"items not JSON":      {OrderID: id, Currency: "USD", Items: "[1"},
		"item not a UUID":     {OrderID: id, Currency: "USD", Items: `{"cup": 1}`},
		"quantity not > 0":    {OrderID: id, Currency: "USD", Items: `{"` + cup.String() + `": 0}`},
		"total not a decimal": {OrderID: id, Currency: "USD", Items: `{}`, PlacedTotal: ptrTo("ten")},
	}
	for name, row := range bad {
		if _, err := row.toState(); err == nil {
			t.Errorf("%s: accepted %+v", name, row)
		}
	}
}

func TestDailyRowToFigures(t *testing.T) {
	r := dailyRow{
		Date: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Currency: "USD",
		OrdersCreated: 1, OrdersPlaced: 2, OrdersShipped: 3, OrdersDelivered: 4, OrdersCancelled: 5,
		RevenuePlaced: "119.94", RevenueCancelled: "0", ItemsSold: 6,
	}
	f, err := r.toFigures()
	if err != nil {
		t.Fatal(err)
	}
	if !f.Date.Equal(r.Date) || f.Date.Location() != time.UTC || f.Currency != "USD" ||
		f.OrdersCreated != 1 || f.OrdersPlaced != 2 || f.OrdersShipped != 3 || f.OrdersDelivered != 4 || f.OrdersCancelled != 5 ||
		!f.RevenuePlaced.Equal(foldAmount("119.94")) || !f.RevenueCancelled.IsZero() || f.ItemsSold != 6 {
		t.Errorf("figures = %+v", f)
	}
	r.RevenueCancelled = "x"
	if _, err := r.toFigures(); err == nil {
		t.Error("a bad amount was accepted")
	}
}

func sameState(a, b *analyticsOrder) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.currency != b.currency || !reflect.DeepEqual(a.items, b.items) || (a.placedTotal == nil) != (b.placedTotal == nil) {
		return false
	}
	return a.placedTotal == nil || a.placedTotal.Equal(*b.placedTotal)
}

func sameFigures(a, b dayFigures) bool {
	return a.created == b.created && a.placed == b.placed && a.shipped == b.shipped && a.delivered == b.delivered &&
		a.cancelled == b.cancelled && a.itemsSold == b.itemsSold &&
		a.revenuePlaced.Equal(b.revenuePlaced) && a.revenueCancelled.Equal(b.revenueCancelled)
}
