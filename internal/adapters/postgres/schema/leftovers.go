package schema

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/rs/zerolog"
)

// A CREATE INDEX CONCURRENTLY that fails or is cancelled (a timeout, a
// lost connection) leaves its index behind, marked invalid: never used by
// a query, yet kept up to date by every write, and in the way of the next
// attempt's CREATE INDEX. The migration lock is the only safe moment to
// drop one: an index being built looks just as invalid, and under the
// lock no other run of these migrations builds anything.

// leftoverWait bounds listing the leftovers after a failed run.
const leftoverWait = 5 * time.Second

// migrationLocker is goose's session lock, followed, on the session that
// holds it, by noting the session for the watch and dropping the
// leftovers of pending migrations' earlier attempts.
type migrationLocker struct {
	lock.SessionLocker
	fsys  fs.FS
	watch *migrationWatch
	log   zerolog.Logger
}

func (l *migrationLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if err := l.SessionLocker.SessionLock(ctx, conn); err != nil {
		return err
	}
	// Failures here are logged, not returned: goose would hand the
	// connection back to the pool still holding the lock. A leftover not
	// dropped makes its migration fail on its own, saying so.
	err := conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("a %T is not a pgx connection", driverConn)
		}
		l.watch.session.Store(c.Conn().PgConn().PID())
		return dropLeftovers(ctx, c.Conn(), l.fsys, l.log)
	})
	if err != nil {
		l.log.Warn().Err(err).Msg("cannot drop the invalid indexes of earlier migration attempts")
	}
	return nil
}

// querier is what the leftovers are looked up through: the migrating
// session's *pgx.Conn, or the pool.
type querier interface {
	versionReader
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// dropLeftovers drops every invalid index that a pending migration of
// fsys creates concurrently.
func dropLeftovers(ctx context.Context, q querier, fsys fs.FS, log zerolog.Logger) error {
	names, err := leftovers(ctx, q, fsys)
	if err != nil {
		return err
	}
	for _, name := range names {
		if _, err := q.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
			return fmt.Errorf("drop invalid index %s: %w", name, err)
		}
		log.Info().Str("index", name).Msg("dropped an invalid index left by an earlier migration attempt")
	}
	return nil
}

// leftoversNote is the end of a failed run's error: the leftovers it
// left, if any, and what becomes of them.
func leftoversNote(q querier, fsys fs.FS) string {
	ctx, cancel := context.WithTimeout(context.Background(), leftoverWait)
	defer cancel()
	names, err := leftovers(ctx, q, fsys)
	if err != nil || len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("; it left invalid index %s, which the next run drops before it tries again", strings.Join(names, ", "))
}

// leftovers returns the invalid indexes, as SQL names, that the pending
// migrations of fsys create concurrently.
func leftovers(ctx context.Context, q querier, fsys fs.FS) ([]string, error) {
	applied, err := Version(ctx, q)
	if err != nil {
		return nil, err
	}
	built, err := concurrentIndexes(fsys, applied)
	if err != nil || len(built) == 0 {
		return nil, err
	}
	rows, err := q.Query(ctx, `
SELECT i.indexrelid::regclass::text FROM pg_index i
 WHERE NOT i.indisvalid AND i.indexrelid = ANY (SELECT to_regclass(n) FROM unnest($1::text[]) n)`, built)
	if err != nil {
		return nil, fmt.Errorf("find invalid indexes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find invalid indexes: %w", err)
	}
	return names, nil
}

// createConcurrently finds the index names of CREATE INDEX CONCURRENTLY.
var createConcurrently = regexp.MustCompile(`(?i)\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("[^"]+"|[a-z_][a-z0-9_$]*)`)

// concurrentIndexes returns the names of the indexes that the Up sections
// of fsys's migrations after version applied create concurrently.
func concurrentIndexes(fsys fs.FS, applied int64) ([]string, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, file := range files {
		if v, err := goose.NumericComponent(file); err != nil || v <= applied {
			continue
		}
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		up, _, _ := strings.Cut(string(data), "-- +goose Down")
		for _, m := range createConcurrently.FindAllStringSubmatch(up, -1) {
			names = append(names, m[1])
		}
	}
	return names, nil
}
