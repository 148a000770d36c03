package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestProjectionsNamePreparedTransactions: a transaction prepared for
// two-phase commit holds the feed and the analytics projection back
// without a session to show for it; GET /v1/projections names it, until
// it is ended.
func TestProjectionsNamePreparedTransactions(t *testing.T) {
	t.Parallel()
	// Given a service on a server that allows prepared transactions,
	// with an order counted by analytics
	pg := pgtest.NewCluster(t, "max_prepared_transactions = 5")
	url := pg.NewDatabase(t, "orderapi")
	a := newAnalyticsAPIOn(t, openPool(t, url), true, 5*time.Second)
	o := a.create(uuid.New())
	now := time.Now().UTC()
	days := "from=" + now.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + now.Format(time.DateOnly)
	a.do("GET", "/v1/analytics/daily?"+days+"&min_position=1", nil).want(t, http.StatusOK)

	// When a transaction that took a transaction id is prepared, in
	// another database of the server, and an order is changed after it
	pgtest.Exec(t, pg.URL("postgres"), "BEGIN; SELECT pg_current_xact_id(); PREPARE TRANSACTION 'orderapi-stuck-1'")
	before := time.Now()
	a.addItem(o.ID, "1.00", 1)

	// Then the feed and analytics stop below it
	if page := a.feedPage(""); len(page.Events) != 1 {
		t.Fatalf("the feed shows %d events past a prepared transaction, want 1", len(page.Events))
	}
	// And the projections' status names it
	var got projectionsJSON
	decodeStrict(t, a.do("GET", "/v1/projections", nil).want(t, http.StatusOK).Body, &got)
	pt := got.OldestPreparedTransaction
	if pt == nil || pt.GID != "orderapi-stuck-1" || pt.Database != "postgres" || pt.AgeSeconds < 0 {
		t.Fatalf("oldest_prepared_transaction = %+v, want orderapi-stuck-1 in postgres", pt)
	}
	if at, err := time.Parse(time.RFC3339Nano, pt.PreparedAt); err != nil || at.After(before) {
		t.Errorf("prepared_at %q, want before %s", pt.PreparedAt, before)
	}
	if got.OldestOpenTransaction != nil {
		t.Errorf("oldest_open_transaction = %+v, want none: no session runs it", got.OldestOpenTransaction)
	}
	if an := got.Projections[2]; an.LagEvents != 1 {
		t.Errorf("analytics lags %d events, want 1", an.LagEvents)
	}

	// And once it is ended, the feed goes on and the status shows none
	pgtest.Exec(t, pg.URL("postgres"), "COMMIT PREPARED 'orderapi-stuck-1'")
	if page := a.feedPage(""); len(page.Events) != 2 {
		t.Errorf("the feed shows %d events once the prepared transaction ended, want 2", len(page.Events))
	}
	var after projectionsJSON
	decodeStrict(t, a.do("GET", "/v1/projections", nil).want(t, http.StatusOK).Body, &after)
	if after.OldestPreparedTransaction != nil {
		t.Errorf("oldest_prepared_transaction = %+v after it ended", after.OldestPreparedTransaction)
	}
}
