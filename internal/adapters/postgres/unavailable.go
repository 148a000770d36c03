package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/app"
)

// SQLSTATEs of a database that refuses for now what it would do later.
const (
	sqlstateReadOnly      = "25006" // read_only_sql_transaction: read-only, or a hot standby
	sqlstateQueryCanceled = "57014" // query_canceled: statement_timeout, or a cancel request
	SQLStateLockTimeout   = "55P03" // lock_not_available: lock_timeout, or NOWAIT
)

// MarkUnavailable wraps *errp with the app error a client can act on when
// it says the database could not do the work now: app.ErrReadOnly when it
// takes no writes, app.ErrUnavailable when it could not be reached, went
// away, or gave up waiting (a statement_timeout or lock_timeout set by an
// operator is transient like the service's own timeout). Callers then
// answer "retry later" rather than "internal error". Every Store method
// defers it; an error the store classified itself is left as it is.
func MarkUnavailable(errp *error) {
	var classified *app.Error
	switch {
	case *errp == nil, errors.As(*errp, &classified):
	case IsReadOnly(*errp):
		*errp = fmt.Errorf("%w: %w", app.ErrReadOnly, *errp)
	case unreachable(*errp), gaveUp(*errp):
		*errp = fmt.Errorf("%w: %w", app.ErrUnavailable, *errp)
	}
}

// IsReadOnly reports whether err is the database refusing a write because
// it takes none now.
func IsReadOnly(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == sqlstateReadOnly
}

// gaveUp reports whether the server ended a statement that waited too
// long: a timeout an operator set, or a cancel request.
func gaveUp(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == sqlstateQueryCanceled || pgErr.Code == SQLStateLockTimeout)
}

// IsUnreachable reports whether err says the database could not be
// reached or went away: a connection that failed, closed or was refused,
// or a server shutting down, starting or out of connection slots.
func IsUnreachable(err error) bool { return unreachable(err) }

func unreachable(err error) bool {
	var (
		connErr *pgconn.ConnectError
		netErr  net.Error
		pgErr   *pgconn.PgError
	)
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, pgconn.ErrConnClosed):
		// A connection pgx closed after it failed under another query;
		// the pool replaces it.
		return true
	case errors.As(err, &pgErr):
		// Class 08 is "connection exception"; the others are a server that
		// is shutting down (57P01 admin_shutdown, 57P02 crash_shutdown),
		// starting up or recovering (57P03), ending idle sessions (57P05),
		// or out of connection slots (53300).
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "57P05", "53300":
			return true
		}
		return len(pgErr.Code) == 5 && pgErr.Code[:2] == "08"
	}
	return false
}
