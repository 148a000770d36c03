//go:build faults

package faults

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/shopspring/decimal"
)

// storedEvent is a row of the event store, as the checks need it.
type storedEvent struct {
	Position int64
	StreamID uuid.UUID
	Version  int
	EventID  uuid.UUID
}

func readEvents(ctx context.Context, pool *pgxpool.Pool) ([]storedEvent, error) {
	rows, err := pool.Query(ctx, `SELECT position, stream_id, stream_version, event_id FROM events ORDER BY stream_id, stream_version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[storedEvent])
}

// checkStreams: every acknowledged command is in the store, at the version
// and position it was acknowledged with; every stream runs 1..n without a
// gap or a duplicate; and every event was acknowledged (every command sent
// was, in the end), so nothing was written twice.
func checkStreams(t *testing.T, events []storedEvent, acks []ack) {
	t.Helper()
	byPosition := map[int64]storedEvent{}
	streams := map[uuid.UUID][]int{}
	for _, e := range events {
		if _, dup := byPosition[e.Position]; dup {
			t.Errorf("position %d appears twice", e.Position)
		}
		byPosition[e.Position] = e
		streams[e.StreamID] = append(streams[e.StreamID], e.Version)
	}
	for id, versions := range streams {
		for i, v := range versions {
			if v != i+1 {
				t.Errorf("order %s has versions %v: a gap or a duplicate", id, versions)
				break
			}
		}
	}
	acked := map[uuid.UUID][]int{}
	for _, a := range acks {
		e, ok := byPosition[a.position]
		switch {
		case !ok:
			t.Errorf("lost: %s acknowledged at version %d, position %d, not in the store", a.what, a.version, a.position)
		case e.StreamID != a.orderID || e.Version != a.version:
			t.Errorf("%s acknowledged as %s v%d at position %d, which holds %s v%d", a.what, a.orderID, a.version, a.position, e.StreamID, e.Version)
		}
		acked[a.orderID] = append(acked[a.orderID], a.version)
	}
	for id, versions := range acked {
		slices.Sort(versions)
		for i, v := range versions {
			if v != i+1 || len(versions) != len(streams[id]) {
				t.Errorf("order %s: %d events in the store, acknowledged versions %v", id, len(streams[id]), versions)
				break
			}
		}
	}
	for id := range streams {
		if _, ok := acked[id]; !ok {
			t.Errorf("order %s is in the store but no command on it was acknowledged", id)
		}
	}
	if len(events) != len(acks) {
		t.Errorf("%d events in the store for %d acknowledged commands: something was doubled or lost", len(events), len(acks))
	}
}

// checkProjections: order_details and customer_orders equal a replay of
// each order's events.
func checkProjections(t *testing.T, ctx context.Context, store *eventstore.Store, events []storedEvent) {
	t.Helper()
	summaries := map[uuid.UUID]app.OrderSummary{}
	for _, customer := range customers {
		q := app.ListQuery{CustomerID: uuid.MustParse(customer), Limit: app.MaxPageSize}
		for {
			page, err := store.ListCustomerOrders(ctx, q)
			if err != nil {
				t.Fatalf("list customer %s: %v", customer, err)
			}
			for _, s := range page.Orders {
				summaries[s.ID] = s
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
	}
	seen := map[uuid.UUID]bool{}
	for _, e := range events {
		if seen[e.StreamID] {
			continue
		}
		seen[e.StreamID] = true
		replayed, err := store.Load(ctx, e.StreamID)
		if err != nil {
			t.Fatalf("replay %s: %v", e.StreamID, err)
		}
		projected, err := store.GetOrder(ctx, e.StreamID)
		if err != nil {
			t.Fatalf("order_details %s: %v", e.StreamID, err)
		}
		if !sameOrder(projected, replayed) {
			t.Errorf("order_details of %s differs from its replay:\nprojected %+v\nreplayed  %+v", e.StreamID, projected, replayed)
		}
		if got, want := summaries[e.StreamID], summaryOf(replayed); !sameSummary(got, want) {
			t.Errorf("customer_orders row of %s:\n got %+v\nwant %+v", e.StreamID, got, want)
		}
	}
	if len(summaries) != len(seen) {
		t.Errorf("customer_orders has %d orders, the event store %d", len(summaries), len(seen))
	}
}

func sameOrder(a, b order.Order) bool {
	if len(a.Items) == 0 {
		a.Items = nil
	}
	if len(b.Items) == 0 {
		b.Items = nil
	}
	return reflect.DeepEqual(a, b)
}

func summaryOf(o order.Order) app.OrderSummary {
	return app.OrderSummary{ID: o.ID, CustomerID: o.CustomerID, Status: o.Status, Currency: o.Currency, Total: o.Total(),
		ItemCount: o.ItemCount(), Version: o.Version, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// sameSummary compares totals by value, not by their decimal exponents.
func sameSummary(a, b app.OrderSummary) bool {
	if !a.Total.Equal(b.Total) {
		return false
	}
	a.Total, b.Total = decimal.Decimal{}, decimal.Decimal{}
	return reflect.DeepEqual(a, b)
}

// checkOnce: ids holds every stored event exactly once.
func checkOnce(t *testing.T, what string, ids []string, events []storedEvent) {
	t.Helper()
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	for id, n := range count {
		if n > 1 {
			t.Errorf("%s: event %s %d times", what, id, n)
		}
	}
	missing := 0
	for _, e := range events {
		if count[e.EventID.String()] == 0 {
			missing++
		}
	}
	if missing > 0 || len(count) != len(events) {
		t.Errorf("%s: %d distinct events, %d missing, of the %d stored", what, len(count), missing, len(events))
	}
}

// readFeed reads the whole feed from the start, page by page.
func readFeed(ctx context.Context, c *client) ([]string, error) {
	var ids []string
	after := ""
	for {
		var page struct {
			Events []struct {
				EventID string `json:"event_id"`
			} `json:"events"`
			NextCursor string `json:"next_cursor"`
		}
		path := "/v1/events?limit=1000"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		if err := c.get(ctx, path, &page); err != nil {
			return nil, err
		}
		if len(page.Events) == 0 {
			return ids, nil
		}
		for _, e := range page.Events {
			ids = append(ids, e.EventID)
		}
		after = page.NextCursor
	}
}

// checkAnalytics: once the consumer has counted the last event, the daily
// figures equal a recomputation from the event store.
func checkAnalytics(t *testing.T, ctx context.Context, c *client, pool *pgxpool.Pool, events []storedEvent) {
	t.Helper()
	last := slices.MaxFunc(events, func(a, b storedEvent) int { return cmp.Compare(a.Position, b.Position) }).Position
	today := time.Now().UTC()
	var doc struct {
		Days []struct {
			Date             string `json:"date"`
			Currency         string `json:"currency"`
			OrdersCreated    int64  `json:"orders_created"`
			OrdersPlaced     int64  `json:"orders_placed"`
			OrdersShipped    int64  `json:"orders_shipped"`
			OrdersDelivered  int64  `json:"orders_delivered"`
			OrdersCancelled  int64  `json:"orders_cancelled"`
			RevenuePlaced    string `json:"revenue_placed"`
			RevenueCancelled string `json:"revenue_cancelled"`
			ItemsSold        int64  `json:"items_sold"`
		} `json:"days"`
	}
	path := fmt.Sprintf("/v1/analytics/daily?from=%s&to=%s&min_position=%d",
		today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly), last)
	if err := c.get(ctx, path, &doc); err != nil {
		t.Fatalf("analytics: %v", err)
	}
	got := map[analyticstest.Key]analyticstest.Figures{}
	for _, d := range doc.Days {
		got[analyticstest.Key{Date: d.Date, Currency: d.Currency}] = analyticstest.Figures{
			Created: d.OrdersCreated, Placed: d.OrdersPlaced, Shipped: d.OrdersShipped, Delivered: d.OrdersDelivered,
			Cancelled: d.OrdersCancelled, ItemsSold: d.ItemsSold,
			RevenuePlaced: decimal.RequireFromString(d.RevenuePlaced), RevenueCancelled: decimal.RequireFromString(d.RevenueCancelled),
		}
	}
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if diff := analyticstest.Diff(want, got); diff != "" {
		t.Errorf("the analytics figures differ from a recomputation from the events:\n%s", diff)
	}
}
