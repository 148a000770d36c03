package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// Lock is a session advisory lock that keeps one worker, or one operation,
// active at a time across every process of a database. It is held on a
// connection taken out of the pool for as long as it is held: closing that
// connection ends the session and so releases the lock, even when the
// unlock cannot be sent, and when its holder dies PostgreSQL releases it
// for another to take. See docs/design.md, "Single-active workers".
type Lock struct {
	pool *pgxpool.Pool
	cfg  LockConfig
	held atomic.Bool
}

// LockConfig names a Lock and tunes Run.
type LockConfig struct {
	// Key is the lock's key: pg_try_advisory_lock's one bigint argument.
	Key int64
	// Name names the lock in errors and logs ("<Name> lock taken").
	Name string
	// Retry is how often Run tries the lock while another session holds
	// it, and how soon it competes again after its work failed; 1s if
	// zero.
	Retry time.Duration
	// Log receives Run's reports.
	Log zerolog.Logger
}

// NewLock returns the lock of cfg.Key over the pool's database.
func NewLock(pool *pgxpool.Pool, cfg LockConfig) *Lock {
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	return &Lock{pool: pool, cfg: cfg}
}

// Held reports whether Run holds the lock now.
func (l *Lock) Held() bool { return l.held.Load() }

// Run competes for the lock until ctx ends, then returns ctx's error. While
// it holds the lock it runs work on the lock's connection; when work
// returns, the connection is closed (releasing the lock), a failure is
// logged, and Run competes again after Retry.
func (l *Lock) Run(ctx context.Context, work func(ctx context.Context, conn *pgx.Conn) error) error {
	for {
		err := l.runOnce(ctx, work)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			l.cfg.Log.Warn().Err(err).Dur("retry_in", l.cfg.Retry).Msg(l.cfg.Name + " lock holder failed; competing for the lock again")
		}
		if err := Sleep(ctx, l.cfg.Retry); err != nil {
			return err
		}
	}
}

// RunChecked is Run for work that does its work elsewhere than on the
// lock's connection: alive queries the session that holds the lock, so
// that work can stop once the lock is gone (the relay to NATS).
func (l *Lock) RunChecked(ctx context.Context, work func(ctx context.Context, alive func(context.Context) error) error) error {
	return l.Run(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return work(ctx, conn.Ping)
	})
}

// RelayLockKey elects the one replica that publishes the events to NATS:
// "nats-out" in ASCII, unlike the analytics consumer's ("orderapi"), the
// rebuild's ("rebuild!") and goose's migration lock.
const RelayLockKey int64 = 0x6e6174732d6f7574

// runOnce tries the lock once and, holding it, runs work.
func (l *Lock) runOnce(ctx context.Context, work func(ctx context.Context, conn *pgx.Conn) error) error {
	h, err := l.Try(ctx)
	if err != nil || h == nil {
		return err
	}
	l.held.Store(true)
	l.cfg.Log.Info().Msg(l.cfg.Name + " lock taken")
	defer func() {
		l.held.Store(false)
		h.Release()
		l.cfg.Log.Info().Msg(l.cfg.Name + " lock released")
	}()
	return work(ctx, h.Conn())
}

// Try takes the lock once, on a connection of the pool that it keeps out
// of the pool while the lock is held. It returns nil and no error when
// another session holds the lock.
func (l *Lock) Try(ctx context.Context) (*Holding, error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire a connection: %w", err)
	}
	locked, err := l.TryOn(ctx, conn.Conn())
	if err != nil {
		// The connection may be broken: close it rather than pool it.
		CloseConn(conn)
		return nil, err
	}
	if !locked {
		conn.Release()
		return nil, nil
	}
	return &Holding{conn: conn}, nil
}

// TryOn takes the lock on a connection the caller keeps for itself, and
// reports whether it got it; UnlockOn releases it there.
func (l *Lock) TryOn(ctx context.Context, conn *pgx.Conn) (bool, error) {
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", l.cfg.Key).Scan(&locked); err != nil {
		return false, fmt.Errorf("try the %s lock: %w", l.cfg.Name, err)
	}
	return locked, nil
}

// UnlockOn releases the lock that TryOn took on conn.
func (l *Lock) UnlockOn(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", l.cfg.Key); err != nil {
		return fmt.Errorf("release the %s lock: %w", l.cfg.Name, err)
	}
	return nil
}

// Holding is a Lock held by a connection out of the pool.
type Holding struct{ conn *pgxpool.Conn }

// Conn is the connection that holds the lock.
func (h *Holding) Conn() *pgx.Conn { return h.conn.Conn() }

// Release closes the connection, which ends its session and so releases
// the lock and every other lock the session took.
func (h *Holding) Release() { CloseConn(h.conn) }

// CloseConn closes a pooled connection and drops it from the pool.
func CloseConn(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}
