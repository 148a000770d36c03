package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// replayWait bounds how long CatchUp waits for a standby to replay what
// its primary has written: streaming on one machine takes milliseconds.
const replayWait = 30 * time.Second

// NewReplicated makes a cluster, a migrated database called db on it, and
// a hot standby streaming from it, and returns both clusters: a test of
// reads from a standby starts so.
func NewReplicated(t testing.TB, db string) (primary, standby *Cluster) {
	t.Helper()
	primary = NewCluster(t)
	primary.NewDatabase(t, db)
	return primary, primary.Standby(t)
}

// PauseReplay stops the standby from applying the WAL it receives, so that
// it lags its primary by as much as the test writes meanwhile.
func (c *Cluster) PauseReplay(t testing.TB) {
	t.Helper()
	c.replay(t, "SELECT pg_wal_replay_pause()")
	// pg_wal_replay_pause only asks: wait until replay has stopped.
	c.until(t, "replay paused", "SELECT pg_get_wal_replay_pause_state() = 'paused'")
}

// ResumeReplay lets the standby apply WAL again.
func (c *Cluster) ResumeReplay(t testing.TB) {
	t.Helper()
	c.replay(t, "SELECT pg_wal_replay_resume()")
}

// CatchUp waits until the standby c has replayed all the WAL that primary
// had written when it was called.
func (c *Cluster) CatchUp(t testing.TB, primary *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replayWait)
	defer cancel()
	var lsn string
	if err := queryRow(ctx, primary.URL("postgres"), "SELECT pg_current_wal_lsn()::text", &lsn); err != nil {
		t.Fatalf("primary's WAL position: %v", err)
	}
	c.until(t, "replayed up to "+lsn, fmt.Sprintf("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn))
}

func (c *Cluster) replay(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectWait)
	defer cancel()
	var ignored any
	if err := queryRow(ctx, c.URL("postgres"), sql, &ignored); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// until polls a query of one boolean on c until it is true.
func (c *Cluster) until(t testing.TB, what, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replayWait)
	defer cancel()
	for {
		var ok bool
		err := queryRow(ctx, c.URL("postgres"), sql, &ok)
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("standby not %s within %s (last error %v)\n%s", what, replayWait, err, c.LogTail())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func queryRow(ctx context.Context, url, sql string, dest any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql).Scan(dest)
}
