package schema_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
	"github.com/rs/zerolog"
)

// TestMigrationBlockedByALongReader runs a migration that alters a table a
// long reader keeps open: while it waits, the run logs the reader; when
// its time is up, it fails naming the reader; once the reader ends, it
// applies.
func TestMigrationBlockedByALongReader(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := emptyDatabase(t)
	first := fstest.MapFS{"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id int);\n")}}
	if err := schema.MigrateFS(ctx, pool, first, schema.Config{}); err != nil {
		t.Fatal(err)
	}

	// Given a reader holding t in an open transaction
	reader := connect(t, pool)
	if _, err := reader.Exec(ctx, `BEGIN; SELECT count(*) FROM t`); err != nil {
		t.Fatal(err)
	}
	both := fstest.MapFS{
		"00001_t.sql":    first["00001_t.sql"],
		"00002_note.sql": {Data: []byte("-- +goose Up\nALTER TABLE t ADD COLUMN note text;\n")},
	}

	// When a migration altering t runs with a short limit
	// The run logs from two goroutines, and has stopped both when it
	// returns: the buffer needs its writes serialized, not its reads.
	var logs bytes.Buffer
	err := schema.MigrateFS(ctx, pool, both, schema.Config{
		Timeout: 2 * time.Second, ReportEvery: 200 * time.Millisecond, Log: zerolog.New(zerolog.SyncWriter(&logs)),
	})

	// Then it fails after that limit, naming the reader and what it waited to do
	readerPID := fmt.Sprintf("pid %d (idle in transaction", reader.PgConn().PID())
	if !errors.Is(err, schema.ErrTimeout) {
		t.Fatalf("the migration under a long reader = %v", err)
	}
	t.Logf("the run's error: %v", err)
	for _, want := range []string{"gave up after 2s", "ALTER TABLE t ADD COLUMN note", "was blocked by " + readerPID, "SELECT count(*) FROM t"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// And while it waited, it logged the reader
	if l := logs.String(); !strings.Contains(l, "migration waiting for other sessions") || !strings.Contains(l, readerPID) {
		t.Errorf("the logs do not name the reader:\n%s", l)
	}

	// When the reader is gone, the migration applies
	if _, err := reader.Exec(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if err := schema.MigrateFS(ctx, pool, both, schema.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT note FROM t`); err != nil {
		t.Errorf("the column is missing: %v", err)
	}
}

// TestMigrationDropsTheInvalidIndexOfAFailedAttempt: a CREATE INDEX
// CONCURRENTLY that fails leaves an invalid index; the next run drops it
// before it tries again, though the migration does not.
func TestMigrationDropsTheInvalidIndexOfAFailedAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := emptyDatabase(t)
	fsys := fstest.MapFS{
		"00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (1);\n")},
		"00002_index.sql": {Data: []byte("-- +goose NO TRANSACTION\n-- +goose Up\n" +
			"CREATE UNIQUE INDEX CONCURRENTLY t_id_idx ON t (id);\n" +
			"-- +goose Down\nDROP INDEX CONCURRENTLY t_id_idx;\n")},
	}

	// Given a first attempt that failed half-way (a duplicate), leaving
	// the index invalid
	err := schema.MigrateFS(ctx, pool, fsys, schema.Config{})
	if err == nil || !strings.Contains(err.Error(), "left invalid index t_id_idx") {
		t.Fatalf("first attempt = %v, want a failure naming the invalid index", err)
	}

	// When the cause is removed and the migration runs again
	if _, err := pool.Exec(ctx, `DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)`); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if err := schema.MigrateFS(ctx, pool, fsys, schema.Config{Log: zerolog.New(zerolog.SyncWriter(&logs))}); err != nil {
		t.Fatalf("second attempt: %v", err)
	}

	// Then the index is there and valid, and the clean-up was logged
	var valid bool
	if err := pool.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id_idx'::regclass`).Scan(&valid); err != nil || !valid {
		t.Errorf("t_id_idx valid = %v, %v", valid, err)
	}
	if !strings.Contains(logs.String(), "dropped an invalid index") {
		t.Errorf("logs = %s", logs.String())
	}
}

// emptyDatabase is a fresh database without orderapi's schema.
func emptyDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.New(t)
	if _, err := pool.Exec(context.Background(), `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	return pool
}

// connect opens a connection of its own to the pool's database.
func connect(t *testing.T, pool *pgxpool.Pool) *pgx.Conn {
	t.Helper()
	conn, err := pgx.ConnectConfig(context.Background(), pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
