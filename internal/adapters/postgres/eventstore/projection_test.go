package eventstore_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

func TestProjectionsEqualReplay(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	// A fixed seed: random-ish histories, the same on every run.
	rng := rand.New(rand.NewPCG(20261125, 1))

	// Given several orders of two customers, driven by random commands
	customers := []uuid.UUID{uuid.New(), uuid.New()}
	orders := make([]order.Order, 8)
	at := t0
	for i := range orders {
		at = at.Add(time.Second)
		orders[i] = create(t, s, uuid.New(), customers[i%2], at)
	}
	for range 150 {
		i := rng.IntN(len(orders))
		at = at.Add(time.Duration(rng.IntN(5_000_000)+1) * time.Microsecond)
		if events, ok := randomCommand(rng, orders[i], at); ok {
			orders[i] = mustAppend(t, s, commitOf(t, orders[i], at, events...))
		}
	}

	for _, o := range orders {
		// When the order is replayed and read from the projections
		replayed, err := s.Load(ctx, o.ID)
		if err != nil {
			t.Fatalf("load %s: %v", o.ID, err)
		}
		projected, err := s.GetOrder(ctx, o.ID)
		if err != nil {
			t.Fatalf("get %s: %v", o.ID, err)
		}

		// Then order_details is the replay, and both are the live state
		if !sameOrder(projected, replayed) || !sameOrder(replayed, o) {
			t.Errorf("order %s (%s, v%d):\nprojected %+v\nreplayed  %+v\nlive      %+v", o.ID, o.Status, o.Version, projected, replayed, o)
		}
		// And customer_orders has the replay's summary
		if got, want := findSummary(t, s, replayed), summaryOf(replayed); !sameSummary(got, want) {
			t.Errorf("customer_orders row %+v, want %+v", got, want)
		}
	}
}

// randomCommand decides a random command on o; false when the domain
// refuses it, which random commands often are.
func randomCommand(rng *rand.Rand, o order.Order, at time.Time) ([]order.Event, bool) {
	prices := []string{"19.99", "0.0001", "4.50", "1000", "0.10", "12345.6789"}
	var (
		events []order.Event
		err    error
	)
	// Weighted so that most orders live a while before they end.
	switch n := rng.IntN(30); {
	case n < 12:
		events, err = o.AddItem(order.NewItem{
			ProductID:   uuid.New(),
			ProductName: []string{"Mug", "Thé vert 🍵", "Ünïcödé"}[rng.IntN(3)],
			Quantity:    int64(rng.IntN(5) + 1),
			UnitPrice:   price(prices[rng.IntN(len(prices))]),
		})
	case n < 17:
		if len(o.Items) == 0 {
			return nil, false
		}
		events, err = o.RemoveItem(o.Items[rng.IntN(len(o.Items))].ProductID)
	case n < 20:
		events, err = o.Place(address)
	case n < 24:
		events, err = o.Ship("1Z"+uuid.NewString()[:8], "UPS")
	case n < 28:
		events, err = o.Deliver(at, at, []string{"", "A. Lovelace"}[rng.IntN(2)])
	default:
		events, err = o.Cancel("changed mind", "customer")
	}
	return events, err == nil
}

func findSummary(t *testing.T, s *eventstore.Store, o order.Order) app.OrderSummary {
	t.Helper()
	page, err := s.ListCustomerOrders(context.Background(), app.ListQuery{CustomerID: o.CustomerID, Limit: app.MaxPageSize})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, sum := range page.Orders {
		if sum.ID == o.ID {
			return sum
		}
	}
	t.Fatalf("order %s not in its customer's list", o.ID)
	return app.OrderSummary{}
}

// summaryOf is the customer_orders row an order's state should have.
func summaryOf(o order.Order) app.OrderSummary {
	return app.OrderSummary{
		ID:         o.ID,
		CustomerID: o.CustomerID,
		Status:     o.Status,
		Currency:   o.Currency,
		Total:      o.Total(),
		ItemCount:  o.ItemCount(),
		Version:    o.Version,
		CreatedAt:  o.CreatedAt,
		UpdatedAt:  o.UpdatedAt,
	}
}

// sameSummary compares totals by value: an order without items totals
// decimal.Zero, whose internal exponent text cannot carry.
func sameSummary(a, b app.OrderSummary) bool {
	if !a.Total.Equal(b.Total) {
		return false
	}
	a.Total, b.Total = decimal.Decimal{}, decimal.Decimal{}
	return reflect.DeepEqual(a, b)
}

func TestProjectionVersionGuard(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()

	// Given an order at version 1 whose projection rows already hold a
	// state at version 2, as if this commit's projection write had been
	// applied before (marked by a status no commit writes)
	o := create(t, s, uuid.New(), uuid.New(), t0)
	if _, err := pool.Exec(ctx, `UPDATE order_details SET version = 2, status = 'marker'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE customer_orders SET version = 3, status = 'marker'`); err != nil {
		t.Fatal(err)
	}
	before := projectionRows(t, pool)

	// When the version-2 commit is appended
	mustAppend(t, s, commitOf(t, o, t0.Add(time.Second), mustDecide(t, o, addItem("Mug", "19.99", 1))...))

	// Then its events are stored, but neither projection row changes: the
	// same (order_details) or a newer (customer_orders) version wins
	assertStream(t, pool, o.ID, 2)
	if after := projectionRows(t, pool); after != before {
		t.Errorf("projection rows changed:\nbefore %s\nafter  %s", before, after)
	}
}

// projectionRows returns both projections' rows as text.
func projectionRows(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var rows string
	err := pool.QueryRow(context.Background(), `
SELECT concat_ws(E'\n',
    (SELECT coalesce(jsonb_agg(to_jsonb(d) ORDER BY order_id), '[]') FROM order_details d),
    (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY order_id), '[]') FROM customer_orders c))`).Scan(&rows)
	if err != nil {
		t.Fatalf("read projections: %v", err)
	}
	return rows
}

func TestDetailsTotalIsCodecsTextOfTheTotal(t *testing.T) {
	t.Parallel()
	for _, items := range [][]order.Item{
		nil,
		{{ProductID: uuid.New(), Quantity: 3, UnitPrice: price("4.50")}, {ProductID: uuid.New(), Quantity: 1, UnitPrice: price("0.0125")}},
		// Beyond int64, which no order within the rules reaches.
		{{ProductID: uuid.New(), Quantity: order.MaxQuantity, UnitPrice: price("9999999999999.9999")}, {ProductID: uuid.New(), Quantity: 7, UnitPrice: price("1")}},
	} {
		// Given an order with these items
		o := order.Order{ID: uuid.New(), Currency: "EUR", Status: order.StatusDraft, Items: items, Version: 1}

		// When its projection row is made
		row, err := eventstore.DetailsFromOrder(o)

		// Then its total is the exact total as the codec writes it
		if want := codec.FormatAmount(o.Total()); err != nil || row.Total != want {
			t.Errorf("total %q, %v; want %q", row.Total, err, want)
		}
	}
}
