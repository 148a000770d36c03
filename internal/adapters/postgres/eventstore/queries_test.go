package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// customerFixture is five orders of one customer, newest last, two of them
// created at the same instant so the order id breaks the tie, and two
// orders of another customer interleaved in time.
type customerFixture struct {
	customer uuid.UUID
	// newestFirst is the customer's order ids in list order.
	newestFirst []uuid.UUID
	cancelled   uuid.UUID
}

func newCustomerFixture(t *testing.T, s *eventstore.Store) customerFixture {
	t.Helper()
	f := customerFixture{customer: uuid.New()}
	other := uuid.New()
	created := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute), t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}
	var orders []order.Order
	for i, at := range created {
		orders = append(orders, create(t, s, uuid.New(), f.customer, at))
		create(t, s, uuid.New(), other, at.Add(time.Duration(i)*time.Second))
	}
	// Later changes move updated_at, never the list order.
	orders[0] = do(t, s, orders[0], t0.Add(time.Hour), addItem("Mug", "19.99", 2))
	orders[0] = do(t, s, orders[0], t0.Add(2*time.Hour), place)
	orders[1] = do(t, s, orders[1], t0.Add(time.Hour), func(o *order.Order) ([]order.Event, error) { return o.Cancel("no", "customer") })
	f.cancelled = orders[1].ID

	slices.SortFunc(orders, func(a, b order.Order) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return -compareUUID(a.ID, b.ID)
	})
	for _, o := range orders {
		f.newestFirst = append(f.newestFirst, o.ID)
	}
	return f
}

// compareUUID orders ids as PostgreSQL orders uuid values: bytewise.
func compareUUID(a, b uuid.UUID) int {
	return slices.Compare(a[:], b[:])
}

func summaryIDs(sums []app.OrderSummary) []uuid.UUID {
	ids := make([]uuid.UUID, len(sums))
	for i, s := range sums {
		ids[i] = s.ID
	}
	return ids
}

func TestListCustomerOrders(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	f := newCustomerFixture(t, s)
	ctx := context.Background()

	t.Run("newest first, only the customer's", func(t *testing.T) {
		page, err := s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: f.customer, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := summaryIDs(page.Orders); !slices.Equal(got, f.newestFirst) || page.Next != nil {
			t.Errorf("ids %v next %v\nwant %v and no next page", got, page.Next, f.newestFirst)
		}
		for _, sum := range page.Orders {
			if sum.CustomerID != f.customer {
				t.Errorf("order %s of customer %s listed", sum.ID, sum.CustomerID)
			}
		}
	})

	t.Run("status filter", func(t *testing.T) {
		page, err := s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: f.customer, Status: order.StatusCancelled, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := summaryIDs(page.Orders); !slices.Equal(got, []uuid.UUID{f.cancelled}) || page.Next != nil {
			t.Errorf("cancelled orders %v next %v, want [%s]", got, page.Next, f.cancelled)
		}
		page, err = s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: f.customer, Status: order.StatusDraft, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Orders) != 2 || page.Next == nil {
			t.Fatalf("draft page %v next %v, want 2 orders and a next page", summaryIDs(page.Orders), page.Next)
		}
		rest, err := s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: f.customer, Status: order.StatusDraft, Limit: 2, After: page.Next})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(summaryIDs(page.Orders), summaryIDs(rest.Orders)...); len(got) != 3 || rest.Next != nil {
			t.Errorf("draft orders %v next %v, want 3 and no next page", got, rest.Next)
		}
	})

	t.Run("pages of two walk every order once", func(t *testing.T) {
		var (
			seen  []uuid.UUID
			after *app.Cursor
			sizes []int
		)
		for range 10 {
			page, err := s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: f.customer, Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, summaryIDs(page.Orders)...)
			sizes = append(sizes, len(page.Orders))
			if page.Next == nil {
				break
			}
			after = page.Next
		}
		if !slices.Equal(seen, f.newestFirst) || !slices.Equal(sizes, []int{2, 2, 1}) {
			t.Errorf("walked %v in pages %v\nwant %v in pages [2 2 1]", seen, sizes, f.newestFirst)
		}
	})

	t.Run("unknown customer", func(t *testing.T) {
		page, err := s.ListCustomerOrders(ctx, app.ListQuery{CustomerID: uuid.New(), Limit: 10})
		if err != nil || len(page.Orders) != 0 || page.Next != nil {
			t.Errorf("page %+v, %v; want empty", page, err)
		}
	})
}

func TestListCustomerOrdersSummary(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)

	// Given a placed order with exact amounts
	o := create(t, s, uuid.New(), uuid.New(), t0)
	o = do(t, s, o, t0.Add(time.Second), addItem("Mug", "19.99", 3))
	o = do(t, s, o, t0.Add(2*time.Second), addItem("Pin", "0.0001", 1))
	o = do(t, s, o, t0.Add(3*time.Second), place)

	// When its customer's orders are listed
	page, err := s.ListCustomerOrders(context.Background(), app.ListQuery{CustomerID: o.CustomerID})

	// Then the summary is the order's, to the last digit
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("page %+v, %v", page, err)
	}
	got := page.Orders[0]
	if got.Total.String() != "59.9701" || got.ItemCount != 4 || got.Status != order.StatusPlaced || got.Version != 4 ||
		got.CreatedAt != t0 || got.UpdatedAt != t0.Add(3*time.Second) || got.Currency != "USD" {
		t.Errorf("summary %+v", got)
	}
}

func TestGetOrderUnknown(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)

	_, err := s.GetOrder(context.Background(), uuid.New())

	if !errors.Is(err, order.ErrNotFound) {
		t.Errorf("get unknown order: %v, want order.ErrNotFound", err)
	}
}
