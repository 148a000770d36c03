package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
)

// newAPIWithSettings is newAPI over a fresh database on which an operator
// has set each of settings, as new sessions see them; it also returns the
// database's URL.
func newAPIWithSettings(t *testing.T, settings ...string) (*testAPI, string) {
	t.Helper()
	url := pgtest.NewURL(t)
	for _, s := range settings {
		alterDatabase(t, url, s)
	}
	return newAPIOn(t, openPool(t, url)), url
}

// alterDatabase runs ALTER DATABASE <the database of url> SET setting.
func alterDatabase(t *testing.T, url, setting string) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	if _, err := conn.Exec(context.Background(), "ALTER DATABASE "+pgx.Identifier{conn.Config().Database}.Sanitize()+" SET "+setting); err != nil {
		t.Fatal(err)
	}
}

// openPool opens a pool of new sessions on url, closed when the test ends.
func openPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// holdLock runs sql (a lock taken) in a transaction left open until the
// test ends.
func holdLock(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := pgtest.Connect(t, url).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
}

// TestDatabaseTimeoutsAreUnavailable: a statement_timeout or lock_timeout
// that an operator sets on the database is transient, like the service's
// own timeout: 503 unavailable with Retry-After, never a 500.
func TestDatabaseTimeoutsAreUnavailable(t *testing.T) {
	t.Parallel()
	for name, setting := range map[string]string{
		"statement_timeout": "statement_timeout = '300ms'",
		"lock_timeout":      "lock_timeout = '300ms'",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given an order, and a transaction that locks its projection
			// row (what a command writes) and a read model (what a read
			// reads), on a database with the timeout set
			a, url := newAPIWithSettings(t, setting)
			o := a.create(uuid.New())
			lockRow(t, url, o.ID)
			holdLock(t, url, "LOCK TABLE customer_orders IN ACCESS EXCLUSIVE MODE")

			// When a command and a read wait for those locks past the timeout
			cmd := a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
				"product_id": uuid.New(), "product_name": "Cup", "quantity": 1, "unit_price": "1.00"})
			read := a.do("GET", "/v1/customers/"+o.CustomerID+"/orders", nil)

			// Then both are 503 unavailable, to be retried
			for _, r := range []reply{cmd, read} {
				r.wantProblem(t, http.StatusServiceUnavailable, problem.CodeUnavailable)
				if r.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After: %v", r.Header)
				}
			}
			// And the command wrote nothing
			if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); got.Version != 1 {
				t.Errorf("order at version %d after a refused command", got.Version)
			}
		})
	}
}

// TestReadOnlyDatabaseRefusesCommands: on a database that takes no writes,
// a command is 503 database_read_only with Retry-After and writes
// nothing, and reads still answer.
func TestReadOnlyDatabaseRefusesCommands(t *testing.T) {
	t.Parallel()
	// Given an order on a database an operator then makes read-only
	url := pgtest.NewURL(t)
	o := newAPIOn(t, openPool(t, url)).create(uuid.New())
	alterDatabase(t, url, "default_transaction_read_only = on")
	a := newAPIOn(t, openPool(t, url))

	// When commands are sent
	cmds := []reply{
		a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}),
		a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
			"product_id": uuid.New(), "product_name": "Cup", "quantity": 1, "unit_price": "1.00"}),
		a.do("POST", "/v1/orders/"+o.ID+"/cancel", map[string]any{"reason": "changed my mind"}, "Idempotency-Key", uuid.NewString()),
	}

	// Then each is 503 database_read_only, to be retried
	for _, r := range cmds {
		r.wantProblem(t, http.StatusServiceUnavailable, app.ErrReadOnly.Code)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After: %v", r.Header)
		}
	}
	// And reads still answer, the order unchanged
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); got.Version != 1 {
		t.Errorf("order at version %d after refused commands", got.Version)
	}
	a.do("GET", "/v1/customers/"+o.CustomerID+"/orders", nil).want(t, http.StatusOK)
}
