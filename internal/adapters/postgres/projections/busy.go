package projections

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
)

// How the swap of a rebuild waits for the live tables: see swap.
const (
	// swapLockTimeout is the longest the swap waits for one lock, so the
	// longest that the service's reads and writes of a table queue behind
	// its request.
	swapLockTimeout = 100 * time.Millisecond
	// The wait between two attempts grows from swapRetryMin to
	// swapRetryMax, so that a long reader gets a swap attempt every few
	// seconds, each costing the service at most swapLockTimeout.
	swapRetryMin = 100 * time.Millisecond
	swapRetryMax = 5 * time.Second
	// The swap reports what it waits for once it has waited swapQuiet
	// (a busy moment is no news), then every swapLogEvery.
	swapQuiet    = time.Second
	swapLogEvery = 30 * time.Second
)

// busy reports whether err is a lock not granted in time (55P03), or a
// deadlock that PostgreSQL broke by ending the swap (40P01): another
// attempt may succeed.
func busy(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == postgres.SQLStateLockTimeout || pgErr.Code == "40P01")
}

// swapBackoff is the wait after a failed attempt: doubling, with jitter.
func swapBackoff(attempt int) time.Duration {
	d := min(swapRetryMin<<min(attempt-1, 10), swapRetryMax)
	return d/2 + rand.N(d/2+1)
}
