// Package readiness tells whether the database can serve orderapi: it
// answers, its schema is this build's, it is a writable primary, and the
// service's role holds the privileges the service needs on its tables.
//
// A database can answer every query and still fail every command: a hot
// standby, one an operator made read-only, tables swapped in by a rebuild
// run as another role. Readiness says so, and why, so that traffic goes
// elsewhere and an operator learns what to fix.
package readiness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/rs/zerolog"
)

// checkWait bounds one check: a probe that hangs is as bad as a failure.
const checkWait = 2 * time.Second

// Probe checks the database of a pool.
type Probe struct {
	pool *pgxpool.Pool
	log  zerolog.Logger

	mu sync.Mutex
	// writable is what the last check of writes found; nil before one.
	writable *bool
}

// New returns a Probe of the pool's database.
func New(pool *pgxpool.Pool, log zerolog.Logger) *Probe {
	return &Probe{pool: pool, log: log}
}

// NotReady is a reason the service cannot serve that names the database's
// state, never a host or a secret, so it may be shown to whoever asks.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *NotReady) Unwrap() error { return e.Err }

// PublicReason is the reason, for the readiness answer.
func (e *NotReady) PublicReason() string { return e.Reason }

// Check returns nil when the service can serve, else why not.
func (p *Probe) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if err := schema.Current(ctx, p.pool); err != nil {
		return &NotReady{Reason: "the database schema is not this build's (run orderapi migrate)", Err: err}
	}
	if err := p.checkWritable(ctx); err != nil {
		return err
	}
	if err := eventstore.CheckPrivileges(ctx, p.pool); err != nil {
		var pe *eventstore.PrivilegesError
		if errors.As(err, &pe) {
			return &NotReady{Reason: pe.Error()}
		}
		return err
	}
	return nil
}

// checkWritable asks a session of its own, as the pool's next connection
// would be, whether it may write: a pooled session keeps the defaults it
// began with (ALTER DATABASE ... SET default_transaction_read_only applies
// to new sessions only), so it could tell a stale story either way.
//
// When the answer changes, the pool's sessions are replaced: those begun
// read-only would refuse writes after the database takes them again, and
// those begun writable would go on writing to a database an operator made
// read-only.
func (p *Probe) checkWritable(ctx context.Context) error {
	reason, err := p.writeRefusal(ctx)
	if err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	writable := reason == ""
	p.mu.Lock()
	changed := p.writable != nil && *p.writable != writable
	p.writable = &writable
	p.mu.Unlock()
	if changed {
		p.pool.Reset()
		if writable {
			p.log.Info().Msg("the database takes writes again; sessions renewed")
		} else {
			p.log.Warn().Str("reason", reason).Msg("the database takes no writes; sessions renewed")
		}
	}
	if !writable {
		return &NotReady{Reason: reason}
	}
	return nil
}

// writeRefusal returns why a new session could not write, "" if it could.
func (p *Probe) writeRefusal(ctx context.Context) (string, error) {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var inRecovery, readOnly bool
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'`).
		Scan(&inRecovery, &readOnly); err != nil {
		return "", err
	}
	switch {
	case inRecovery:
		return "the database is a hot standby (in recovery), not the primary: DATABASE_URL must name the primary", nil
	case readOnly:
		return "the database is read-only (default_transaction_read_only is on)", nil
	}
	return "", nil
}
