package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
)

// appendOutcomeWait bounds the wait for an append's outcome once it is
// sent, whatever the request's own deadline. An append takes milliseconds;
// one still running after this waits for a lock or a stalled server, and
// is ended and resolved instead. The bound keeps the answer within the
// HTTP server's write timeout (30 s from the request's start): a request
// deadline of 10 s, this wait, and resolveWait add up to 25 s.
const appendOutcomeWait = 10 * time.Second

// resolveWait bounds the resolution of an outcome that could not be read:
// ending the session that ran the append, then looking for its events.
const resolveWait = 5 * time.Second

// sendAppend runs the append statement once and returns the last event's
// position. Until the statement is sent, ctx may give up and nothing is
// written; once it is sent, the outcome is awaited detached from ctx, for
// up to outcomeWait. An error the statement returned means it rolled back;
// any other failure after sending leaves the outcome to resolveAppend. See
// docs/design.md, "The one-statement append".
func (s *Store) sendAppend(ctx context.Context, c app.Commit, sql string, args []any) (int64, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	pid := conn.Conn().PgConn().PID()
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.outcomeWait)
	defer cancel()
	var last int64
	err = conn.QueryRow(wait, sql, args...).Scan(&last)
	if settle(conn, err) != outcomeUnknown {
		return last, err
	}
	return s.resolveAppend(ctx, c, pid, sql, err)
}

// outcome is how an append statement ended, as far as its connection
// tells.
type outcome int

const (
	outcomeDone    outcome = iota // committed, or refused and rolled back: err says which
	outcomeUnknown                // sent, but its answer could not be read
)

// settle gives the connection of an append back to the pool, or closes
// it, by how its statement ended (err): a connection that failed, or a
// session begun while the database was read-only (which stays so), is
// closed, so that the pool's next one sees the database as it is now.
// Nothing sent (pgconn.SafeToRetry) and an error the server returned for
// the statement, which then rolled back, are outcomes known; any other
// failure after sending is not. A FATAL error ends the session too,
// possibly after the commit: its outcome is not known from it.
func settle(conn *pgxpool.Conn, err error) outcome {
	switch {
	case err == nil:
		conn.Release()
	case pgconn.SafeToRetry(err):
		postgres.CloseConn(conn)
	case statementError(err) && !postgres.IsReadOnly(err):
		conn.Release()
	case statementError(err):
		postgres.CloseConn(conn)
	default:
		postgres.CloseConn(conn)
		return outcomeUnknown
	}
	return outcomeDone
}

// statementError reports whether err is an error the server returned for
// the statement, which then rolled back. A FATAL error ends the session
// too, possibly after the commit: its outcome is not known from it.
func statementError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	severity := pgErr.SeverityUnlocalized
	if severity == "" {
		severity = pgErr.Severity
	}
	return severity == "ERROR"
}

// endSessionSQL ends the server session $1 if it still runs the append
// ($2: pg_stat_activity shows the statement's text, cut to
// track_activity_query_size), and waits ($3 ms) until it has ended, so
// that the statement can no longer commit (pg_terminate_backend waits
// so since PostgreSQL 14). It is true when no such session remains. A
// session of that pid running anything else is another's: the append's
// ended with its own session, whose pid was reused.
const endSessionSQL = `
SELECT coalesce(bool_and(pg_terminate_backend(pid, $3)), true)
  FROM pg_stat_activity
 WHERE pid = $1 AND (query = '' OR starts_with($2, query))`

// sessionRunningSQL tells whether session $1 still runs the append ($2),
// in a statement of its own, and so from a fresh view of the server's
// sessions. pg_terminate_backend is false both when its wait ran out and
// when the session had already ended between endSessionSQL's look at the
// sessions and its call: this tells the two apart.
const sessionRunningSQL = `
SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND (query = '' OR starts_with($2, query)))`

// appendedSQL finds the last position of the events of an append, NULL
// when they are not in the store.
const appendedSQL = `SELECT max(position) FROM events WHERE event_id = ANY ($1::uuid[])`

// resolveAppend finds whether an append whose outcome could not be read
// committed: on another connection, it ends the session that ran it (once
// that has ended the statement can no longer commit), then looks for its
// events by their ids, known before it was sent. Found, the append
// committed; not found, it never will, and cause is returned. When either
// step fails, the outcome is unknown: app.ErrOutcomeUnknown.
func (s *Store) resolveAppend(ctx context.Context, c app.Commit, pid uint32, sql string, cause error) (int64, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveWait)
	defer cancel()
	unknown := func(err error) (int64, error) {
		return 0, fmt.Errorf("%w: %w (resolving it: %w)", app.ErrOutcomeUnknown, cause, err)
	}
	var ended bool
	if err := s.pool.QueryRow(ctx, s.endSession, pid, sql, s.endWait.Milliseconds()).Scan(&ended); err != nil {
		return unknown(err)
	}
	for !ended {
		var running bool
		if err := s.pool.QueryRow(ctx, sessionRunningSQL, pid, sql).Scan(&running); err != nil {
			return unknown(fmt.Errorf("the session %d that ran it did not end within %s: %w", pid, s.endWait, err))
		}
		if ended = !running; !ended {
			if err := postgres.Sleep(ctx, 10*time.Millisecond); err != nil {
				return unknown(fmt.Errorf("the session %d that ran it did not end within %s", pid, resolveWait))
			}
		}
	}
	ids := make([]uuid.UUID, len(c.Events))
	for i, e := range c.Events {
		ids[i] = e.ID
	}
	var last *int64
	if err := s.pool.QueryRow(ctx, appendedSQL, postgres.UUIDs(ids)).Scan(&last); err != nil {
		return unknown(err)
	}
	if last == nil {
		return 0, fmt.Errorf("not committed: %w", cause)
	}
	return *last, nil
}
