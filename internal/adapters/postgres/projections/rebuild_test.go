package projections_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// projectedStore gives the test a store holding orders in every status,
// the analytics projection caught up with them, and the id of a placed
// order.
func projectedStore(t *testing.T) (*eventstore.Store, *pgxpool.Pool, uuid.UUID) {
	t.Helper()
	s, pool := newStore(t)
	customer := uuid.New()
	var placed uuid.UUID
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Hour)
		o := create(t, s, uuid.New(), customer, at)
		o = do(t, s, o, at, addItem("Espresso cup", "19.99", 3))
		if i == 0 {
			continue // a draft
		}
		o = do(t, s, o, at, place)
		switch i {
		case 1:
			placed = o.ID
		case 2:
			o = do(t, s, o, at, func(o *order.Order) ([]order.Event, error) { return o.Cancel("changed my mind", "ada") })
		case 3, 4:
			o = do(t, s, o, at, func(o *order.Order) ([]order.Event, error) { return o.Ship("1Z999", "UPS") })
			if i == 4 {
				do(t, s, o, at.Add(24*time.Hour), func(o *order.Order) ([]order.Event, error) {
					return o.Deliver(at.Add(24*time.Hour), at.Add(24*time.Hour), "A. L.")
				})
			}
		}
	}
	a := newAnalytics(t, s, analytics.Config{})
	stop := runAnalytics(t, a)
	waitCaughtUp(t, pool, a)
	stop()
	// The consumer's session ends a moment after its connection closes:
	// until it has, its lock says a consumer runs.
	waitNoAdvisoryLocks(t, pool)
	return s, pool, placed
}

// waitNoAdvisoryLocks waits until no session holds an advisory lock in
// the pool's database.
func waitNoAdvisoryLocks(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var held bool
		err := pool.QueryRow(context.Background(), `
SELECT EXISTS (SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&held)
		if err != nil {
			t.Fatal(err)
		}
		if !held {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an advisory lock is still held 10s after the consumer stopped")
		}
	}
}

func verifyProjections(t *testing.T, s *eventstore.Store) projections.VerifyReport {
	t.Helper()
	rep, err := projections.Verify(context.Background(), s, 100)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

// verifyInRanges is verifyProjections comparing chunk orders per
// transaction and calling after between two.
func verifyInRanges(t *testing.T, s *eventstore.Store, chunk int, after func()) projections.VerifyReport {
	t.Helper()
	rep, err := projections.VerifyInRanges(context.Background(), s, 100, chunk, after)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestVerifyPassesOnAConsistentStore(t *testing.T) {
	t.Parallel()
	s, _, _ := projectedStore(t)
	rep := verifyProjections(t, s)
	if rep.Total != 0 || len(rep.Differences) != 0 {
		t.Fatalf("differences on a consistent store:\n%s", strings.Join(rep.Differences, "\n"))
	}
	// 5 created, 5 items added, 4 placed, 1 cancelled, 2 shipped, 1 delivered
	if rep.Orders != 5 || rep.Events != 18 {
		t.Errorf("verified %d orders, %d events, want 5, 18", rep.Orders, rep.Events)
	}
}

// A database whose DateStyle is not ISO writes dates another way as
// text; verify compares the same days all the same.
func TestVerifyWhateverTheDateStyle(t *testing.T) {
	t.Parallel()
	// Given a consistent store on a database set to another DateStyle
	s, pool, _ := projectedStore(t)
	ctx := context.Background()
	db := pool.Config().ConnConfig.Database
	if _, err := pool.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" SET datestyle = 'SQL, DMY'"); err != nil {
		t.Fatal(err)
	}
	fresh, err := pgxpool.New(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	// When it is verified
	rep := verifyProjections(t, eventstore.New(fresh, eventstore.Config{Keyring: s.Keyring()}))
	// Then it has no differences
	if rep.Total != 0 {
		t.Fatalf("differences on a consistent store:\n%s", strings.Join(rep.Differences, "\n"))
	}
}

// TestVerifyFindsAndRebuildRepairs tampers with each projection: verify
// reports it, and a rebuild of that projection repairs it.
func TestVerifyFindsAndRebuildRepairs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		tamper     string // $1 is a placed order's id
		want       string // in the difference reported
		projection string
	}{
		"tampered total": {
			tamper:     `UPDATE order_details SET total = total + 1 WHERE order_id = $1`,
			want:       "order_details $1: total 60.97, want 59.97",
			projection: app.ProjectionOrderDetails,
		},
		"tampered items": {
			tamper:     `UPDATE order_details SET items = '[]', status = 'draft' WHERE order_id = $1`,
			want:       `order_details $1: status "draft", want "placed"`,
			projection: app.ProjectionOrderDetails,
		},
		"missing order_details row": {
			tamper:     `DELETE FROM order_details WHERE order_id = $1`,
			want:       "order_details $1: missing row (stream at version 3)",
			projection: app.ProjectionOrderDetails,
		},
		"missing customer_orders row": {
			tamper:     `DELETE FROM customer_orders WHERE order_id = $1`,
			want:       "/$1: missing row (stream at version 3)",
			projection: app.ProjectionCustomerOrders,
		},
		"extra order_details row": {
			tamper: `INSERT INTO order_details
SELECT '00000000-0000-4000-8000-00000000000e', customer_id, status, currency, items, item_count, total, shipping_address,
       tracking_number, carrier, signature, cancel_reason, cancelled_by, version, created_at, updated_at, placed_at,
       shipped_at, delivered_at, cancelled_at
  FROM order_details WHERE order_id = $1`,
			want:       "order_details 00000000-0000-4000-8000-00000000000e: row without a stream",
			projection: app.ProjectionOrderDetails,
		},
		"extra customer_orders row": {
			tamper: `INSERT INTO customer_orders
SELECT gen_random_uuid(), order_id, status, currency, total, item_count, version, created_at, updated_at
  FROM customer_orders WHERE order_id = $1`,
			want:       "/$1: row for another customer",
			projection: app.ProjectionCustomerOrders,
		},
		"wrong analytics figure": {
			tamper:     `UPDATE analytics_daily SET orders_placed = orders_placed + 1, revenue_placed = revenue_placed + 1 WHERE $1::uuid IS NOT NULL`,
			want:       "analytics_daily 2026-11-25 USD: orders_placed 5, want 4",
			projection: app.ProjectionAnalytics,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, pool, id := projectedStore(t)
			// Ranges of two orders: every difference is found whichever
			// range it falls in.
			verify := func() projections.VerifyReport { return verifyInRanges(t, s, 2, nil) }

			// Given a tampered projection
			if _, err := pool.Exec(ctx, tt.tamper, id); err != nil {
				t.Fatal(err)
			}

			// Then verify reports it
			rep := verify()
			want := strings.ReplaceAll(tt.want, "$1", id.String())
			if rep.Total == 0 || !strings.Contains(strings.Join(rep.Differences, "\n"), want) {
				t.Fatalf("differences:\n%s\nwant one containing %q", strings.Join(rep.Differences, "\n"), want)
			}

			// And a rebuild of that projection repairs it
			if _, err := projections.Rebuild(ctx, s, []string{tt.projection}, zerolog.Nop()); err != nil {
				t.Fatalf("rebuild: %v", err)
			}
			if rep := verify(); rep.Total != 0 {
				t.Fatalf("differences after the rebuild:\n%s", strings.Join(rep.Differences, "\n"))
			}
			if tt.projection == app.ProjectionAnalytics {
				assertExact(t, pool)
			}
		})
	}
}

// TestVerifyHoldsNoTableBetweenRanges: verification compares a range of
// orders per transaction, so that between two nothing of it holds the
// live tables (an operation that needs one to itself would wait for it,
// and the service's reads and writes behind that), while the service
// writes on.
func TestVerifyHoldsNoTableBetweenRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool, _ := projectedStore(t)
	pauses := 0
	rep := verifyInRanges(t, s, 2, func() {
		pauses++
		// An operation that needs the tables to itself gets them at once
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '1s'; LOCK TABLE events, order_details, customer_orders IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Errorf("an exclusive lock waited for verification: %v", err)
		}
		tx.Rollback(ctx)
		// And the service writes meanwhile
		o := create(t, s, uuid.New(), uuid.New(), t0)
		do(t, s, o, t0, addItem("Cup", "1.00", 1))
	})

	if pauses < 2 {
		t.Fatalf("%d pauses between ranges, want several", pauses)
	}
	if rep.Total != 0 {
		t.Fatalf("differences while the service wrote:\n%s", strings.Join(rep.Differences, "\n"))
	}
	if rep.Orders < 5 {
		t.Errorf("verified %d orders, want at least 5", rep.Orders)
	}
}

// TestRebuildKeepsTheSchema checks that the swapped-in tables have the
// live tables' indexes and constraints under their migration names.
func TestRebuildKeepsTheSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool, _ := projectedStore(t)
	const indexes = `
SELECT string_agg(indexrelid::regclass::text || ' ' || regexp_replace(pg_get_indexdef(indexrelid), '^.* USING ', ''), ', ' ORDER BY 1)
  FROM pg_index WHERE indrelid IN ('order_details'::regclass, 'customer_orders'::regclass)`
	var before, after string
	if err := pool.QueryRow(ctx, indexes).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.Rebuild(ctx, s, []string{app.ProjectionOrderDetails, app.ProjectionCustomerOrders}, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, indexes).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Errorf("indexes after the rebuild:\n%s\nbefore:\n%s", after, before)
	}
	var leftovers int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE '%\_next%'`).Scan(&leftovers); err != nil {
		t.Fatal(err)
	}
	if leftovers != 0 {
		t.Errorf("%d relations named *_next left", leftovers)
	}
	if rep := verifyProjections(t, s); rep.Total != 0 {
		t.Fatalf("differences after the rebuild:\n%s", strings.Join(rep.Differences, "\n"))
	}
}
