package bulkload

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Config says what a load writes. Orders and Events are required; the
// rest have defaults.
type Config struct {
	// Orders and Events are how many orders, and events over all of
	// them, the load writes: Events at least Orders (an order has its
	// OrderCreated), at most maxMeanEvents times it.
	Orders, Events int
	// Customers share the orders, at random; Orders/5 if zero.
	Customers int
	// Seed makes the load: the same seed and sizes give the same orders,
	// ids and events.
	Seed uint64
	// Until is when the shop's last event happened (now if zero), Span
	// how long before it its first order was created (two years if zero):
	// orders are created evenly over it.
	Until time.Time
	Span  time.Duration
	// Writers is how many connections write events (2 if zero), one
	// more writes the read models; BatchEvents how many events one COPY
	// transaction writes (50,000 if zero).
	Writers, BatchEvents int
	// Principal is who the events' metadata say recorded them: a
	// service of the load's own, allowed every command, if zero.
	Principal app.Principal
	// Progress, if set, is told of the events written so far after each
	// batch commits.
	Progress func(events int64)
	// Built, if set, is given each order's final state, in the order the
	// orders were created.
	Built func(order.Order)
}

// maxMeanEvents bounds the events per order: well within order.MaxEvents,
// past any order a shop sees.
const maxMeanEvents = 1000

// Principal is the principal of a load's events unless Config says
// another.
var Principal = app.Principal{Subject: "bulkload", Roles: app.RolesOf(app.RoleStaff), ClientID: "bulkload"}

func (cfg *Config) check() error {
	switch {
	case cfg.Orders < 1:
		return fmt.Errorf("orders: %d, want at least 1", cfg.Orders)
	case cfg.Events < cfg.Orders:
		return fmt.Errorf("events: %d for %d orders, want at least one per order", cfg.Events, cfg.Orders)
	case cfg.Events/cfg.Orders > maxMeanEvents:
		return fmt.Errorf("events: %d for %d orders, want at most %d per order", cfg.Events, cfg.Orders, maxMeanEvents)
	case cfg.Customers < 0 || cfg.Writers < 0 || cfg.BatchEvents < 0 || cfg.Span < 0:
		return errors.New("customers, writers, batch size and span must not be negative")
	}
	if cfg.Customers == 0 {
		cfg.Customers = max(1, cfg.Orders/5)
	}
	if cfg.Until.IsZero() {
		cfg.Until = time.Now()
	}
	cfg.Until = cfg.Until.UTC().Truncate(time.Microsecond)
	if cfg.Span == 0 {
		cfg.Span = 2 * 365 * 24 * time.Hour
	}
	if cfg.Span/time.Duration(cfg.Orders) < time.Microsecond {
		return fmt.Errorf("span: %s is too short for %d orders", cfg.Span, cfg.Orders)
	}
	if !order.InTimeBounds(cfg.Until.Add(-cfg.Span)) || !order.InTimeBounds(cfg.Until.Add(time.Hour)) {
		return fmt.Errorf("until %s, span %s: outside the times the store keeps", cfg.Until, cfg.Span)
	}
	if cfg.Writers == 0 {
		cfg.Writers = 2
	}
	if cfg.BatchEvents == 0 {
		cfg.BatchEvents = 50_000
	}
	if cfg.Principal.Subject == "" {
		cfg.Principal = Principal
	}
	return nil
}

// Report is what a load did.
type Report struct {
	Orders, Events int64
	// Copied is how long deciding and writing took; Vacuumed how long
	// the vacuum and analysis of the tables after it.
	Copied, Vacuumed time.Duration
	// TriggersSkipped says the events were written without the table's
	// row triggers, Writers by how many connections.
	TriggersSkipped bool
	Writers         int
}

// Load writes cfg's orders into the migrated database of pool, which must
// allow cfg.Writers+1 connections, and vacuums and analyses the tables it
// wrote, as autovacuum would have in a store that grew so: reads then
// find the visibility map set and the planner knows the tables' sizes.
func Load(ctx context.Context, pool *pgxpool.Pool, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, fmt.Errorf("bulk load: %w", err)
	}
	if need := int32(cfg.Writers + 1); pool.Config().MaxConns < need {
		return Report{}, fmt.Errorf("bulk load: the pool allows %d connections, %d writers need %d", pool.Config().MaxConns, cfg.Writers, need)
	}
	started := time.Now()
	rep, err := load(ctx, pool, cfg)
	if err != nil {
		return Report{}, fmt.Errorf("bulk load: %w", err)
	}
	rep.Copied = time.Since(started)
	started = time.Now()
	if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) events, order_details, customer_orders"); err != nil {
		return Report{}, fmt.Errorf("bulk load: vacuum: %w", err)
	}
	rep.Vacuumed = time.Since(started)
	return rep, nil
}

func load(ctx context.Context, pool *pgxpool.Pool, cfg Config) (Report, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rep := Report{Writers: cfg.Writers, TriggersSkipped: true}

	writers := make([]*eventWriter, cfg.Writers)
	var written atomic.Int64
	for i := range writers {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return Report{}, err
		}
		// The connection goes back to the pool as it came.
		defer func() {
			if _, err := c.Exec(context.WithoutCancel(ctx), "RESET session_replication_role"); err != nil {
				c.Conn().Close(context.WithoutCancel(ctx))
			}
			c.Release()
		}()
		off, err := skipTriggers(ctx, c.Conn())
		if err != nil {
			return Report{}, err
		}
		rep.TriggersSkipped = rep.TriggersSkipped && off
		writers[i] = &eventWriter{conn: c.Conn(), written: func(n int) {
			if total := written.Add(int64(n)); cfg.Progress != nil {
				cfg.Progress(total)
			}
		}}
	}
	for _, w := range writers {
		w.triggersOff = rep.TriggersSkipped
	}
	projConn, err := pool.Acquire(ctx)
	if err != nil {
		return Report{}, err
	}
	defer projConn.Release()

	var (
		wg       sync.WaitGroup
		blocks   = make(chan block, 1)
		batches  = make(chan eventBatch, 1)
		projRows = make(chan []eventstore.DetailsRow, 2)
	)
	run := func(f func() error) {
		wg.Go(func() {
			if err := f(); err != nil {
				cancel(err)
			}
		})
	}
	p := newPlan(cfg)
	h := &historian{shop: newShop(cfg.Seed, cfg.Customers), codec: codec.New(codec.Config{}), principal: cfg.Principal}
	run(func() error { return p.generate(ctx, h, max(1, runtime.GOMAXPROCS(0)), blocks) })
	for _, w := range writers {
		run(func() error { return w.run(ctx, batches) })
	}
	run(func() error { return writeProjections(ctx, projConn.Conn(), projRows) })
	run(func() error {
		defer close(batches)
		defer close(projRows)
		return arrange(ctx, cfg, blocks, batches, projRows, &rep)
	})
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return Report{}, err
	}
	if rep.Events != written.Load() {
		return Report{}, fmt.Errorf("%d events placed, %d written", rep.Events, written.Load())
	}
	return rep, nil
}

// projectionBatch is how many orders one COPY of the read models writes.
const projectionBatch = 20_000

// arrange places the decided orders' events in the timeline, hands its
// batches to the event writers, each with its turn, and the orders'
// read-model rows to their writer.
func arrange(ctx context.Context, cfg Config, blocks <-chan block, batches chan<- eventBatch, projRows chan<- []eventstore.DetailsRow, rep *Report) error {
	turn := make(chan struct{})
	close(turn)
	t := &timeline{
		rng:  newRand(cfg.Seed, 0x74696d65), // "time"
		size: cfg.BatchEvents,
		send: func(rows []eventRow) error {
			next := make(chan struct{})
			select {
			case batches <- eventBatch{rows: rows, turn: turn, next: next}:
			case <-ctx.Done():
				return ctx.Err()
			}
			turn = next
			rep.Events += int64(len(rows))
			return nil
		},
	}
	details := make([]eventstore.DetailsRow, 0, projectionBatch)
	sendDetails := func() error {
		select {
		case projRows <- details:
		case <-ctx.Done():
			return ctx.Err()
		}
		details = make([]eventstore.DetailsRow, 0, projectionBatch)
		return nil
	}
	for {
		var blk block
		select {
		case b, ok := <-blocks:
			if !ok {
				return finish(t, details, sendDetails)
			}
			blk = b
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		for i, b := range blk.orders {
			if err := t.add(b); err != nil {
				return err
			}
			if cfg.Built != nil {
				cfg.Built(b.state)
			}
			rep.Orders++
			details = append(details, blk.details[i])
			if len(details) == projectionBatch {
				if err := sendDetails(); err != nil {
					return err
				}
			}
		}
	}
}

// finish places the timeline's last events and sends the last rows.
func finish(t *timeline, details []eventstore.DetailsRow, sendDetails func() error) error {
	if err := t.flush(); err != nil {
		return err
	}
	if len(details) > 0 {
		return sendDetails()
	}
	return nil
}
