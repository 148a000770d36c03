package standby_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
)

// TestPostgreSQLReportsPromotion: what RecoveryTracer relies on. A
// connection to a standby is told in_hot_standby "on" at connect; once the
// server is promoted, the next query on it ends with "off", and a new
// connection is told "off" at connect.
func TestPostgreSQLReportsPromotion(t *testing.T) {
	t.Parallel()
	// Given a connection to a standby
	_, sc := pgtest.NewReplicated(t, "orderapi")
	ctx := t.Context()
	old, err := pgx.Connect(ctx, sc.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close(context.Background())
	if got := old.PgConn().ParameterStatus("in_hot_standby"); got != "on" {
		t.Fatalf("in_hot_standby at connect to a standby: %q, want on", got)
	}

	// When the standby is promoted
	if err := sc.Promote(); err != nil {
		t.Fatal(err)
	}

	// Then a query on the old connection ends with it "off"
	if _, err := old.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if got := old.PgConn().ParameterStatus("in_hot_standby"); got != "off" {
		t.Errorf("in_hot_standby after a query on a promoted server: %q, want off", got)
	}
	// And a new connection is told so at connect
	fresh, err := pgx.Connect(ctx, sc.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close(context.Background())
	if got := fresh.PgConn().ParameterStatus("in_hot_standby"); got != "off" {
		t.Errorf("in_hot_standby at connect to a promoted server: %q, want off", got)
	}
}

// TestPromotedStandbyIsNeverRead: reads go on in a loop while the standby
// is promoted and written to; none shows the write made on it alone, and
// once it is written, the primary answers, though no health check has
// run since.
func TestPromotedStandbyIsNeverRead(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation, whose next check is an hour away, that
	// has an order; and readers of the order in a loop
	f := newFixture(t, standby.Config{CheckEvery: time.Hour})
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)
	const leaked = 100 // added to the version on the promoted server alone
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		leaks   []app.ReadSource
		readErr error
	)
	read := func() (int, app.ReadSource, error) {
		o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id})
		if err == nil && o.Version >= leaked {
			mu.Lock()
			leaks = append(leaks, src)
			mu.Unlock()
		}
		return o.Version, src, err
	}
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if _, _, err := read(); err != nil {
					mu.Lock()
					readErr = err
					mu.Unlock()
					return
				}
			}
		})
	}

	// When it is promoted and the order is changed on it alone
	promoteAndChange(t, f, id, leaked)

	// Then no read shows the change, and from now on the primary answers
	for i := range 20 {
		if v, src, err := read(); err != nil || src.Name != "primary" {
			t.Errorf("read %d after the promoted server was written: version %d from %+v (%v), want the primary's", i, v, src, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if readErr != nil {
		t.Errorf("a read failed: %v", readErr)
	}
	if len(leaks) > 0 {
		t.Errorf("%d reads showed the write made on the promoted server alone, from %+v", len(leaks), leaks[0])
	}
	if st := f.state(); st.InRotation || st.Checks != 1 {
		t.Errorf("standby %+v: want it out of rotation after its one check", st)
	}
}

// TestPromotedStandbyIsNeverReadByCoalescedReads: reads of one order that
// arrive together share one statement, run in the context of the first
// of them; the promotion it reports discards the answer of every one.
func TestPromotedStandbyIsNeverReadByCoalescedReads(t *testing.T) {
	t.Parallel()
	// Given a standby in rotation, whose next check is an hour away, that
	// has been promoted and written to since it last answered
	f := newFixture(t, standby.Config{CheckEvery: time.Hour})
	p, meta := customer()
	id, _ := f.createOrder(t, p, meta)
	f.standby.CatchUp(t, f.primary)
	const leaked = 100
	promoteAndChange(t, f, id, leaked)

	// When many reads of the order start at once
	const readers = 32
	var (
		start sync.WaitGroup
		wg    sync.WaitGroup
		mu    sync.Mutex
		bad   []string
	)
	start.Add(1)
	for range readers {
		wg.Go(func() {
			start.Wait()
			o, src, err := f.svc.ReadOrder(t.Context(), p, app.OrderQuery{ID: id})
			if err != nil || o.Version >= leaked {
				mu.Lock()
				bad = append(bad, fmt.Sprintf("version %d from %+v (%v)", o.Version, src, err))
				mu.Unlock()
			}
		})
	}
	start.Done()
	wg.Wait()

	// Then every one has the primary's answer
	if len(bad) > 0 {
		t.Errorf("%d of %d reads were not the primary's answer, the first: %s", len(bad), readers, bad[0])
	}
}

// promoteAndChange promotes the fixture's standby and adds by to the
// order's version there alone, as a write the primary never had.
func promoteAndChange(t *testing.T, f *fixture, id uuid.UUID, by int) {
	t.Helper()
	if err := f.standby.Promote(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), f.standby.URL("orderapi"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "UPDATE order_details SET version = version + $2 WHERE order_id = $1", id, by); err != nil {
		t.Fatal(err)
	}
}
