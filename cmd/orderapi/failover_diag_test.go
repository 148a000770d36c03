package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// What the failover test keeps so that a failure explains itself: a time
// line of its phases, every command's latency, the database's activity
// and lock waits taken while something was slow, and each replica's last
// log lines.
const (
	replicaTailLines = 60
	slowestShown     = 8
	// stallAfter is how long a command (or the takeover) may take before
	// the database's state is captured; the first stallCaptures are kept.
	stallAfter    = 2 * time.Second
	stallCaptures = 3
)

// diagnostics collects the failover test's evidence. Its methods are safe
// for concurrent use.
type diagnostics struct {
	start time.Time
	dbURL string // set once the test database exists

	mu       sync.Mutex
	marks    []string
	timings  []timing
	captures []string
}

func newDiagnostics() *diagnostics { return &diagnostics{start: time.Now()} }

// mark notes that the test reached a point, and when.
func (d *diagnostics) mark(what string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.marks = append(d.marks, fmt.Sprintf("%s at %s", what, time.Since(d.start).Round(time.Millisecond)))
}

// timing is one command as the client saw it, retries included.
type timing struct {
	id       string // its request ids are id-1, id-2... one per attempt
	what     string
	replicas []int // one per attempt
	status   int
	err      error
	took     time.Duration
}

func (d *diagnostics) record(tm timing) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timings = append(d.timings, tm)
}

// watch captures the database's state if what it guards still runs after
// stallAfter; the returned function ends the watch.
func (d *diagnostics) watch(what string) (stop func() bool) {
	started := time.Now()
	t := time.AfterFunc(stallAfter, func() {
		d.mu.Lock()
		full := len(d.captures) >= stallCaptures
		d.mu.Unlock()
		if full {
			return
		}
		snap := snapshotDatabase(d.dbURL)
		d.mu.Lock()
		defer d.mu.Unlock()
		if len(d.captures) < stallCaptures {
			d.captures = append(d.captures, fmt.Sprintf("%s, still running after %s:\n%s",
				what, time.Since(started).Round(time.Millisecond), snap))
		}
	})
	return t.Stop
}

// report logs the time line and any captures (a slow run is worth
// explaining even when it passes, under -v), and, if the test failed, the
// slowest commands and every replica's last log lines.
func (d *diagnostics) report(t *testing.T, replicas []*replica) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	t.Logf("time line: %s", strings.Join(d.marks, ", "))
	for _, c := range d.captures {
		t.Logf("the database while %s", c)
	}
	if !t.Failed() {
		return
	}
	slow := slices.SortedFunc(slices.Values(d.timings), func(a, b timing) int { return cmp.Compare(b.took, a.took) })
	var b strings.Builder
	for _, tm := range slow[:min(slowestShown, len(slow))] {
		fmt.Fprintf(&b, "\n  %8s  %s %s  replicas %v  status %d", tm.took.Round(time.Millisecond), tm.id, tm.what, tm.replicas, tm.status)
		if tm.err != nil {
			fmt.Fprintf(&b, "  error: %v", tm.err)
		}
	}
	t.Logf("the slowest of %d commands:%s", len(d.timings), b.String())
	if len(d.captures) == 0 {
		t.Logf("the database now:\n%s", snapshotDatabase(d.dbURL))
	}
	for _, r := range replicas {
		if r != nil {
			t.Logf("replica %d, its last log lines:\n%s", r.index, r.tail)
		}
	}
}

// snapshotDatabase describes what every busy backend on the server is
// doing and waiting for, and which lock requests wait. It covers the whole
// server, not only the test's database: other tests share it, and some
// locks (NOTIFY's at commit, for one) are server-wide.
func snapshotDatabase(dbURL string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Sprintf("(no snapshot: %v)", err)
	}
	defer conn.Close(ctx)
	var b strings.Builder
	dump := func(title, sql string) {
		fmt.Fprintf(&b, "%s:\n", title)
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			fmt.Fprintf(&b, "  %v\n", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				break
			}
			fmt.Fprintf(&b, "  %v\n", vals)
		}
		if err := rows.Err(); err != nil {
			fmt.Fprintf(&b, "  %v\n", err)
		}
	}
	dump("busy backends (pid, database, application, state, wait, in transaction for, in statement for, blocked by, query)", `
SELECT pid, datname, application_name, state, concat_ws(':', wait_event_type, wait_event),
       (now() - xact_start)::text, (now() - query_start)::text, pg_blocking_pids(pid),
       left(regexp_replace(query, '\s+', ' ', 'g'), 100)
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
   AND (state IS DISTINCT FROM 'idle' OR wait_event_type = 'Lock')
 ORDER BY xact_start NULLS LAST`)
	dump("connections per application (database, application, state, count)", `
SELECT datname, application_name, state, count(*)
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND application_name LIKE 'orderapi-replica-%'
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	dump("waiting lock requests (pid, type, database, relation, class, object, transaction, mode)", `
SELECT pid, locktype, database, relation::regclass::text, classid, objid, transactionid::text, mode
  FROM pg_locks WHERE NOT granted`)
	return b.String()
}

// logTail keeps the last lines written to it.
type logTail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func newLogTail(n int) *logTail { return &logTail{max: n} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		if len(l.lines) > l.max {
			l.lines = l.lines[len(l.lines)-l.max:]
		}
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(append(slices.Clone(l.lines), string(l.partial)), "\n")
}
