package pgtest_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/schema"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewGivesSeparateMigratedEmptyDatabases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := pgtest.New(t), pgtest.New(t)

	if nameA, nameB := dbName(t, a), dbName(t, b); nameA == nameB {
		t.Fatalf("both pools are connected to database %s", nameA)
	}
	for _, pool := range []*pgxpool.Pool{a, b} {
		if n := countEvents(t, pool); n != 0 {
			t.Fatalf("fresh database has %d events, want 0", n)
		}
		if err := schema.Current(ctx, pool); err != nil {
			t.Fatalf("fresh database is not migrated: %v", err)
		}
	}

	_, err := a.Exec(ctx, `INSERT INTO events (event_id, stream_id, stream_version, event_type, data, occurred_at)
		VALUES (gen_random_uuid(), gen_random_uuid(), 1, 'Created', '{}', now())`)
	if err != nil {
		t.Fatalf("insert event: %v", err)
	}
	if n := countEvents(t, a); n != 1 {
		t.Fatalf("database written to has %d events, want 1", n)
	}
	if n := countEvents(t, b); n != 0 {
		t.Fatalf("other database has %d events, want 0: the databases are shared", n)
	}
}

func TestNewURLConnectsToAFreshDatabase(t *testing.T) {
	t.Parallel()
	conn, err := pgx.Connect(t.Context(), pgtest.NewURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	// Left open on purpose: the drop must end connections a test forgot.
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM events").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count events = %d, %v; want 0, nil", n, err)
	}
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	// pg_database is shared by all databases of a server, so a connection
	// to any of them can see whether the subtest's database is gone.
	admin := pgtest.New(t)
	var name string
	t.Run("uses a database", func(t *testing.T) {
		name = dbName(t, pgtest.New(t))
	})
	if name == "" {
		t.Fatal("subtest got no database")
	}
	var exists bool
	err := admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatalf("look up %s: %v", name, err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

// The migration checks live here because this package owns the template
// that Migrate builds.

func TestSchemaCurrentReportsAPendingMigration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, "DELETE FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatalf("forget migrations: %v", err)
	}
	err := schema.Current(ctx, pool)
	if err == nil || !strings.Contains(err.Error(), "database is at migration 0") {
		t.Fatalf("SchemaCurrent = %v, want an error naming version 0", err)
	}

	if _, err := pool.Exec(ctx, "DROP TABLE goose_db_version"); err != nil {
		t.Fatalf("drop version table: %v", err)
	}
	if err := schema.Current(ctx, pool); err == nil {
		t.Fatal("SchemaCurrent = nil on a database never migrated")
	}
}

func TestMigrateConcurrentlyOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatalf("empty the database: %v", err)
	}

	// Replicas starting at once: the advisory lock must let all succeed.
	const replicas = 3
	errs := make(chan error, replicas)
	for range replicas {
		go func() { errs <- schema.Migrate(ctx, pool, schema.Config{}) }()
	}
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	if err := schema.Current(ctx, pool); err != nil {
		t.Fatalf("after Migrate: %v", err)
	}
	if n := countEvents(t, pool); n != 0 {
		t.Fatalf("migrated database has %d events, want 0", n)
	}
}

func dbName(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var name string
	if err := pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatalf("current_database: %v", err)
	}
	return name
}

func countEvents(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatalf("count events: %v", err)
	}
	return n
}
