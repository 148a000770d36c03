package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// rebuildLockKey is the session advisory lock that keeps two rebuilds
// apart: "rebuild!" in ASCII, unlike the consumer's and goose's.
const rebuildLockKey int64 = 0x72656275696c6421

// RebuildReport is what Rebuild did.
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

// Rebuild rebuilds the named projections (app.ProjectionOrderDetails,
// app.ProjectionCustomerOrders, app.ProjectionAnalytics) from the event
// store while the service keeps serving: the inline ones blue/green, each
// into a fresh table swapped in under a short lock, analytics by
// analytics.Reset. It runs as the role that owns the tables. See
// docs/design.md, "Blue/green projection rebuild".
func Rebuild(ctx context.Context, st *eventstore.Store, names []string, log zerolog.Logger) (RebuildReport, error) {
	return newStore(st).rebuild(ctx, names, log)
}

// store is the event store that a rebuild or a verification replays.
type store struct {
	*eventstore.Store
	pool *pgxpool.Pool
	// verifyChunk is about how many orders each of verify's transactions
	// compares; afterVerifyRange, if set, runs between two.
	verifyChunk      int
	afterVerifyRange func()
	// filling, if set, runs once the fill's snapshot is taken, before it
	// replays anything.
	filling func()
}

func newStore(st *eventstore.Store) *store {
	return &store{Store: st, pool: st.Pool(), verifyChunk: verifyChunk}
}

func (s *store) rebuild(ctx context.Context, names []string, log zerolog.Logger) (_ RebuildReport, err error) {
	defer postgres.MarkUnavailable(&err)
	var rep RebuildReport
	var tables []string
	for _, n := range names {
		switch n {
		case app.ProjectionOrderDetails, app.ProjectionCustomerOrders:
			tables = append(tables, n)
		case app.ProjectionAnalytics:
			rep.Analytics = true
		default:
			return RebuildReport{}, fmt.Errorf("rebuild: unknown projection %q", n)
		}
	}
	held, err := postgres.NewLock(s.pool, postgres.LockConfig{Key: rebuildLockKey, Name: "rebuild"}).Try(ctx)
	if err != nil {
		return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
	}
	if held == nil {
		return RebuildReport{}, errors.New("rebuild: another rebuild is running")
	}
	// Releasing closes the connection, which ends the session, releasing
	// its locks even when an error left it in an unknown state.
	defer held.Release()
	conn := held.Conn()
	if len(tables) > 0 {
		if err := checkOwner(ctx, conn, tables); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild: %w", err)
		}
		rep.Tables = tables
		if rep.Orders, rep.CaughtUp, err = s.rebuildInline(ctx, conn, tables, log); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild %v: %w", tables, err)
		}
	}
	if rep.Analytics {
		if rep.Recounted, rep.ConsumerRuns, err = analytics.Reset(ctx, s.Store, conn); err != nil {
			return RebuildReport{}, fmt.Errorf("rebuild analytics: %w", err)
		}
	}
	return rep, nil
}

func nextTable(table string) string { return table + "_next" }

// rebuildInline fills the tables' next tables on conn and swaps them in.
func (s *store) rebuildInline(ctx context.Context, conn *pgx.Conn, tables []string, log zerolog.Logger) (orders, caughtUp int, err error) {
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
func (s *store) fill(ctx context.Context, conn *pgx.Conn, tables []string) (snapshot string, orders int, err error) {
	w := &rowWriter{store: s.Store, conn: conn, tables: tables}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&snapshot); err != nil {
			return err
		}
		if s.filling != nil {
			s.filling()
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
