package natsrelay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderapi/orderapi/internal/adapters/cloudevent"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay/natstest"
	"github.com/orderapi/orderapi/internal/adapters/postgres"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/relaystate"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/apptest"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// wait bounds every wait for the relay: the feed shows an event only once
// every older transaction on the server has ended, and other tests run.
const wait = 60 * time.Second

// fixture is a service over a fresh database and a stream of the test's
// own on a NATS server.
type fixture struct {
	t     *testing.T
	url   string
	names natstest.Names
	pool  *pgxpool.Pool
	store *eventstore.Store
	svc   *app.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	url := natstest.URL(t)
	return newFixtureAt(t, url)
}

// newFixtureAt is a fixture whose stream is on the server at url.
func newFixtureAt(t *testing.T, url string) *fixture {
	t.Helper()
	return newFixtureOn(t, url, pgtest.New(t))
}

// newFixtureOn is a fixture over the database of pool, whose stream is on
// the server at url.
func newFixtureOn(t *testing.T, url string, pool *pgxpool.Pool) *fixture {
	t.Helper()
	// Personal data sealed, and customers erased, as the service does.
	store := eventstore.New(pool, eventstore.Config{Keyring: eventstoretest.Keyring(t, pool)})
	svc, err := app.NewService(store, store, app.Config{Eraser: erasure.New(store, erasure.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, url: url, names: natstest.Unique(t, url), pool: pool, store: store, svc: svc}
}

// config is the relay's configuration for the fixture's stream, quick to
// poll and retry.
func (f *fixture) config() natsrelay.Config {
	return natsrelay.Config{
		URL:            f.url,
		Stream:         natsrelay.StreamConfig{Name: f.names.Stream, SubjectPrefix: f.names.Prefix},
		Encode:         encode,
		PersonalFields: codec.PersonalFields,
		Checkpoints:    relaystate.New(f.pool),
		Lag:            f.store,
		StalledRetry:   200 * time.Millisecond,
		Poll:           20 * time.Millisecond,
		MaxBackoff:     300 * time.Millisecond,
		AckWait:        2 * time.Second,
	}
}

// lock is the relay's lock over the fixture's database (key 0: the relay's).
func (f *fixture) lock(key int64) *postgres.Lock {
	if key == 0 {
		key = postgres.RelayLockKey
	}
	return postgres.NewLock(f.pool, postgres.LockConfig{Key: key, Name: "nats relay", Retry: 50 * time.Millisecond,
		Log: zerolog.New(zerolog.NewTestWriter(f.t))})
}

// start runs a relay until the returned stop (or the test's end).
func (f *fixture) start(cfg natsrelay.Config, lock natsrelay.Elector) (*natsrelay.Relay, func()) {
	f.t.Helper()
	return f.startOn(f.store, cfg, lock)
}

// startOn is start, the relay reading feed.
func (f *fixture) startOn(feed natsrelay.Feed, cfg natsrelay.Config, lock natsrelay.Elector) (*natsrelay.Relay, func()) {
	f.t.Helper()
	r, err := natsrelay.New(feed, lock, zerolog.New(zerolog.NewTestWriter(f.t)).Level(zerolog.WarnLevel), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	f.t.Cleanup(stop)
	return r, stop
}

// orders appends n orders of items+1 events each (a creation, then items).
func (f *fixture) orders(n, items int) {
	f.t.Helper()
	for range n {
		if err := writeOrder(f.svc, items); err != nil {
			f.t.Fatal(err)
		}
	}
}

func writeOrder(svc *app.Service, items int) error {
	ctx := context.Background()
	res, err := svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, apptest.AsStaff)
	if err != nil {
		return err
	}
	for i := range items {
		item := order.NewItem{ProductID: uuid.New(), ProductName: fmt.Sprintf("item %d", i), Quantity: 1, UnitPrice: order.MustParseAmount("2.50")}
		if res, err = svc.AddItem(ctx, app.Target{OrderID: res.Order.ID, ExpectedVersion: res.Order.Version, Metadata: apptest.AsStaff}, item); err != nil {
			return err
		}
	}
	return nil
}

// feed is the whole feed once it holds n events.
func (f *fixture) feed(n int) []app.RecordedEvent { return apptest.Feed(f.t, f.svc, n, wait) }

// stream is every message of the fixture's stream, once it holds n, in
// stream order; it fails if it holds more.
func (f *fixture) stream(n int) []*jetstream.RawStreamMsg {
	f.t.Helper()
	_, js := natstest.JetStream(f.t, f.url)
	ctx := context.Background()
	var last uint64
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		s, err := js.Stream(ctx, f.names.Stream)
		if err == nil {
			info, err := s.Info(ctx)
			if err != nil {
				f.t.Fatal(err)
			}
			if last = info.State.LastSeq; last >= uint64(n) {
				break
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the stream holds %d messages, want %d", last, n)
		}
	}
	// What the relay still had in flight would show now.
	time.Sleep(200 * time.Millisecond)
	s, err := js.Stream(ctx, f.names.Stream)
	if err != nil {
		f.t.Fatal(err)
	}
	var msgs []*jetstream.RawStreamMsg
	for seq := uint64(1); ; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	if len(msgs) != n {
		f.t.Fatalf("the stream holds %d messages, want %d", len(msgs), n)
	}
	return msgs
}

// sameAsFeed checks that msgs are the feed's events, once each, in feed
// order, on their subjects, with their headers.
func (f *fixture) sameAsFeed(msgs []*jetstream.RawStreamMsg, feed []app.RecordedEvent) {
	f.t.Helper()
	if len(msgs) != len(feed) {
		f.t.Fatalf("%d messages for %d events", len(msgs), len(feed))
	}
	for i, e := range feed {
		m := msgs[i]
		want := f.names.Prefix + "." + e.Type + "." + e.OrderID.String()
		if m.Subject != want || m.Header.Get("Nats-Msg-Id") != e.EventID.String() || m.Header.Get("Content-Type") != "application/cloudevents+json" {
			f.t.Fatalf("message %d: subject %s, Nats-Msg-Id %s, Content-Type %s; want %s, %s (event %d of the feed)",
				m.Sequence, m.Subject, m.Header.Get("Nats-Msg-Id"), m.Header.Get("Content-Type"), want, e.EventID, i)
		}
		var ce struct {
			ID       string          `json:"id"`
			Position string          `json:"orderapiposition"`
			TxID     string          `json:"orderapitxid"`
			Data     json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(m.Data, &ce); err != nil || ce.ID != e.EventID.String() ||
			ce.Position != strconv.FormatInt(e.Position, 10) || ce.TxID != strconv.FormatUint(e.TransactionID, 10) {
			f.t.Fatalf("message %d's body %s is not event %s's (%v)", m.Sequence, m.Data, e.EventID, err)
		}
		// and its content is the feed's
		if !jsonEqual(ce.Data, e.Data) {
			f.t.Fatalf("message %d's data %s; the feed has %s", m.Sequence, ce.Data, e.Data)
		}
	}
}

// encode is each message's body as serve makes it: the event as a
// CloudEvent (api/asyncapi.yaml).
func encode(e app.RecordedEvent) ([]byte, error) { return cloudevent.Encode(e, "/orderapi") }

// jsonEqual reports whether two JSON texts differ only in insignificant
// space.
func jsonEqual(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}
