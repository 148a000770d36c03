package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/projections"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// The store-wide measurements of bench-scale: each goes through every
// event of the large store once, timed, with the CPU it cost.

// Names of the store-wide measurements.
const (
	copyFloorName = "COPY floor"
	feedName      = "feed from position 0"
	rebuildName   = "projections rebuild"
	verifyName    = "projections verify"
	catchUpName   = "analytics catch-up from zero"
	seedName      = "seed (bulk load)"
)

// storePhase is one pass over the store's events.
type storePhase struct {
	Name       string        `json:"name"`
	How        string        `json:"how"`
	Events     int64         `json:"events"`
	Took       time.Duration `json:"took_ns"`
	EventsPerS float64       `json:"events_per_s"`
	// CPU per event of the process that did the work (the server, the
	// orderapi command, or this benchmark) and of PostgreSQL.
	ProcessCPU  time.Duration `json:"process_cpu_per_event_ns"`
	DatabaseCPU time.Duration `json:"database_cpu_per_event_ns"`
	// VsFloor is its events/s over the COPY floor's.
	VsFloor float64 `json:"vs_copy_floor,omitempty"`
}

// timePhase runs f, which goes through events events, and times it; the
// work is this process's when pid is 0. postmaster is the cluster's (see
// postmasterPID): with it, a backend that ends during f still counts.
func timePhase(name, how string, events int64, pid, postmaster int, f func() error) (storePhase, error) {
	ps := procs{server: pid, postgres: postmaster}
	before := readCPU(ps)
	started := time.Now()
	if err := f(); err != nil {
		return storePhase{}, fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(started)
	cpu := readCPU(ps).sub(before)
	p := storePhase{Name: name, How: how, Events: events, Took: took, EventsPerS: float64(events) / took.Seconds()}
	if pid == 0 {
		cpu.Server = cpu.Bench
	}
	// Per event; a caller that learns the count later divides.
	n := time.Duration(max(events, 1))
	p.ProcessCPU, p.DatabaseCPU = cpu.Server/n, cpu.Database/n
	return p, nil
}

// copyFloorSQL is PostgreSQL reading every event, in position order, the
// columns the feed reads, to a client that keeps nothing.
const copyFloorSQL = `COPY (SELECT transaction_id, event_id, stream_id, stream_version, position, event_type, schema_version,
       data, metadata, occurred_at, recorded_at FROM events ORDER BY position) TO STDOUT`

// measureCopyFloor copies every event out; its count is the store's
// events, the requests' included.
func measureCopyFloor(ctx context.Context, pool *pgxpool.Pool, postmaster int) (storePhase, error) {
	var copied int64
	p, err := timePhase(copyFloorName, "COPY (SELECT … FROM events ORDER BY position) TO STDOUT, discarded", 0, 0, postmaster, func() error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		tag, err := conn.Conn().PgConn().CopyTo(ctx, io.Discard, copyFloorSQL)
		copied = tag.RowsAffected()
		return err
	})
	if err != nil || copied == 0 {
		return storePhase{}, errors.Join(err, errors.New("COPY floor: no events"))
	}
	// timePhase knew no count: per event now.
	n := time.Duration(copied)
	p.Events, p.EventsPerS = copied, float64(copied)/p.Took.Seconds()
	p.ProcessCPU, p.DatabaseCPU = p.ProcessCPU/n, p.DatabaseCPU/n
	return p, nil
}

// feedPage is how many events each read of the feed asks for: the most
// the API's paged feed gives.
const feedPage = app.MaxFeedPage

// measureFeed reads the whole feed through the store's ReadFeed, as a
// consumer in this process would: decoded, a page at a time.
func measureFeed(ctx context.Context, store *eventstore.Store, events int64, postmaster int) (storePhase, error) {
	how := fmt.Sprintf("eventstore ReadFeed, %d events a page, each event's metadata decoded", feedPage)
	return timePhase(feedName, how, events, 0, postmaster, func() error {
		var (
			at app.FeedCursor
			n  int64
		)
		// The feed holds back, for a moment, behind a transaction it
		// cannot tell from one of this database's (the server may be
		// shared): a consumer reads on.
		for idle := time.Now(); n < events; {
			page, err := store.ReadFeed(ctx, app.FeedQuery{After: at, Limit: feedPage})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				if time.Since(idle) > time.Minute {
					break
				}
				time.Sleep(time.Millisecond)
				continue
			}
			idle = time.Now()
			n += int64(len(page))
			last := page[len(page)-1]
			at = app.FeedCursor{TransactionID: last.TransactionID, Position: last.Position}
		}
		if n != events {
			return fmt.Errorf("read %d events, want %d", n, events)
		}
		return nil
	})
}

// measureRebuild rebuilds both inline projections in one pass, as
// `orderapi projections rebuild` does, in this process.
func measureRebuild(ctx context.Context, store *eventstore.Store, events int64, postmaster int) (storePhase, error) {
	how := "projections.Rebuild of order_details and customer_orders (the code of orderapi projections rebuild), in this process"
	return timePhase(rebuildName, how, events, 0, postmaster, func() error {
		_, err := projections.Rebuild(ctx, store, []string{app.ProjectionOrderDetails, app.ProjectionCustomerOrders}, zerolog.Nop())
		return err
	})
}

// measureVerify runs `orderapi projections verify`; its CPU is read when
// it has exited.
func measureVerify(ctx context.Context, bin, dbURL string, auth *tokens, events int64, postmaster int) (storePhase, error) {
	var cmd *exec.Cmd
	p, err := timePhase(verifyName, "orderapi projections verify", events, 0, postmaster, func() error {
		cmd = exec.CommandContext(ctx, bin, "projections", "verify")
		cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dbURL), auth.env()...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w\n%s", err, lastBytes(string(out)))
		}
		return nil
	})
	if err != nil {
		return storePhase{}, err
	}
	if events > 0 {
		st := cmd.ProcessState
		p.ProcessCPU = (st.UserTime() + st.SystemTime()) / time.Duration(events)
	}
	return p, nil
}

// waitCaughtUp waits until the analytics checkpoint reaches head.
func waitCaughtUp(ctx context.Context, pool *pgxpool.Pool, head app.FeedCursor, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		at, err := analytics.Checkpoint(ctx, pool)
		if err != nil {
			return err
		}
		if at == head {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("analytics at %+v after %s, the feed's head at %+v", at, limit, head)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sampleReads picks n customers at random, each with a token, and their
// orders, for the read scenarios. Both stores' reads then send as many
// tokens, all held by the server's cache of verified tokens (10,000): a
// token verified again would cost more than the read. Customers are
// drawn as customers: drawn through orders, those with more orders would
// come up more often, and their lists are longer.
func sampleReads(ctx context.Context, pool *pgxpool.Pool, auth *tokens, n int) (readData, error) {
	var d readData
	rows, err := pool.Query(ctx, `SELECT customer_id FROM (SELECT DISTINCT customer_id FROM customer_orders) c ORDER BY random() LIMIT $1`, n)
	if err != nil {
		return readData{}, err
	}
	d.customers, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return readData{}, err
	}
	index := make(map[uuid.UUID]int, len(d.customers))
	for i, c := range d.customers {
		index[c] = i
		token, err := auth.customer(c)
		if err != nil {
			return readData{}, err
		}
		d.tokens = append(d.tokens, token)
	}
	rows, err = pool.Query(ctx, `SELECT order_id, customer_id FROM customer_orders WHERE customer_id = ANY($1)`, d.customers)
	if err != nil {
		return readData{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var o, c uuid.UUID
		if err := rows.Scan(&o, &c); err != nil {
			return readData{}, err
		}
		d.orders, d.owners = append(d.orders, o), append(d.owners, index[c])
	}
	if err := rows.Err(); err != nil {
		return readData{}, err
	}
	if len(d.orders) == 0 {
		return readData{}, fmt.Errorf("no orders to read")
	}
	return d, nil
}

// dataDirFree is the space free on the file system of the database
// server's data directory; ok is false when it cannot be known from here
// (not a superuser, or the server on another machine).
func dataDirFree(ctx context.Context, pool *pgxpool.Pool) (dir string, free int64, ok bool) {
	if err := pool.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir); err != nil {
		return "", 0, false
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return dir, 0, false
	}
	return dir, int64(st.Bavail) * int64(st.Bsize), true
}

// walRoom is what the server's WAL may take meanwhile: max_wal_size.
func walRoom(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var mb int64
	err := pool.QueryRow(ctx, `SELECT setting::bigint FROM pg_settings WHERE name = 'max_wal_size'`).Scan(&mb)
	return mb << 20, err
}

// lastBytes is the end of a command's output.
func lastBytes(s string) string {
	const keep = 2000
	if len(s) > keep {
		return "…" + s[len(s)-keep:]
	}
	return s
}
