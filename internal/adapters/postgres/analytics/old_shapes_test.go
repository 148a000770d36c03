package analytics_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/analytics"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// The orders of testdata/old_shapes.sql.
var (
	oldDraft     = uuid.MustParse("0190d6c9-0000-7000-8000-00000000f001") // OrderCreated v1 without a currency
	oldDelivered = uuid.MustParse("0190d6c9-0000-7000-8000-00000000f002") // OrderCreated v1 without a currency
	oldWithJPY   = uuid.MustParse("0190d6c9-0000-7000-8000-00000000f003") // OrderCreated v1 with currency JPY
)

// loadFixture runs a file of testdata as one multi-statement script.
func loadFixture(t *testing.T, pool *pgxpool.Pool, name string) {
	t.Helper()
	sql, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), string(sql)); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
}

func TestOldShapesReadWithTheDefaultCurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Given events stored by an older release, and a service whose
	// configured default currency is EUR
	pool := pgtest.New(t)
	loadFixture(t, pool, "old_shapes.sql")
	s := eventstore.New(pool, eventstore.Config{DefaultCurrency: "EUR"})

	// Then this build can decode all of them
	if _, err := s.CheckDecodable(ctx); err != nil {
		t.Fatal(err)
	}

	// And Load replays each order in its currency: the default where none was stored
	want := map[uuid.UUID]struct {
		currency order.Currency
		status   order.Status
		version  int
		total    string
	}{
		oldDraft:     {"EUR", order.StatusDraft, 4, "59.97"},
		oldDelivered: {"EUR", order.StatusDelivered, 5, "39.98"},
		oldWithJPY:   {"JPY", order.StatusDraft, 2, "3000"},
	}
	for id, w := range want {
		o, err := s.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Currency != w.currency || o.Status != w.status || o.Version != w.version || o.Total().String() != w.total {
			t.Errorf("Load(%s) = %s %s v%d total %s; want %+v", id, o.Currency, o.Status, o.Version, o.Total(), w)
		}
	}

	// When a command on the old draft replays it and writes the read model
	draft, err := s.Load(ctx, oldDraft)
	if err != nil {
		t.Fatal(err)
	}
	draft = do(t, s, draft, t0, addItem("Saucer", "4.50", 2))

	// Then GetOrder shows it in the default currency too
	got, err := s.GetOrder(ctx, oldDraft)
	if err != nil {
		t.Fatal(err)
	}
	if got.Currency != "EUR" || !sameOrder(got, draft) {
		t.Errorf("GetOrder = %+v\nwant %+v", got, draft)
	}

	// And the events API shows OrderCreated in its current shape, v2, with the currency
	events, err := s.OrderEvents(ctx, app.EventQuery{OrderID: oldDraft})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d events, want 5", len(events))
	}
	wantCreated := `{"order_id":"0190d6c9-0000-7000-8000-00000000f001","customer_id":"0190d6c9-0000-7000-8000-0000000000c1","currency":"EUR"}`
	if c := events[0]; c.Type != order.TypeCreated || c.SchemaVersion != 2 || string(c.Data) != wantCreated || c.Metadata.RequestID != "r-f001-1" {
		t.Errorf("created = %s v%d %s %+v\nwant OrderCreated v2 %s", c.Type, c.SchemaVersion, c.Data, c.Metadata, wantCreated)
	}

	// And so does the global feed, for every order
	feed, err := s.ReadFeed(ctx, app.FeedQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	currencies := map[uuid.UUID]string{}
	for _, e := range feed {
		if e.Type != order.TypeCreated {
			continue
		}
		var data struct{ Currency string }
		if err := json.Unmarshal(e.Data, &data); err != nil || e.SchemaVersion != 2 {
			t.Errorf("feed: OrderCreated of %s is v%d %s (%v)", e.OrderID, e.SchemaVersion, e.Data, err)
		}
		currencies[e.OrderID] = data.Currency
	}
	if wantCur := map[uuid.UUID]string{oldDraft: "EUR", oldDelivered: "EUR", oldWithJPY: "JPY"}; !reflect.DeepEqual(currencies, wantCur) {
		t.Errorf("feed currencies = %v, want %v", currencies, wantCur)
	}

	// And the analytics consumer counts the old orders in their currencies
	a := newAnalytics(t, s, analytics.Config{})
	runAnalytics(t, a)
	waitCaughtUp(t, pool, a)
	rows, err := pool.Query(ctx, `SELECT DISTINCT currency FROM analytics_daily ORDER BY currency`)
	if err != nil {
		t.Fatal(err)
	}
	var counted []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		counted = append(counted, c)
	}
	if rows.Err() != nil || !slices.Equal(counted, []string{"EUR", "JPY"}) {
		t.Errorf("analytics currencies = %v (%v), want [EUR JPY]", counted, rows.Err())
	}
}

func TestCheckDecodableNamesUnknownShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, pool := newStore(t)
	create(t, s, uuid.New(), uuid.New(), t0)

	// Given events of a type and of a schema version no release of this build knows
	_, err := pool.Exec(ctx, `
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, data, occurred_at) VALUES
(gen_random_uuid(), gen_random_uuid(), 1, 'OrderTeleported', 1, '{}', now()),
(gen_random_uuid(), gen_random_uuid(), 1, 'OrderCreated', 3, '{}', now())`)
	if err != nil {
		t.Fatal(err)
	}

	// When the store is checked
	stored, err := s.CheckDecodable(ctx)

	// Then the error names each, and the pairs stored are listed
	if err == nil {
		t.Fatal("CheckDecodable passed")
	}
	for _, want := range []string{`"OrderTeleported" at schema version 1`, `"OrderCreated" at schema version 3`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	wantStored := []codec.Schema{{EventType: "OrderCreated", Version: 2}, {EventType: "OrderCreated", Version: 3}, {EventType: "OrderTeleported", Version: 1}}
	if !reflect.DeepEqual(stored, wantStored) {
		t.Errorf("stored = %v, want %v", stored, wantStored)
	}
}
