package schema

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/migrations"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/rs/zerolog"
)

// Config tunes Migrate. The zero value waits as long as ctx
// allows and logs nothing.
type Config struct {
	// Timeout bounds the run, waiting for another process's migrations
	// included; none if zero. Unlike a deadline on ctx, it lets Migrate
	// look, before it gives up, at what the migration was waiting for,
	// and say so in its error.
	Timeout time.Duration
	// ReportEvery is how often a run not yet done logs what the migrating
	// session is doing and which sessions block it; 10s if zero.
	ReportEvery time.Duration
	// Log receives those reports and the clean-ups of earlier attempts.
	Log zerolog.Logger
}

const defaultMigrateReportEvery = 10 * time.Second

// ErrTimeout is Migrate's error when its Timeout ran out.
var ErrTimeout = errors.New("gave up")

// Migrate applies every pending migration embedded in this build.
//
// Replicas that start together all call Migrate; a PostgreSQL session
// advisory lock makes them take turns, so one applies the migrations and
// the others then find nothing pending. Once it holds the lock, a run
// first drops the invalid indexes that a failed earlier attempt of a
// pending migration left (see dropLeftovers).
func Migrate(ctx context.Context, pool *pgxpool.Pool, cfg Config) error {
	return migrate(ctx, pool, migrations.FS, cfg)
}

// migrate is Migrate with the migrations of fsys.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, cfg Config) error {
	if err := CheckEncoding(ctx, pool); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Closing this *sql.DB leaves the pool open: it only borrows from it.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()

	watch := newMigrationWatch(pool.Config().ConnConfig, cfg.Log)
	defer watch.close()
	// Retry every second rather than goose's default five, so a replica
	// waiting behind another one's migration starts promptly; the wait is
	// bounded by the run's, not by a count of tries.
	goosed, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, math.MaxUint32))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	locker := &migrationLocker{SessionLocker: goosed, fsys: fsys, watch: watch, log: cfg.Log}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker),
		// Only the embedded SQL counts: no Go migrations registered elsewhere.
		goose.WithDisableGlobalRegistry(true),
		// goose logs through the standard logger; the caller logs the outcome.
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := provider.Up(runCtx)
		done <- err
	}()
	var timeout <-chan time.Time
	if cfg.Timeout > 0 {
		t := time.NewTimer(cfg.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(cmp.Or(cfg.ReportEvery, defaultMigrateReportEvery))
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if postgres.IsReadOnly(err) {
				return fmt.Errorf("migrate: pending migrations cannot be applied: %w: %w", app.ErrReadOnly, err)
			}
			if err != nil {
				return fmt.Errorf("migrate: %w%s", err, leftoversNote(pool, fsys))
			}
			return nil
		case <-tick.C:
			watch.report(runCtx)
		case <-timeout:
			// Look before cancelling: cancelling ends the wait to look at.
			// goose's own error then only tells of the cancellation.
			what := watch.describe(runCtx)
			cancel()
			<-done
			return fmt.Errorf("migrate: %w after %s; %s%s", ErrTimeout, cfg.Timeout, what, leftoversNote(pool, fsys))
		}
	}
}

// Current returns nil when the database has every migration of this
// build applied, and otherwise an error naming the database's version and
// the build's. Readiness probes call it, so it is one read query and
// writes nothing (no goose provider, which would create its table). A
// database ahead of this build counts as current, so that replicas of the
// previous release stay ready while a newer one rolls out.
func Current(ctx context.Context, pool *pgxpool.Pool) error {
	want, err := latestEmbedded()
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	have, err := Version(ctx, pool)
	if err != nil {
		return err
	}
	if have < want {
		return fmt.Errorf("schema version: database is at migration %d, this build needs %d", have, want)
	}
	return nil
}

// versionReader runs a query of one row; a *pgxpool.Pool and a *pgx.Conn
// are ones.
type versionReader interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Version returns the highest migration applied to the database: 0
// when it was never migrated.
func Version(ctx context.Context, db versionReader) (int64, error) {
	var have int64
	err := db.QueryRow(ctx, "SELECT coalesce(max(version_id), 0) FROM "+goose.DefaultTablename).Scan(&have)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: never migrated
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return have, nil
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
