package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/orderapi/orderapi/internal/app"
)

// TestMarkUnavailable holds the classification to the ways a database
// that is down, shutting down, restarting, read-only or out of patience
// shows: those are "retry later" (503), anything else stays an error of
// its own.
func TestMarkUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"connection refused", fmt.Errorf("get order: %w", refused), app.ErrUnavailable},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, app.ErrUnavailable},
		{"EOF mid-query", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), app.ErrUnavailable},
		{"EOF", io.EOF, app.ErrUnavailable},
		{"conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), app.ErrUnavailable},
		{"admin shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, app.ErrUnavailable},
		{"crash shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P02"}, app.ErrUnavailable},
		{"starting up", &pgconn.PgError{Severity: "FATAL", Code: "57P03"}, app.ErrUnavailable},
		{"idle session timeout", &pgconn.PgError{Severity: "FATAL", Code: "57P05"}, app.ErrUnavailable},
		{"too many connections", &pgconn.PgError{Severity: "FATAL", Code: "53300"}, app.ErrUnavailable},
		{"connection failure", &pgconn.PgError{Severity: "FATAL", Code: "08006"}, app.ErrUnavailable},
		{"unique violation", &pgconn.PgError{Code: "23505"}, nil},
		{"syntax error", &pgconn.PgError{Code: "42601"}, nil},
		{"timeout", fmt.Errorf("query: %w", context.DeadlineExceeded), app.ErrUnavailable}, // a net.Error, Timeout() true
		{"statement timeout", &pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"}, app.ErrUnavailable},
		{"lock timeout", fmt.Errorf("append: %w", &pgconn.PgError{Code: "55P03"}), app.ErrUnavailable},
		{"read-only database", &pgconn.PgError{Code: "25006", Message: "cannot execute INSERT in a read-only transaction"}, app.ErrReadOnly},
		{"hot standby", fmt.Errorf("listen: %w", &pgconn.PgError{Code: "25006", Message: "cannot execute LISTEN during recovery"}), app.ErrReadOnly},
		{"other", errors.New("decode event: unknown type"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err
			MarkUnavailable(&err)
			for _, kind := range []error{app.ErrUnavailable, app.ErrReadOnly} {
				if got := errors.Is(err, kind); got != (kind == tt.want) {
					t.Errorf("MarkUnavailable(%v) is %v = %v, want %v", tt.err, kind, got, !got)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("MarkUnavailable(%v) = %v, lost the cause", tt.err, err)
			}
		})
	}
}
