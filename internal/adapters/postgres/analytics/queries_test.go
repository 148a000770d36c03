package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analyticstest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestAnalyticsQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	a := newAnalytics(t, s, analytics.Config{})

	// Given a history the projection has counted
	h := newRandomHistory(t, s, 11)
	if err := h.run(ctx, 200); err != nil {
		t.Fatal(err)
	}
	stop := runAnalytics(t, a)
	waitCaughtUp(t, pool, a)
	stop()
	want, err := analyticstest.Recompute(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}

	// When a range of days is read, with and without a currency
	from, to := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, currency := range []string{"", "EUR"} {
		r, err := a.DailyFigures(ctx, app.AnalyticsQuery{From: from, To: to, Currency: order.Currency(currency)})
		if err != nil {
			t.Fatal(err)
		}

		// Then it has exactly the days of the range with activity, by
		// date then currency, as recomputed
		var keys []analyticstest.Key
		for k := range want {
			if k.Date >= "2026-03-02" && k.Date <= "2026-03-04" && (currency == "" || k.Currency == currency) {
				keys = append(keys, k)
			}
		}
		if len(r.Days) != len(keys) || len(keys) == 0 {
			t.Fatalf("currency %q: %d days, want %d", currency, len(r.Days), len(keys))
		}
		for i, d := range r.Days {
			k := analyticstest.Key{Date: d.Date.Format(time.DateOnly), Currency: string(d.Currency)}
			w := want[k]
			got := analyticstest.Figures{
				Created: d.OrdersCreated, Placed: d.OrdersPlaced, Shipped: d.OrdersShipped, Delivered: d.OrdersDelivered,
				Cancelled: d.OrdersCancelled, RevenuePlaced: d.RevenuePlaced, RevenueCancelled: d.RevenueCancelled, ItemsSold: d.ItemsSold,
			}
			if diff := analyticstest.Diff(map[analyticstest.Key]analyticstest.Figures{k: w}, map[analyticstest.Key]analyticstest.Figures{k: got}); diff != "" {
				t.Error(diff)
			}
			if i > 0 {
				prev := r.Days[i-1]
				if prev.Date.After(d.Date) || (prev.Date.Equal(d.Date) && prev.Currency >= d.Currency) {
					t.Errorf("day %d (%s %s) after %s %s", i, d.Date, d.Currency, prev.Date, prev.Currency)
				}
			}
		}
		// And the progress read with them is the caught-up checkpoint
		if r.Progress.Position != feedHead(t, pool) || r.Progress.LagEvents != 0 || r.Progress.Lag != 0 {
			t.Errorf("progress = %+v, want caught up at %+v", r.Progress, feedHead(t, pool))
		}
	}

	// Given more events the stopped consumer has not counted
	if err := h.run(ctx, 10); err != nil {
		t.Fatal(err)
	}
	var pending int64
	at, _ := a.AnalyticsPosition(ctx)
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::xid8, $2)`,
		at.TransactionID, at.Position).Scan(&pending); err != nil || pending == 0 {
		t.Fatalf("pending events: %d, %v", pending, err)
	}
	time.Sleep(20 * time.Millisecond)

	// Then the report shows the lag, in events and in time
	report, err := a.Projections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Projections) != 3 {
		t.Fatalf("projections = %+v", report.Projections)
	}
	head := feedHead(t, pool)
	for _, p := range report.Projections[:2] {
		if !p.Inline || p.Position != head || p.LagEvents != 0 || p.Lag != 0 || !p.UpdatedAt.IsZero() {
			t.Errorf("inline projection %+v, want at the head %+v", p, head)
		}
	}
	an := report.Projections[2]
	if an.Name != app.ProjectionAnalytics || an.Inline || an.Position != at || an.LagEvents != pending ||
		an.Lag < 20*time.Millisecond || an.UpdatedAt.IsZero() {
		t.Errorf("analytics = %+v, want at %+v with %d events pending for 20ms or more", an, at, pending)
	}
	if report.AnalyticsLockHeld {
		t.Error("the lock is reported held with no consumer running")
	}

	// And the event cursor of a position is found once committed
	c, ok, err := a.EventCursor(ctx, h.last)
	if err != nil || !ok || c.Position != h.last || c != head {
		t.Errorf("EventCursor(%d) = %+v, %v, %v; want the head %+v", h.last, c, ok, err, head)
	}
	if _, ok, err := a.EventCursor(ctx, h.last+1000); ok || err != nil {
		t.Errorf("EventCursor past the end = %v, %v", ok, err)
	}
}

// TestProjectionsReportOldestOpenTransaction holds a writing transaction
// open: the report names it as what holds the feed back.
func TestProjectionsReportOldestOpenTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	a := newAnalytics(t, s, analytics.Config{})
	stop := runAnalytics(t, a)
	defer stop()
	waitFor(t, "the consumer to take the lock", a.HoldsLock)

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var pid int32
	// A transaction id is what holds the feed's watermark back.
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid(), pg_current_xact_id()`).Scan(&pid, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	report, err := a.Projections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests' transactions on the server may be older still.
	ot := report.OldestOpenTransaction
	if ot == nil || ot.Age < 100*time.Millisecond || ot.Started.IsZero() || ot.PID == 0 {
		t.Errorf("oldest open transaction = %+v, want one at least 100ms old (ours is pid %d)", ot, pid)
	}
	if !report.AnalyticsLockHeld {
		t.Error("the running consumer's lock is not reported")
	}
}
