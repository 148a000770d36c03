package standby_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

// settle bounds how long a test waits for what the health checks, every
// checkEvery here, are to notice.
const (
	settle     = 30 * time.Second
	checkEvery = 50 * time.Millisecond
)

// fixture is a primary with a streaming hot standby, a router over both
// whose health checks run, and a service whose queries it routes.
type fixture struct {
	primary, standby *pgtest.Cluster
	router           *standby.Router
	svc              *app.Service
	listener         *notify.Listener
}

// newFixture starts the clusters and the router's checks with cfg (its
// Standbys set here, and its CheckEvery unless set), and waits until the
// standby is in rotation.
func newFixture(t *testing.T, cfg standby.Config) *fixture {
	t.Helper()
	return newFixtureAt(t, cfg, func(f *fixture) string { return f.standby.URL("orderapi") })
}

// newStoppedFixture starts the clusters and makes the router and the
// service; start runs the router's checks. Commands work before: they
// never ask the router.
func newStoppedFixture(t *testing.T, cfg standby.Config) (f *fixture, start func()) {
	t.Helper()
	return newStoppedFixtureAt(t, cfg, func(f *fixture) string { return f.standby.URL("orderapi") })
}

// newFixtureAt is newFixture whose standby's pool opens the URL that
// standbyURL makes of the clusters.
func newFixtureAt(t *testing.T, cfg standby.Config, standbyURL func(*fixture) string) *fixture {
	t.Helper()
	f, start := newStoppedFixtureAt(t, cfg, standbyURL)
	start()
	f.waitRotation(t, true)
	return f
}

func newStoppedFixtureAt(t *testing.T, cfg standby.Config, standbyURL func(*fixture) string) (f *fixture, start func()) {
	t.Helper()
	f = &fixture{}
	f.primary, f.standby = pgtest.NewReplicated(t, "orderapi")
	// As serve wires them: the primary's appends are announced, and its
	// listener wakes whoever follows the feed.
	log := zerolog.New(zerolog.NewTestWriter(t))
	pool := openPool(t, f.primary.URL("orderapi"))
	f.listener = notify.NewListener(pool, log)
	announcer := notify.NewAnnouncer(pool, log, f.listener)
	primary := eventstore.New(pool, eventstore.Config{Announcer: announcer})
	cfg.Standbys = []standby.Standby{{Name: "standby-1", Store: eventstore.New(openStandbyPool(t, standbyURL(f)), eventstore.Config{})}}
	if cfg.CheckEvery == 0 {
		cfg.CheckEvery = checkEvery
	}
	cfg.Log = log
	var err error
	if f.router, err = standby.New(primary, cfg); err != nil {
		t.Fatal(err)
	}
	// The state cache is off: every command by a customer checks the
	// order's owner in the read model first.
	if f.svc, err = app.NewService(primary, primary, app.Config{ReadModels: f.router, StateCacheSize: -1}); err != nil {
		t.Fatal(err)
	}
	return f, func() {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, run := range []func(context.Context) error{f.router.Run, f.listener.Run, announcer.Run} {
			wg.Go(func() { _ = run(ctx) })
		}
		t.Cleanup(func() { cancel(); wg.Wait() })
	}
}

func openPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return openConfig(t, cfg)
}

// openStandbyPool opens a pool as a standby's must be: its reads watch
// that the server is in recovery.
func openStandbyPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = standby.RecoveryTracer(nil)
	return openConfig(t, cfg)
}

func openConfig(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// state is the standby's, as the router last saw it.
func (f *fixture) state() standby.StandbyStats { return f.router.Stats().Standbys[0] }

// waitRotation waits until the standby is in rotation, or out of it.
func (f *fixture) waitRotation(t *testing.T, in bool) {
	t.Helper()
	f.waitFor(t, func(s standby.StandbyStats) bool { return s.InRotation == in }, "in rotation = %v", in)
}

func (f *fixture) waitFor(t *testing.T, ok func(standby.StandbyStats) bool, what string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(settle); !ok(f.state()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby is not "+what+" after %s: %+v", append(args, settle, f.state())...)
		}
	}
}

// customer is a customer principal and the metadata of its commands.
func customer() (app.Principal, app.Metadata) {
	p := app.Principal{Subject: "customer:test", Roles: app.RolesOf(app.RoleCustomer), CustomerID: uuid.New()}
	return p, app.Metadata{Principal: p}
}

// createOrder creates an order of the customer p and returns it and the
// position of its event.
func (f *fixture) createOrder(t *testing.T, p app.Principal, meta app.Metadata) (uuid.UUID, int64) {
	t.Helper()
	res, err := f.svc.CreateOrder(t.Context(), app.NewOrder{CustomerID: p.CustomerID}, meta)
	if err != nil {
		t.Fatal(err)
	}
	return res.Order.ID, res.Position
}

// addItem adds an item to the order and returns the position of its event.
func (f *fixture) addItem(t *testing.T, id uuid.UUID, meta app.Metadata) int64 {
	t.Helper()
	res, err := f.svc.AddItem(t.Context(), app.Target{OrderID: id, Metadata: meta}, newItem())
	if err != nil {
		t.Fatalf("add an item to %s: %v", id, err)
	}
	return res.Position
}

// newItem is an item of a product of its own.
func newItem() order.NewItem {
	return order.NewItem{ProductID: uuid.New(), ProductName: "Cup", Quantity: 1, UnitPrice: order.MustParseAmount("2.50")}
}
