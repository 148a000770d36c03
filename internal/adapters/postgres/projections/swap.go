package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgactivity"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/customer"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// The swap of a blue/green rebuild: see Rebuild.

// changedSinceSQL lists the streams with events that a snapshot ($1) did
// not see: committed after it was taken. The transaction id range is one
// of events_transaction_position_idx.
const changedSinceSQL = `
SELECT DISTINCT stream_id
  FROM events
 WHERE transaction_id >= pg_snapshot_xmin($1::text::pg_snapshot)
   AND NOT pg_visible_in_snapshot(transaction_id, $1::text::pg_snapshot)`

// swap brings the next tables up to date and swaps them in; it returns
// how many streams it replayed again, changed since the fill's snapshot.
// Each attempt waits for each lock at most swapLockTimeout and gives up
// all it holds when one is not granted, so the service never queues
// behind it for long; between attempts it catches up outside any lock and
// waits a growing while, until the tables are free or ctx ends. See
// docs/design.md, "Blue/green projection rebuild".
func (s *store) swap(ctx context.Context, conn *pgx.Conn, tables []string, snapshot string, log zerolog.Logger) (caughtUp int, err error) {
	start := time.Now()
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		var n int
		// Most of the work happens here, outside the locks: what is left
		// for the swap is what was written in the meantime.
		if snapshot, n, err = s.catchUpAhead(ctx, conn, tables, snapshot); err != nil {
			return 0, err
		}
		caughtUp += n
		n, err = s.trySwap(ctx, conn, tables, snapshot)
		if err == nil {
			return caughtUp + n, nil
		}
		if !busy(err) {
			return 0, fmt.Errorf("swap after %s: %w", time.Since(start).Round(time.Millisecond), err)
		}
		wait := swapBackoff(attempt)
		if time.Since(start) >= swapQuiet && time.Since(lastLog) >= swapLogEvery {
			lastLog = time.Now()
			holders, herr := pgactivity.TableHolders(ctx, conn, tables)
			log.Warn().Err(err).Strs("held_by", pgactivity.Strings(holders)).AnErr("holders_error", herr).Int("attempt", attempt).
				Dur("waited", time.Since(start)).Dur("retry_in", wait).
				Msg("rebuild: the live tables are in use; the swap waits for them without holding them")
		}
		if serr := postgres.Sleep(ctx, wait); serr != nil {
			return 0, fmt.Errorf("swap: gave up after %s, %d attempts: %w (last: %w)", time.Since(start).Round(time.Millisecond), attempt, serr, err)
		}
	}
}

// trySwap takes the live tables and the next ones, waiting for each at
// most swapLockTimeout, then catches the next tables up with the streams
// changed since snapshot and renames them into the live ones, in one
// transaction; it returns how many streams it caught up.
//
// The live tables are locked in the order appends take them, so that the
// two never deadlock. Once they are held, every append has committed or
// waits: every event written is in the catch-up's view.
func (s *store) trySwap(ctx context.Context, conn *pgx.Conn, tables []string, snapshot string) (caughtUp int, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", swapLockTimeout.Milliseconds())); err != nil {
			return err
		}
		var locks []string
		for _, t := range []string{app.ProjectionOrderDetails, app.ProjectionCustomerOrders} {
			if slices.Contains(tables, t) {
				locks = append(locks, t)
			}
		}
		for _, t := range tables {
			locks = append(locks, nextTable(t))
		}
		for _, t := range locks {
			if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{t}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				return fmt.Errorf("lock %s: %w", t, err)
			}
		}
		if caughtUp, err = s.catchUpSince(ctx, tx, tables, snapshot); err != nil {
			return err
		}
		for _, t := range tables {
			if err := renameInto(ctx, tx, nextTable(t), t); err != nil {
				return fmt.Errorf("swap %s: %w", t, err)
			}
		}
		return nil
	})
	return caughtUp, err
}

// catchUpAhead replays into the next tables, without locking the live
// ones, the streams changed since snapshot, in one snapshot of its own,
// which it returns with how many streams it replayed.
func (s *store) catchUpAhead(ctx context.Context, conn *pgx.Conn, tables []string, snapshot string) (string, int, error) {
	var (
		now string
		n   int
	)
	err := pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&now); err != nil {
			return err
		}
		var err error
		n, err = s.catchUpSince(ctx, tx, tables, snapshot)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	return now, n, nil
}

// catchUpSince replays into the next tables the streams with events that
// snapshot did not see, and the orders of the customers erased since, as
// tx sees them; it returns how many.
func (s *store) catchUpSince(ctx context.Context, tx pgx.Tx, tables []string, snapshot string) (int, error) {
	rows, err := tx.Query(ctx, changedSinceSQL, snapshot)
	if err != nil {
		return 0, fmt.Errorf("streams changed since the fill: %w", err)
	}
	changed, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, fmt.Errorf("streams changed since the fill: %w", err)
	}
	erased, err := s.ordersErasedSince(ctx, tx, tables, snapshot)
	if err != nil {
		return 0, err
	}
	changed = append(changed, erased...)
	slices.SortFunc(changed, compareIDs)
	return s.catchUp(ctx, tx, tables, slices.Compact(changed))
}

// erasedSinceSQL reads the erasures recorded since a snapshot ($1): an
// erasure destroys its keys and records it in one transaction.
const erasedSinceSQL = `
SELECT event_id, event_type, schema_version, data
  FROM events
 WHERE transaction_id >= pg_snapshot_xmin($1::text::pg_snapshot)
   AND NOT pg_visible_in_snapshot(transaction_id, $1::text::pg_snapshot)
   AND event_type = $2`

// ordersErasedSince returns the orders of the customers erased since
// snapshot, and has the store's keyring forget those customers, so that
// their orders are replayed again with the keys read as destroyed. An
// erasure appends to the customer's stream alone (its orders' events stay
// as they were, or are sealed in place), so the changed streams do not
// name them, and rows replayed before it would say they are not erased,
// their personal data sealed with a destroyed key (or, from events then
// stored in clear, with a key made since, which opens). Only order_details
// holds personal data.
//
// In the swap this is every erasure committed before the swap's: an
// erasure writes order_details (clearing the customer's rows) before it
// destroys the keys, and holds the table until it commits, so once the
// swap holds the live tables every erasure has committed, and is seen
// here, or waits to erase in the tables swapped in.
func (s *store) ordersErasedSince(ctx context.Context, tx pgx.Tx, tables []string, snapshot string) ([]uuid.UUID, error) {
	if !slices.Contains(tables, app.ProjectionOrderDetails) {
		return nil, nil
	}
	rows, err := tx.Query(ctx, erasedSinceSQL, snapshot, customer.TypePersonalDataErased)
	if err != nil {
		return nil, fmt.Errorf("erasures since the fill: %w", err)
	}
	var (
		customers     []uuid.UUID
		eventID       uuid.UUID
		eventType     string
		schemaVersion int
		data          []byte
	)
	_, err = pgx.ForEachRow(rows, []any{postgres.ScanUUID(&eventID), &eventType, &schemaVersion, &data}, func() error {
		e, err := s.Codec().DecodeCustomer(eventType, schemaVersion, data)
		if err != nil {
			return fmt.Errorf("event %s: %w", eventID, err)
		}
		customers = append(customers, e.(customer.PersonalDataErased).CustomerID)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("erasures since the fill: %w", err)
	}
	if len(customers) == 0 {
		return nil, nil
	}
	if k := s.Keyring(); k != nil {
		for _, c := range customers {
			k.Forget(c)
		}
	}
	// The live customer_orders finds them as the erasure did, unless it is
	// being rebuilt too.
	from := app.ProjectionCustomerOrders
	if slices.Contains(tables, from) {
		from = nextTable(from)
	}
	rows, err = tx.Query(ctx, `SELECT order_id FROM `+pgx.Identifier{from}.Sanitize()+` WHERE customer_id = ANY ($1)`, postgres.UUIDs(customers))
	if err != nil {
		return nil, fmt.Errorf("orders of the customers erased since the fill: %w", err)
	}
	orders, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("orders of the customers erased since the fill: %w", err)
	}
	return orders, nil
}

// catchUp replays the streams again, in one query, and upserts their rows
// into the next tables.
func (s *store) catchUp(ctx context.Context, tx pgx.Tx, tables []string, ids []uuid.UUID) (int, error) {
	// A customer's stream changed too: it has no rows to catch up.
	ids = slices.DeleteFunc(ids, func(id uuid.UUID) bool { return !order.IsOrderID(id) })
	if len(ids) == 0 {
		return 0, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE stream_id = ANY ($1::uuid[]) ORDER BY stream_id, stream_version`, ids)
	if err != nil {
		return 0, fmt.Errorf("catch up: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByPos[eventRow])
	if err != nil {
		return 0, fmt.Errorf("catch up: %w", err)
	}
	w := &rowWriter{store: s.Store, conn: tx.Conn(), tables: tables}
	var o eventstore.Replay
	for i, e := range events {
		if i > 0 && e.StreamID != events[i-1].StreamID {
			o = eventstore.Replay{}
		}
		if _, err := s.Apply(ctx, &o, e.stored()); err != nil {
			return 0, fmt.Errorf("catch up order %s: %w", e.StreamID, err)
		}
		if i == len(events)-1 || events[i+1].StreamID != e.StreamID {
			if err := w.add(ctx, &o); err != nil {
				return 0, err
			}
		}
	}
	return len(ids), w.flush(ctx)
}

// indexesSQL lists a table's indexes with what defines them: uniqueness
// and the definition after the table's name, the same for a table and its
// LIKE copy.
const indexesSQL = `
SELECT c.relname, ix.indisunique, regexp_replace(pg_get_indexdef(ix.indexrelid), '^.* USING ', '')
  FROM pg_index ix JOIN pg_class c ON c.oid = ix.indexrelid
 WHERE ix.indrelid = $1::text::regclass`

// renameInto drops table to and renames from and its indexes to the
// names of to and its indexes.
func renameInto(ctx context.Context, tx pgx.Tx, from, to string) error {
	type index struct {
		Name   string
		Unique bool
		Def    string
	}
	read := func(table string) (map[string]string, error) {
		rows, err := tx.Query(ctx, indexesSQL, table)
		if err != nil {
			return nil, err
		}
		found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
		if err != nil {
			return nil, err
		}
		byDef := make(map[string]string, len(found))
		for _, ix := range found {
			byDef[fmt.Sprint(ix.Unique, " ", ix.Def)] = ix.Name
		}
		return byDef, nil
	}
	live, err := read(to)
	if err != nil {
		return err
	}
	next, err := read(from)
	if err != nil {
		return err
	}
	if len(live) != len(next) {
		return fmt.Errorf("%s has %d indexes, %s %d", to, len(live), from, len(next))
	}
	stmts := []string{
		"DROP TABLE " + pgx.Identifier{to}.Sanitize(),
		"ALTER TABLE " + pgx.Identifier{from}.Sanitize() + " RENAME TO " + pgx.Identifier{to}.Sanitize(),
	}
	for def, name := range live {
		nextName, ok := next[def]
		if !ok {
			return fmt.Errorf("%s has no index like %s", from, name)
		}
		// Renaming an index renames the constraint it backs too.
		stmts = append(stmts, "ALTER INDEX "+pgx.Identifier{nextName}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	}
	for _, sql := range stmts {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}
