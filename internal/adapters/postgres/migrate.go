package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/migrations"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrate applies every pending migration embedded in this build.
//
// Replicas that start together all call Migrate; a PostgreSQL session
// advisory lock makes them take turns, so one applies the migrations and
// the others then find nothing pending.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	// Closing this *sql.DB leaves the pool open: it only borrows from it.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	// Retry every second rather than goose's default five, so a replica
	// waiting behind another one's migration starts promptly; give up after
	// two minutes (or sooner, if ctx ends) rather than hang a deploy.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		// Only the embedded SQL counts: no Go migrations registered elsewhere.
		goose.WithDisableGlobalRegistry(true),
		// goose logs through the standard logger; the caller logs the outcome.
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		if isReadOnly(err) {
			return fmt.Errorf("migrate: pending migrations cannot be applied: %w: %w", app.ErrReadOnly, err)
		}
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// SchemaCurrent returns nil when the database has every migration of this
// build applied, and otherwise an error naming the database's version and
// the build's. Readiness probes call it.
//
// It runs on every probe, so it does not build a goose provider: that
// would wrap the pool in a *sql.DB, and its first use creates goose's
// version table, a write that a probe must not make. Instead it compares
// the highest version goose has recorded with the newest embedded file:
// one read query. That ignores gaps below the newest version, which only
// out-of-order migrations could leave and which Migrate refuses anyway.
//
// A database ahead of this build counts as current, so that replicas of
// the previous release stay ready while a newer one rolls out.
func SchemaCurrent(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := latestEmbedded()
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	var have int64
	err = pool.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM "+goose.DefaultTablename).Scan(&have)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
		have, err = 0, nil
	}
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if have < want {
		return fmt.Errorf("schema version: database is at migration %d, this build needs %d", have, want)
	}
	return nil
}

// latestEmbedded returns the highest migration version in migrations.FS.
func latestEmbedded() (int64, error) {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, name := range names {
		// goose skips files without a version prefix; so does this.
		if v, err := goose.NumericComponent(name); err == nil {
			latest = max(latest, v)
		}
	}
	if latest == 0 {
		return 0, errors.New("no migrations embedded")
	}
	return latest, nil
}
