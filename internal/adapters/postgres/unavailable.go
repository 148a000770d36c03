package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/app"
)

// markUnavailable wraps *errp with app.ErrUnavailable when it says the
// database could not be reached or went away, so that callers answer
// "retry later" rather than "internal error". Every Store method defers it.
func markUnavailable(errp *error) {
	if *errp != nil && unreachable(*errp) {
		*errp = fmt.Errorf("%w: %w", app.ErrUnavailable, *errp)
	}
}

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
