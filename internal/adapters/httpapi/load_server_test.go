package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// loadServer is the real server over real TCP, with a hub as the binary
// wires it, whose store counts the feed's reads.
type loadServer struct {
	t      *testing.T
	addr   string
	url    string
	client *http.Client
	store  *countingStore
	svc    *app.Service
	logs   *syncBuffer
}

func newLoadServer(t *testing.T) *loadServer {
	t.Helper()
	pool := pgtest.New(t)
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.InfoLevel)
	listener, announcer := notifications(t, pool, log)
	store := &countingStore{Store: eventstore.New(pool, eventstore.Config{Announcer: announcer})}
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// A small buffer, so that stalled streams are dropped within the
	// few hundred events of this test.
	hub, err := feedhub.New(svc, log, feedhub.Config{Wake: listener, Buffer: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close)
	h, err := NewServer(svc, log, Config{
		Ready: func(ctx context.Context) error { return pool.Ping(ctx) },
		Feed:  hub, FeedStreams: 1000, FeedStreamsPerClient: 1000,
		Cursors: testCursors, Fingerprints: testFingerprints,
		Auth:        testAuthenticator,
		CommandRate: manyRequestsRate, ReadRate: manyRequestsRate,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = smallSendBuffers{ts.Listener}
	ts.Start()
	t.Cleanup(ts.Close)
	return &loadServer{t: t, addr: ts.Listener.Addr().String(), url: ts.URL, client: ts.Client(), store: store, svc: svc, logs: logs}
}

func (s *loadServer) post(path, body string) time.Duration {
	s.t.Helper()
	began := time.Now()
	req, err := http.NewRequest("POST", s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(withStaffToken(req))
	if err != nil {
		s.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
	return time.Since(began)
}

func (s *loadServer) create() string {
	id := uuid.NewString()
	s.post("/v1/orders", `{"id":"`+id+`","customer_id":"`+uuid.NewString()+`"}`)
	return id
}

// addItems adds n items to the order and returns how long each took.
func (s *loadServer) addItems(id string, n int) []time.Duration {
	var took []time.Duration
	for range n {
		took = append(took, s.post("/v1/orders/"+id+"/items",
			`{"product_id":"`+uuid.NewString()+`","product_name":"Espresso beans","quantity":1,"unit_price":"4.50"}`))
	}
	return took
}

// history appends orders with items each, four writers at once, through
// the service: events with long names, to make the history weigh.
func (s *loadServer) history(orders, items int) {
	s.t.Helper()
	ctx := context.Background()
	name := strings.Repeat("Espresso beans ", 13)
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for o := w; o < orders; o += 4 {
				res, err := s.svc.CreateOrder(ctx, app.NewOrder{CustomerID: uuid.New()}, app.Metadata{Principal: staffPrincipal})
				if err != nil {
					s.t.Error(err)
					return
				}
				for range items {
					item := order.NewItem{ProductID: uuid.New(), ProductName: name, Quantity: 1, UnitPrice: order.MustParseAmount("4.50")}
					if _, err := s.svc.AddItem(ctx, app.Target{OrderID: res.Order.ID, Metadata: app.Metadata{Principal: staffPrincipal}}, item); err != nil {
						s.t.Error(err)
						return
					}
				}
			}
		}()
	}
	writers.Wait()
}

// feed is the whole feed, once it holds at least n events.
func (s *loadServer) feed(n int) []app.RecordedEvent {
	s.t.Helper()
	var all []app.RecordedEvent
	var after app.FeedCursor
	for deadline := time.Now().Add(feedWait); ; time.Sleep(10 * time.Millisecond) {
		page, err := s.svc.Feed(context.Background(), app.FeedQuery{After: after, Limit: app.MaxFeedPage})
		if err != nil {
			s.t.Fatal(err)
		}
		all, after = append(all, page.Events...), page.Next
		if len(page.Events) == 0 && len(all) >= n {
			return all
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the feed holds %d events, want %d", len(all), n)
		}
	}
}

func (s *loadServer) awaitReads(n int64) {
	s.t.Helper()
	for deadline := time.Now().Add(feedWait); s.store.reads.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%d feed reads, want %d", s.store.reads.Load(), n)
		}
	}
}

// awaitNoStreams waits until the server has let every stream go.
func (s *loadServer) awaitNoStreams() {
	s.t.Helper()
	for deadline := time.Now().Add(feedWait); strings.Count(s.logs.String(), `"route":"/v1/events"`) < 300; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatal("the streams did not end")
		}
	}
}

// countingStore counts the feed's reads.
type countingStore struct {
	*eventstore.Store
	reads atomic.Int64
}

func (c *countingStore) ReadFeed(ctx context.Context, q app.FeedQuery) ([]app.RecordedEvent, error) {
	c.reads.Add(1)
	return c.Store.ReadFeed(ctx, q)
}

// heapInUse is the memory the process's heap and stacks hold, after a
// collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func p95(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)*95/100]
}
