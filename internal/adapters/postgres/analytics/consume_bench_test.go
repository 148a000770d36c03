package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// BenchmarkAnalyticsConsumer counts a feed of orders of 40 items, 32 of
// them in progress at a time (one event of each in turn, as 32 clients
// adding items make it), from the start: in batches of 500, as a consumer
// catching up does, and of 32, as a live one woken by every few commits
// does, where each batch meets each order once. It reports events/s and
// the CPU per event of this process and of the consumer's PostgreSQL
// backend. ORDERAPI_BENCH_ANALYTICS_EVENTS sets the feed's length (20,000
// by default).
func BenchmarkAnalyticsConsumer(b *testing.B) {
	n := 20_000
	if v := os.Getenv("ORDERAPI_BENCH_ANALYTICS_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ORDERAPI_BENCH_ANALYTICS_EVENTS=%q", v)
		}
	}
	ctx := context.Background()
	pool := pgtest.New(b)
	s := eventstore.New(pool, eventstore.Config{})
	seedFeed(b, s, pool, n, 32)
	for _, batch := range []int{500, 32} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Release()
			backend := conn.Conn().PgConn().PID()
			var counted int
			var goCPU, pgCPU time.Duration
			for b.Loop() {
				b.StopTimer()
				resetAnalytics(b, pool)
				a, err := analytics.New(s, zerolog.Nop(), analytics.Config{BatchSize: batch})
				if err != nil {
					b.Fatal(err)
				}
				go0, pg0 := processCPU(b), backendCPU(b, backend)
				b.StartTimer()
				c, err := a.CatchUp(ctx, conn.Conn())
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				goCPU += processCPU(b) - go0
				pgCPU += backendCPU(b, backend) - pg0
				counted += c
				b.StartTimer()
			}
			if counted != n*b.N {
				b.Fatalf("counted %d events in %d runs, want %d each", counted, b.N, n)
			}
			b.ReportMetric(float64(counted)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(goCPU.Microseconds())/float64(counted), "go-µs/event")
			b.ReportMetric(float64(pgCPU.Microseconds())/float64(counted), "pg-µs/event")
			b.ReportMetric(0, "ns/op")
			assertExact(b, pool)
		})
	}
}

// resetAnalytics empties the projection and moves its checkpoint back to
// the start, as Reset does, without counting.
func resetAnalytics(tb testing.TB, pool *pgxpool.Pool) {
	tb.Helper()
	_, err := pool.Exec(context.Background(), `
DELETE FROM analytics_daily;
DELETE FROM analytics_orders;
UPDATE projection_checkpoints SET transaction_id = '0', position = 0 WHERE name = 'analytics'`)
	if err != nil {
		tb.Fatal(err)
	}
	// Each run starts from tables without the last one's dead rows.
	if _, err := pool.Exec(context.Background(), `VACUUM ANALYZE analytics_orders, analytics_daily`); err != nil {
		tb.Fatal(err)
	}
}

// seedFeed writes n events by COPY, in transactions of up to 10,000: the
// histories of orders of 40 items each, placed, shipped and delivered
// (every tenth cancelled once placed), active at a time in turn.
func seedFeed(tb testing.TB, s *eventstore.Store, pool *pgxpool.Pool, n, active int) {
	tb.Helper()
	meta, err := s.Codec().EncodeMetadata(app.Metadata{RequestID: "seed", Principal: apptest.Staff})
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	orders := make([]*benchOrder, active)
	var rows [][]any
	flush := func() {
		_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"events"},
			[]string{"event_id", "stream_id", "stream_version", "event_type", "schema_version", "data", "metadata", "occurred_at"},
			pgx.CopyFromRows(rows))
		if err != nil {
			tb.Fatal(err)
		}
		rows = rows[:0]
	}
	for i := 0; i < n; i++ {
		o := orders[i%active]
		if o == nil || o.done() {
			o = &benchOrder{cancel: (i/active)%10 == 9}
			orders[i%active] = o
		}
		e := o.next(tb, at)
		v, data, err := s.Codec().Encode(e)
		if err != nil {
			tb.Fatal(err)
		}
		o.state.Apply(e, at)
		rows = append(rows, []any{uuid.Must(uuid.NewV7()), o.state.ID, o.state.Version, e.EventType(), v,
			json.RawMessage(data), json.RawMessage(meta), at})
		at = at.Add(time.Second)
		if len(rows) == 10_000 {
			flush()
		}
	}
	if len(rows) > 0 {
		flush()
	}
}

// benchOrder is an order of seedFeed in progress.
type benchOrder struct {
	state  order.Order
	cancel bool
	items  int
}

func (o *benchOrder) done() bool {
	return o.state.Status == order.StatusDelivered || o.state.Status == order.StatusCancelled
}

// next decides the order's next event.
func (o *benchOrder) next(tb testing.TB, at time.Time) order.Event {
	tb.Helper()
	var (
		events []order.Event
		err    error
	)
	switch {
	case o.state.Version == 0:
		id := uuid.Must(uuid.NewV7())
		o.state.ID = id
		events, err = order.Create(id, uuid.New(), "EUR")
	case o.items < 40:
		o.items++
		events, err = o.state.AddItem(order.NewItem{ProductID: uuid.New(), ProductName: "Thing", Quantity: int64(o.items%3 + 1), UnitPrice: order.MustParseAmount("4.99")})
	case o.state.Status == order.StatusDraft:
		events, err = o.state.Place(address)
	case o.cancel:
		events, err = o.state.Cancel("changed mind", "staff")
	case o.state.Status == order.StatusPlaced:
		events, err = o.state.Ship("1Z999", "UPS")
	default:
		events, err = o.state.Deliver(at, at, "")
	}
	if err != nil || len(events) != 1 {
		tb.Fatalf("order %s at version %d: %v", o.state.ID, o.state.Version, err)
	}
	return events[0]
}

// processCPU is the CPU time this process has used.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// backendCPU is the CPU time a PostgreSQL backend of this machine has
// used, from /proc (user and system ticks of 10ms).
func backendCPU(tb testing.TB, pid uint32) time.Duration {
	tb.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatalf("the benchmark needs PostgreSQL on this machine: %v", err)
	}
	// The fields after the command's closing parenthesis; utime and stime
	// are the 14th and 15th of the whole line.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	var ticks int64
	for _, f := range fields[11:13] {
		t, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			tb.Fatal(err)
		}
		ticks += t
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
