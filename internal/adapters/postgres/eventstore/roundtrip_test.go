package eventstore_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestAppendIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	// Given a store over one connection whose writes are counted: pgx
	// flushes once per round trip
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	var writes atomic.Int64
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		return countingConn{Conn: conn, writes: &writes}, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := eventstore.New(pool, eventstore.Config{})
	// and an order, whose creation prepared the append statement
	o := create(t, s, uuid.New(), uuid.New(), t0)

	// When a commit of two events is appended
	c := commitOf(t, o, t0.Add(time.Second), append(
		mustDecide(t, o, addItem("Mug", "1", 1)),
		mustDecide(t, o, addItem("Tea", "2", 1))...)...)
	before := writes.Load()
	mustAppend(t, s, c)

	// Then it took one round trip
	if n := writes.Load() - before; n != 1 {
		t.Errorf("append took %d round trips, want 1", n)
	}
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}
