// Package pgactivity tells what a PostgreSQL session is doing and which
// sessions hold it up, from pg_stat_activity, pg_blocking_pids and
// pg_locks, so that a process waiting on the database can say what for.
package pgactivity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// queryChars is how much of a session's query a Session keeps: enough to
// recognise it, short enough for a log line.
const queryChars = 120

// Querier runs a query; a *pgx.Conn and a *pgxpool.Pool are ones.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Session is one server process as pg_stat_activity shows it.
type Session struct {
	PID uint32
	// State is pg_stat_activity's: active, idle, idle in transaction, ….
	State string
	// Wait is what it waits for (wait_event_type:wait_event), if anything.
	Wait string
	// For is how long its transaction has been open, or its query
	// running when it has none.
	For time.Duration
	// Query is the start of its current query, or of its last one when
	// idle.
	Query string
}

// String is the session as a log line shows it.
func (s Session) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d (%s", s.PID, s.State)
	// An idle session always waits for its client: that says nothing.
	if s.Wait != "" && s.State == "active" {
		fmt.Fprintf(&b, ", waiting on %s", s.Wait)
	}
	fmt.Fprintf(&b, " for %s): %s", s.For.Round(time.Second), s.Query)
	return b.String()
}

// sessionColumns are a Session's, of pg_stat_activity a; $2 is how
// much of the query to keep.
const sessionColumns = `
SELECT a.pid, coalesce(a.state, ''),
       coalesce(a.wait_event_type || ':' || a.wait_event, ''),
       coalesce(extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start)), 0)::float8,
       left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), $2)`

// sessions runs a query of sessionColumns.
func sessions(ctx context.Context, q Querier, sql string, args ...any) ([]Session, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Session, error) {
		var s Session
		var secs float64
		err := row.Scan(&s.PID, &s.State, &s.Wait, &secs, &s.Query)
		s.For = time.Duration(secs * float64(time.Second))
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_activity: %w", err)
	}
	return found, nil
}

// Blocked returns the session pid and the sessions that block it, those
// holding or queued ahead for a lock it waits for. ok is false when no
// session pid exists.
func Blocked(ctx context.Context, q Querier, pid uint32) (self Session, blockers []Session, ok bool, err error) {
	found, err := sessions(ctx, q, sessionColumns+`
  FROM pg_stat_activity a
 WHERE a.pid = $1 OR a.pid = ANY (pg_blocking_pids($1))
 ORDER BY a.pid <> $1, a.pid`, pid, queryChars)
	if err != nil {
		return Session{}, nil, false, err
	}
	if len(found) == 0 || found[0].PID != pid {
		return Session{}, nil, false, nil
	}
	return found[0], found[1:], true, nil
}

// TableHolders returns the other sessions that hold a lock on one of the
// tables, named as to_regclass takes them. A table's oid is this
// database's alone: a database copied from the same template has tables
// of the same oids, whose locks are not these.
func TableHolders(ctx context.Context, q Querier, tables []string) ([]Session, error) {
	return sessions(ctx, q, sessionColumns+`
  FROM pg_stat_activity a
 WHERE a.pid <> pg_backend_pid()
   AND a.pid IN (SELECT l.pid FROM pg_locks l
                  WHERE l.granted AND l.locktype = 'relation'
                    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND l.relation = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t))
 ORDER BY a.pid`, tables, queryChars)
}

// Strings are the sessions as log lines show them.
func Strings(sessions []Session) []string {
	out := make([]string, len(sessions))
	for i, s := range sessions {
		out[i] = s.String()
	}
	return out
}

// AdvisoryHolder returns the pid of the session of this database that
// holds the advisory lock key (taken with the one-argument, bigint form of
// pg_advisory_lock); ok is false when none does.
func AdvisoryHolder(ctx context.Context, q Querier, key int64) (pid uint32, ok bool, err error) {
	// pg_locks splits a bigint key into its high and low 32 bits.
	rows, err := q.Query(ctx, `
SELECT pid FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND objsubid = 1
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND classid::int8 = $1 AND objid::int8 = $2`, uint64(key)>>32, uint64(key)&0xffffffff)
	if err != nil {
		return 0, false, fmt.Errorf("read pg_locks: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return 0, false, fmt.Errorf("read pg_locks: %w", err)
	}
	if len(pids) == 0 {
		return 0, false, nil
	}
	return pids[0], true, nil
}
