package pgactivity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgactivity"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestBlockedNamesTheSessionsHoldingItUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.NewURL(t)
	reader, waiter, watcher := connect(t, url), connect(t, url), connect(t, url)

	// Given a reader in an open transaction and a session queued behind it
	if _, err := reader.Exec(ctx, `BEGIN; SELECT count(*) FROM events`); err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, `BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE`)
		queued <- err
	}()

	// When the waiting session is looked at while it waits
	var self pgactivity.Session
	var blockers []pgactivity.Session
	for !strings.HasPrefix(self.Wait, "Lock:") {
		var ok bool
		var err error
		self, blockers, ok, err = pgactivity.Blocked(ctx, watcher, waiter.PgConn().PID())
		if err != nil || !ok {
			t.Fatalf("Blocked = %v, %v", ok, err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Then it is shown waiting on a lock, blocked by the reader
	if self.State != "active" || !strings.Contains(self.Query, "LOCK TABLE events") {
		t.Errorf("the waiting session = %+v", self)
	}
	if len(blockers) != 1 || blockers[0].PID != reader.PgConn().PID() ||
		blockers[0].State != "idle in transaction" || !strings.Contains(blockers[0].Query, "SELECT count(*) FROM events") {
		t.Errorf("blockers = %+v, want the reader (pid %d)", blockers, reader.PgConn().PID())
	}
	if _, err := reader.Exec(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if err := <-queued; err != nil {
		t.Fatal(err)
	}

	// And a session that does not exist is reported as such
	if _, _, ok, err := pgactivity.Blocked(ctx, watcher, 1); ok || err != nil {
		t.Errorf("Blocked(pid 1) = %v, %v", ok, err)
	}
}

func TestAdvisoryHolder(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := pgtest.NewURL(t)
	holder, watcher := connect(t, url), connect(t, url)
	// A key with both halves set, to check how pg_locks splits it.
	const key int64 = 0x0102030405060708

	if _, ok, err := pgactivity.AdvisoryHolder(ctx, watcher, key); ok || err != nil {
		t.Fatalf("before the lock: %v, %v", ok, err)
	}
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		t.Fatal(err)
	}
	pid, ok, err := pgactivity.AdvisoryHolder(ctx, watcher, key)
	if err != nil || !ok || pid != holder.PgConn().PID() {
		t.Errorf("AdvisoryHolder = %d, %v, %v; want %d", pid, ok, err, holder.PgConn().PID())
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TableHolders names the other sessions holding a table, not itself.
func TestTableHolders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	// Given a session reading a table in an open transaction
	reader := pgtest.Connect(t, url)
	tx, err := reader.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM order_details"); err != nil {
		t.Fatal(err)
	}
	// When another asks who holds it
	asker := pgtest.Connect(t, url)
	holders, err := pgactivity.TableHolders(ctx, asker, []string{"order_details", "customer_orders"})
	// Then the reader is named, with what it runs
	if err != nil || len(holders) != 1 || holders[0].PID != reader.PgConn().PID() ||
		!strings.Contains(holders[0].String(), "order_details") {
		t.Fatalf("holders = %v, %v; want the reader, pid %d", holders, err, reader.PgConn().PID())
	}
}

// TestTableHoldersOfAnotherDatabaseAreNotNamed: databases copied from one
// template have tables of the same oids; a lock in one is not in another.
func TestTableHoldersOfAnotherDatabaseAreNotNamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given a session reading the table in another database of the server
	other := pgtest.Connect(t, pgtest.NewURL(t))
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM order_details"); err != nil {
		t.Fatal(err)
	}
	// When a session of this database asks who holds it here
	asker := pgtest.Connect(t, pgtest.NewURL(t))
	holders, err := pgactivity.TableHolders(ctx, asker, []string{"order_details"})
	// Then no one does
	for _, h := range holders {
		if h.PID == other.PgConn().PID() {
			t.Fatalf("holders = %v, %v; the other database's reader is named", holders, err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
