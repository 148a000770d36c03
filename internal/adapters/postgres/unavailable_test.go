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
// that is down, shutting down or restarting shows: those are "retry
// later" (503), anything else stays an error of its own.
func TestMarkUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("get order: %w", refused), true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"EOF mid-query", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"EOF", io.EOF, true},
		{"conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"admin shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Severity: "FATAL", Code: "57P03"}, true},
		{"idle session timeout", &pgconn.PgError{Severity: "FATAL", Code: "57P05"}, true},
		{"too many connections", &pgconn.PgError{Severity: "FATAL", Code: "53300"}, true},
		{"connection failure", &pgconn.PgError{Severity: "FATAL", Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"timeout", fmt.Errorf("query: %w", context.DeadlineExceeded), true}, // a net.Error, Timeout() true
		{"other", errors.New("decode event: unknown type"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err
			markUnavailable(&err)
			if got := errors.Is(err, app.ErrUnavailable); got != tt.want {
				t.Errorf("markUnavailable(%v) unavailable = %v, want %v", tt.err, got, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("markUnavailable(%v) = %v, lost the cause", tt.err, err)
			}
		})
	}
}
