package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
)

// Projection names that RebuildProjections takes.
const (
	ProjectionOrderDetails   = "order_details"
	ProjectionCustomerOrders = "customer_orders"
	ProjectionAnalytics      = "analytics"
)

// rebuildLockKey is the session advisory lock that keeps two rebuilds
// apart: "rebuild!" in ASCII, unlike the consumer's and goose's.
const rebuildLockKey int64 = 0x72656275696c6421

// RebuildReport is what RebuildProjections did.
type RebuildReport struct {
	// Tables are the inline projections rebuilt and swapped in.
	Tables []string
	// Orders is how many streams the fill replayed; CaughtUp how many
	// were replayed again in the swap, changed meanwhile.
	Orders, CaughtUp int
	// Analytics tells whether analytics was reset; ConsumerRuns that a
	// running consumer counts it again, else Recounted is how many
	// events the rebuild counted itself.
	Analytics    bool
	ConsumerRuns bool
	Recounted    int
}

// RebuildProjections rebuilds the named projections from the event store
// while the service keeps serving. names are order_details,
// customer_orders and analytics.
//
// The inline projections are rebuilt blue/green. Each gets a fresh table,
// <name>_next, LIKE the live one (columns, defaults, constraints and
// indexes). A read-only REPEATABLE READ snapshot replays every stream into
// it, in batches committed as they go (the fill writes no event, so the
// feed is never held back by it). Then the swap:
//
//  1. Catch up, outside any lock: the streams with events the fill's
//     snapshot did not see (pg_visible_in_snapshot) are replayed again
//     in a new snapshot and upserted, so little is left for step 3.
//  2. In one transaction, LOCK the live tables and the next ones IN
//     ACCESS EXCLUSIVE MODE, the live ones in the order appends take
//     them (no deadlock), each waited for at most swapLockTimeout.
//     Every append begun before holds its lock until it commits, so once
//     the locks are granted every event written is committed.
//  3. Catch up again with the streams changed since step 1's snapshot,
//     DROP the live table, rename <name>_next and its indexes to the
//     live names, and commit.
//
// A lock not granted in time (a long reader holds a table) ends the
// attempt, releasing every lock taken: the service's reads and writes
// never queue behind the swap for longer than swapLockTimeout. The swap
// tries again, from step 1, after a growing wait, until the tables are
// free or ctx ends; log says what it waits for.
//
// Renaming is safe for the service's pooled connections. pgx caches
// prepared statements (QueryExecModeCacheStatement); PostgreSQL keeps a
// statement's analysed query and re-analyses it from its text when a
// relation it uses is altered or dropped, resolving the name again: the
// appends that waited on the lock, and every later execution, write the
// new table. The result types are unchanged (LIKE copies the columns), so
// no "cached plan must not change result type" either. Truncating the
// live table and copying the new one into it would also be safe, but it
// holds the lock while it copies every row, and TRUNCATE is not MVCC-safe
// for concurrent snapshots; a rename holds it for milliseconds.
//
// A rebuild runs as the role that owns the tables (the one that
// migrates), and grants on the new tables what the live ones grant: see
// checkOwner.
//
// Analytics is reset as resetAnalytics describes.
func (s *Store) RebuildProjections(ctx context.Context, names []string, log zerolog.Logger) (_ RebuildReport, err error) {
	defer markUnavailable(&err)
	var rep RebuildReport
	var tables []string
	for _, n := range names {
		switch n {
		case ProjectionOrderDetails, ProjectionCustomerOrders:
			tables = append(tables, n)
		case ProjectionAnalytics:
			rep.Analytics = true
		default:
			return RebuildReport{}, fmt.Errorf("rebuild: unknown projection %q", n)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
	}
	// Closing the connection ends the session, releasing its locks even
	// when an error left it in an unknown state.
	defer closeConn(conn)
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", rebuildLockKey).Scan(&locked); err != nil {
		return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
	}
	if !locked {
		return RebuildReport{}, errors.New("rebuild: another rebuild is running")
	}
	if len(tables) > 0 {
		if err := checkOwner(ctx, conn.Conn(), tables); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
		}
		rep.Tables = tables
		if rep.Orders, rep.CaughtUp, err = s.rebuildInline(ctx, conn.Conn(), tables, log); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild %v: %w", tables, err)
		}
	}
	if rep.Analytics {
		if rep.Recounted, rep.ConsumerRuns, err = s.resetAnalytics(ctx, conn.Conn()); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild analytics: %w", err)
		}
	}
	return rep, nil
}

func nextTable(table string) string { return table + "_next" }

// rebuildInline fills the tables' next tables on conn and swaps them in.
func (s *Store) rebuildInline(ctx context.Context, conn *pgx.Conn, tables []string, log zerolog.Logger) (orders, caughtUp int, err error) {
	for _, t := range tables {
		next := pgx.Identifier{nextTable(t)}.Sanitize()
		// A next table left by a rebuild that died is dropped.
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+next); err != nil {
			return 0, 0, err
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE "+next+" (LIKE "+pgx.Identifier{t}.Sanitize()+" INCLUDING ALL)"); err != nil {
			return 0, 0, err
		}
		if err := copyGrants(ctx, conn, t, nextTable(t)); err != nil {
			return 0, 0, err
		}
	}
	snapshot, orders, err := s.fill(ctx, conn, tables)
	if err != nil {
		return 0, 0, err
	}
	for _, t := range tables {
		if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{nextTable(t)}.Sanitize()); err != nil {
			return 0, 0, err
		}
	}
	caughtUp, err = s.swap(ctx, conn, tables, snapshot, log)
	if err != nil {
		return 0, 0, err
	}
	return orders, caughtUp, nil
}

// fill replays every stream of one snapshot into the next tables, writing
// on conn, and returns the snapshot (as text) and the streams replayed.
func (s *Store) fill(ctx context.Context, conn *pgx.Conn, tables []string) (snapshot string, orders int, err error) {
	w := &rowWriter{conn: conn, tables: tables}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&snapshot); err != nil {
			return err
		}
		events, err := openCursor(ctx, tx, "rebuild_events", eventsInStreamOrder, pgx.RowToStructByPos[eventRow])
		if err != nil {
			return err
		}
		st := &streams{s: s, events: events}
		for {
			id, ok, err := st.peekID(ctx)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			o, _, err := st.fold(ctx, id, nil)
			if err != nil {
				return err
			}
			if err := w.add(ctx, o); err != nil {
				return err
			}
			orders++
		}
		return w.flush(ctx)
	})
	if err != nil {
		return "", 0, fmt.Errorf("fill: %w", err)
	}
	return snapshot, orders, nil
}
