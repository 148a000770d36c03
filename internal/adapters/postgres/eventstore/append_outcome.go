package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
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

// sendAppend runs the append statement once, after the statement that
// stores its candidate key if it has one, and returns the last event's
// position. Until the statement is sent, ctx may give up and nothing is
// written; once it is sent, the outcome is awaited detached from ctx, for
// up to outcomeWait. An error the statement returned means it rolled back;
// any other failure after sending leaves the outcome to resolveAppend. See
// docs/design.md, "The one-statement append".
func (s *Store) sendAppend(ctx context.Context, p *pendingAppend) (int64, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	pid := conn.Conn().PgConn().PID()
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.outcomeWait)
	defer cancel()
	var (
		last int64
		keys []personaldata.StoredKey
	)
	if k := p.row.candidate; k == nil {
		err = conn.QueryRow(wait, p.sql, p.args...).Scan(&last)
	} else {
		keys = []personaldata.StoredKey{k.Stored}
		err = runAppend(wait, conn, keys, p.sql, p.args, []any{&last}, func() error { return nil })
	}
	if settle(conn, err) != outcomeUnknown {
		return last, err
	}
	return s.resolveAppend(ctx, p.commit, pid, statementsOf(p.sql, keys), err)
}

// runAppend runs an append statement, scanning each row it answers into
// scan and calling each. With keys, the statement that stores them goes
// first, in one pipeline with it: pgx sends the statements of a Batch
// with one Sync, and "all queries are run in an implicit transaction"
// (pgx v5 Conn.SendBatch), as PostgreSQL runs the messages up to a Sync
// (its protocol's "Pipelining": an error skips the rest, and the Sync
// commits or rolls back all). So the keys are stored with the events that
// name them or not at all, in one round trip and one commit. The outcome
// is known only once the Sync is answered (Close): until then the commit
// may fail, or the connection be lost.
func runAppend(ctx context.Context, conn *pgxpool.Conn, keys []personaldata.StoredKey, sql string, args []any, scan []any, each func() error) error {
	if len(keys) == 0 {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		_, err = pgx.ForEachRow(rows, scan, each)
		return err
	}
	b := &pgx.Batch{}
	b.Queue(datakeys.InsertCandidatesSQL, datakeys.CandidatesArgs(keys)...)
	b.Queue(sql, args...)
	br := conn.SendBatch(ctx, b)
	_, err := br.Exec()
	if err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			_, err = pgx.ForEachRow(rows, scan, each)
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// statementsOf is the text of the statements an append of sql sends:
// with keys, the one that stores them first.
func statementsOf(sql string, keys []personaldata.StoredKey) []string {
	if len(keys) == 0 {
		return []string{sql}
	}
	return []string{datakeys.InsertCandidatesSQL, sql}
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
// ($2: the texts of its statements, the key insert's and the append's;
// pg_stat_activity shows the text of the one running or last run, cut to
// track_activity_query_size), and waits ($3 ms) until it has ended, so
// that the statements can no longer commit (pg_terminate_backend waits
// so since PostgreSQL 14). It is true when no such session remains. A
// session of that pid running anything else is another's: the append's
// ended with its own session, whose pid was reused.
const endSessionSQL = `
SELECT coalesce(bool_and(pg_terminate_backend(pid, $3)), true)
  FROM pg_stat_activity
 WHERE pid = $1 AND (query = '' OR EXISTS (SELECT FROM unnest($2::text[]) AS s(text) WHERE starts_with(s.text, query)))`

// sessionRunningSQL tells whether session $1 still runs the append ($2),
// in a statement of its own, and so from a fresh view of the server's
// sessions. pg_terminate_backend is false both when its wait ran out and
// when the session had already ended between endSessionSQL's look at the
// sessions and its call: this tells the two apart.
const sessionRunningSQL = `
SELECT EXISTS (SELECT 1 FROM pg_stat_activity
 WHERE pid = $1 AND (query = '' OR EXISTS (SELECT FROM unnest($2::text[]) AS s(text) WHERE starts_with(s.text, query))))`

// appendedSQL finds the last position of the events of an append, NULL
// when they are not in the store.
const appendedSQL = `SELECT max(position) FROM events WHERE event_id = ANY ($1::uuid[])`

// resolveAppend finds whether an append whose outcome could not be read
// committed: on another connection, it ends the session that ran it (once
// that has ended the statement can no longer commit), then looks for its
// events by their ids, known before it was sent. Found, the append
// committed, and a key stored with it too (one transaction); not found,
// it never will, and cause is returned. When either step fails, the
// outcome is unknown: app.ErrOutcomeUnknown. statements are the texts
// the session was sent.
func (s *Store) resolveAppend(ctx context.Context, c app.Commit, pid uint32, statements []string, cause error) (int64, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resolveWait)
	defer cancel()
	unknown := func(err error) (int64, error) {
		return 0, fmt.Errorf("%w: %w (resolving it: %w)", app.ErrOutcomeUnknown, cause, err)
	}
	var ended bool
	if err := s.pool.QueryRow(ctx, s.endSession, pid, statements, s.endWait.Milliseconds()).Scan(&ended); err != nil {
		return unknown(err)
	}
	for !ended {
		var running bool
		if err := s.pool.QueryRow(ctx, sessionRunningSQL, pid, statements).Scan(&running); err != nil {
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
