package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/postgres/erasure"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/notify"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// The feed shows an event once every transaction older than the one that
// wrote it has ended, on the whole database server: while another test's
// transaction runs, the feed lags. So these tests wait for events, with a
// deadline, rather than expect them at once.
const feedWait = 20 * time.Second

// newFeedAPI is newAPI with a live feed: a Listener on the test's
// database waking the feed's hub, a server whose shutdown ends live feeds,
// long poll and heartbeat intervals unless opts change them, and srv to
// set the server's timeouts before it starts.
func newFeedAPI(t *testing.T, opts func(*Config, *feedhub.Config), srv func(*http.Server)) (*testAPI, *httptest.Server) {
	t.Helper()
	pool := pgtest.New(t)
	logs := &syncBuffer{}
	log := zerolog.New(io.MultiWriter(logs, zerolog.NewTestWriter(t)))

	listener, announcer := notifications(t, pool, log)
	store := eventstore.New(pool, eventstore.Config{Announcer: announcer, Keyring: eventstoretest.Keyring(t, pool)})
	svc, err := app.NewService(store, store, app.Config{
		Eraser: erasure.New(store, erasure.Config{Announcer: announcer})})
	if err != nil {
		t.Fatal(err)
	}

	closing := make(chan struct{})
	cfg := Config{
		Ready:         func(ctx context.Context) error { return pool.Ping(ctx) },
		FeedHeartbeat: time.Minute,
		Closing:       closing,
		Cursors:       testCursors, Fingerprints: testFingerprints,
		Auth: testAuthenticator,
	}
	hubCfg := feedhub.Config{Wake: listener, Poll: time.Minute}
	if opts != nil {
		opts(&cfg, &hubCfg)
	}
	hub, err := feedhub.New(svc, log, hubCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Close) // before the listener stops and pgtest closes the pool
	cfg.Feed = hub
	h, err := NewServer(svc, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	var once sync.Once
	ts.Config.RegisterOnShutdown(func() { once.Do(func() { close(closing) }) })
	if srv != nil {
		srv(ts.Config)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return &testAPI{t: t, url: ts.URL, client: specClient(t), pool: pool, logs: logs}, ts
}

// notifications runs a Listener and an Announcer on the pool, wired as
// the binary wires them: the store announces its appends to every
// listener, its own at once.
func notifications(t *testing.T, pool *pgxpool.Pool, log zerolog.Logger) (*notify.Listener, *notify.Announcer) {
	t.Helper()
	listener := notify.NewListener(pool, log)
	announcer := notify.NewAnnouncer(pool, log, listener)
	ctx, stop := context.WithCancel(context.Background())
	var running sync.WaitGroup
	for _, run := range []func(context.Context) error{listener.Run, announcer.Run} {
		running.Add(1)
		go func() {
			defer running.Done()
			_ = run(ctx)
		}()
	}
	// Before pgtest closes the pool, which waits for their connections.
	t.Cleanup(func() { stop(); running.Wait() })
	return listener, announcer
}

// feedPage gets one page of the feed.
func (a *testAPI) feedPage(query string) feedPageJSON {
	a.t.Helper()
	var page feedPageJSON
	decodeStrict(a.t, a.do("GET", "/v1/events"+query, nil).want(a.t, http.StatusOK).Body, &page)
	return page
}

// walkFeed pages through the feed after the cursor until it has n events,
// and returns them and the cursor after them.
func (a *testAPI) walkFeed(after string, query url.Values, n int) ([]feedEventJSON, string) {
	a.t.Helper()
	var got []feedEventJSON
	deadline := time.Now().Add(feedWait)
	for len(got) < n {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if after != "" {
			q.Set("after", after)
		}
		page := a.feedPage("?" + q.Encode())
		got = append(got, page.Events...)
		if len(page.Events) == 0 {
			if page.NextCursor != after && after != "" {
				a.t.Fatalf("an empty page moved the cursor from %s to %s", after, page.NextCursor)
			}
			if time.Now().After(deadline) {
				a.t.Fatalf("the feed gave %d events, want %d", len(got), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		after = page.NextCursor
	}
	return got, after
}

// history is every event of the orders, order by order.
func (a *testAPI) history(orders ...string) map[string]eventJSON {
	a.t.Helper()
	all := map[string]eventJSON{}
	for _, id := range orders {
		for _, e := range a.events(id) {
			all[e.EventID] = e
		}
	}
	return all
}

// placedOrder creates an order, adds an item and places it: three events.
func (a *testAPI) placedOrder() string {
	a.t.Helper()
	o := a.create(uuid.New())
	a.addItem(o.ID, "4.50", 2)
	a.place(o.ID)
	return o.ID
}

func TestFeedPagesWholeFeedOnce(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// Given an empty feed, it answers an empty page whose next_cursor is
	// the start, and again the start when sent back
	start := encodeFeedCursor(testCursors, app.FeedCursor{})
	if page := a.feedPage(""); len(page.Events) != 0 || page.NextCursor != start {
		t.Fatalf("empty feed: %+v, want no events and next_cursor %s", page, start)
	}
	if page := a.feedPage("?after=" + start); len(page.Events) != 0 || page.NextCursor != start {
		t.Fatalf("empty feed after the start: %+v", page)
	}

	// Given five orders, three events each
	var orders []string
	for range 5 {
		orders = append(orders, a.placedOrder())
	}
	want := a.history(orders...)

	// When a reader pages through it, three at a time
	got, end := a.walkFeed("", url.Values{"limit": {"3"}}, len(want))

	// Then it gets each event once, as the order's history has it, with
	// its order named, each order's in version order
	versions := map[string]int{}
	for _, e := range got {
		h, ok := want[e.EventID]
		if !ok {
			t.Fatalf("event %s read twice or unknown", e.EventID)
		}
		delete(want, e.EventID)
		if h.Type != e.Type || h.Version != e.Version || h.Position != e.Position || h.Data == nil {
			t.Errorf("feed event %+v, history has %+v", e, h)
		}
		if e.Version != versions[e.OrderID]+1 {
			t.Errorf("order %s: version %d after %d", e.OrderID, e.Version, versions[e.OrderID])
		}
		versions[e.OrderID] = e.Version
	}
	if len(versions) != 5 {
		t.Errorf("events of %d orders, want 5", len(versions))
	}
	// and at the end, the cursor stays where it is
	if page := a.feedPage("?after=" + end); len(page.Events) != 0 || page.NextCursor != end {
		t.Errorf("past the end: %d events, next %s, want none and %s", len(page.Events), page.NextCursor, end)
	}
}

func TestFeedFiltersByType(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// Given placed orders and a cancelled one
	first, second := a.placedOrder(), a.placedOrder()
	cancelled := a.create(uuid.New())
	a.do("POST", "/v1/orders/"+cancelled.ID+"/cancel", map[string]any{"reason": "test"}).want(t, http.StatusOK)

	// When a reader asks for two types, the parameter repeated
	got, _ := a.walkFeed("", url.Values{"type": {"OrderPlaced", "OrderCancelled"}}, 3)

	// Then it gets those events only, in feed order
	var orders, types []string
	for _, e := range got {
		orders, types = append(orders, e.OrderID), append(types, e.Type)
	}
	if !slices.Equal(orders, []string{first, second, cancelled.ID}) ||
		!slices.Equal(types, []string{"OrderPlaced", "OrderPlaced", "OrderCancelled"}) {
		t.Errorf("filtered feed: %v %v", orders, types)
	}
}

func TestFeedRejectsBadQueries(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customerCursor := encodeCursor(testCursors, app.ListQuery{CustomerID: uuid.New()}, app.Cursor{CreatedAt: time.Now(), OrderID: uuid.New()})
	tests := map[string]struct {
		query   string
		headers []string
		fields  []string
	}{
		"garbled after":              {"?after=not-a-cursor", nil, []string{"after"}},
		"a customer cursor as after": {"?after=" + customerCursor, nil, []string{"after"}},
		"after twice":                {"?after=" + encodeFeedCursor(testCursors, app.FeedCursor{}) + "&after=" + encodeFeedCursor(testCursors, app.FeedCursor{}), nil, []string{"after"}},
		"limit zero":                 {"?limit=0", nil, []string{"limit"}},
		"limit too big":              {"?limit=1001", nil, []string{"limit"}},
		"limit not a number":         {"?limit=ten", nil, []string{"limit"}},
		"limit with a plus":          {"?limit=%2B1", nil, []string{"limit"}},
		"limit with a leading zero":  {"?limit=05", nil, []string{"limit"}},
		"unknown type":               {"?type=OrderLost", nil, []string{"type"}},
		"comma-separated types":      {"?type=OrderPlaced,OrderCancelled", nil, []string{"type"}},
		"every field at once":        {"?after=x&limit=-1&type=x", nil, []string{"after", "limit", "type"}},
		"garbled Last-Event-ID":      {"", []string{"Last-Event-ID", "42"}, []string{"Last-Event-ID"}},
		"live, garbled after":        {"?after=x", []string{"Accept", "text/event-stream"}, []string{"after"}},
		"live, limit too big":        {"?limit=5000", []string{"Accept", "text/event-stream"}, []string{"limit"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := a.do("GET", "/v1/events"+tc.query, nil, tc.headers...).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			slices.Sort(fields)
			if want := slices.Sorted(slices.Values(tc.fields)); !slices.Equal(fields, want) {
				t.Errorf("fields %v, want %v", fields, want)
			}
		})
	}
}

// TestLiveFeedStreamsAndFollows: a live feed sends what is there, then
// what is appended, woken by the database's notification, not the poll.
func TestLiveFeedStreamsAndFollows(t *testing.T) {
	t.Parallel()
	// Given an order, and a server that polls only once a minute
	a, _ := newFeedAPI(t, nil, nil)
	o := a.create(uuid.New())
	a.walkFeed("", nil, 1) // readable, so the stream's first read has it

	// When a client opens the live feed
	s := a.openStream("")
	if m := s.next(feedWait); m.Retry != "2000" {
		t.Fatalf("first block %+v, want the retry hint", m)
	}
	if ct, cc := s.resp.Header.Get("Content-Type"), s.resp.Header.Get("Cache-Control"); ct != "text/event-stream" || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}

	// Then it gets the existing event
	m, e := s.nextEvent(feedWait)
	if e.OrderID != o.ID || e.Type != "OrderCreated" || e.Version != 1 {
		t.Fatalf("first event %+v", e)
	}
	// whose id is where the paged feed continues
	if page := a.feedPage(""); page.NextCursor != m.ID {
		t.Errorf("message id %s, the page's next_cursor %s", m.ID, page.NextCursor)
	}

	// When an item is added after it connected
	added := time.Now()
	a.addItem(o.ID, "1.00", 1)

	// Then the event arrives well before the minute-long poll
	if _, e := s.nextEvent(10 * time.Second); e.Type != "OrderItemAdded" || e.Version != 2 {
		t.Fatalf("second event %+v", e)
	}
	t.Logf("the appended event arrived after %s", time.Since(added))
}

// TestLiveFeedResumes: a client that reconnects with Last-Event-ID gets
// the rest, without repeats or gaps, and the events appended since.
func TestLiveFeedResumes(t *testing.T) {
	t.Parallel()
	// Given three orders, nine events
	a, _ := newFeedAPI(t, nil, nil)
	orders := []string{a.placedOrder(), a.placedOrder(), a.placedOrder()}
	all, end := a.walkFeed("", nil, 9)

	// When a client reads four events in pages of two, then goes away
	s := a.openStream("?limit=2")
	var last string
	for i := range 4 {
		m, e := s.nextEvent(feedWait)
		if e.EventID != all[i].EventID {
			t.Fatalf("event %d is %s, want %s", i, e.EventID, all[i].EventID)
		}
		last = m.ID
	}
	s.resp.Body.Close()
	// and more is appended meanwhile
	orders = append(orders, a.placedOrder())
	a.walkFeed(end, nil, 3)
	var want []string
	for _, e := range all[4:] {
		want = append(want, e.EventID)
	}
	for _, e := range a.events(orders[3]) {
		want = append(want, e.EventID)
	}

	// Then reconnecting with the last id, to a URL whose after it
	// overrides, gives exactly the rest
	s = a.openStream("?after="+encodeFeedCursor(testCursors, app.FeedCursor{}), "Last-Event-ID", last)
	var got []string
	for range want {
		_, e := s.nextEvent(feedWait)
		got = append(got, e.EventID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after resuming: %v, want %v", got, want)
	}
	// and nothing more
	select {
	case m := <-s.msgs:
		if m.Comment == "" {
			t.Errorf("unexpected block %+v", m)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// TestLiveFeedOutlivesTimeouts: heartbeats keep a quiet stream going past
// the server's read and write timeouts and the request timeout, and it
// still delivers; without wake-ups, the poll finds new events.
func TestLiveFeedOutlivesTimeouts(t *testing.T) {
	t.Parallel()
	// Given a server with short timeouts, no wake-ups and a fast poll
	a, _ := newFeedAPI(t, func(c *Config, f *feedhub.Config) {
		f.Wake = nil
		c.RequestTimeout = 100 * time.Millisecond
		f.ReadTimeout = 100 * time.Millisecond
		f.Poll = 50 * time.Millisecond
		c.FeedHeartbeat = 50 * time.Millisecond
	}, func(s *http.Server) {
		s.ReadTimeout = 200 * time.Millisecond
		s.WriteTimeout = 300 * time.Millisecond
	})

	// When a client follows an empty feed for a second
	s := a.openStream("")
	heartbeats := 0
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		if m := s.next(feedWait); m.Comment == "keep-alive" {
			heartbeats++
		}
	}
	// Then it got heartbeats
	if heartbeats < 5 {
		t.Errorf("%d heartbeats in a second, every 50ms", heartbeats)
	}
	// and an event appended now still reaches it
	o := a.create(uuid.New())
	if _, e := s.nextEvent(feedWait); e.OrderID != o.ID {
		t.Errorf("event of order %s, want %s", e.OrderID, o.ID)
	}
}

// TestLiveFeedEndsOnShutdown: graceful shutdown ends live feeds instead of
// waiting for them in vain.
func TestLiveFeedEndsOnShutdown(t *testing.T) {
	t.Parallel()
	a, ts := newFeedAPI(t, nil, nil)
	s := a.openStream("")
	s.next(feedWait) // the retry hint: the handler is streaming

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	s.ended(5 * time.Second)
}

func TestFeedCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []app.FeedCursor{{}, {TransactionID: 760, Position: 5}, {TransactionID: 1<<64 - 1, Position: 1<<63 - 1}} {
		s := encodeFeedCursor(testCursors, c)
		got, legacy, ok := decodeFeedCursor(testCursors, s)
		if !ok || legacy || got != c || len(s) != 44 || url.QueryEscape(s) != s {
			t.Errorf("%+v → %q → %+v, legacy %v, %v", c, s, got, legacy, ok)
		}
	}
	// The unsigned format 1 decodes, marked for the caller to check.
	if c, legacy, ok := decodeFeedCursor(testCursors, "AQAAAAAAAAL4AAAAAAAAAAU"); !ok || !legacy || c != (app.FeedCursor{TransactionID: 760, Position: 5}) {
		t.Errorf("format 1: %+v, legacy %v, %v", c, legacy, ok)
	}
	valid := encodeFeedCursor(testCursors, app.FeedCursor{TransactionID: 760, Position: 5})
	for _, s := range []string{"", "x", "AQAAAAAAAAL4AAAAAAAAAAU=", "AgAAAAAAAAL4AAAAAAAAAAU", "AQAAAAAAAAL4gAAAAAAAAAU",
		encodeCursor(testCursors, app.ListQuery{}, app.Cursor{CreatedAt: time.Now(), OrderID: uuid.New()}), "AQAAAAAAAAL4AAAAAAAAAAU" + "A",
		valid + "A", valid[:43], encodeFeedCursor(newTestSigner(8), app.FeedCursor{TransactionID: 760, Position: 5}),
		encodeFeedCursor(testCursors, app.FeedCursor{TransactionID: 760, Position: -1})} {
		if c, legacy, ok := decodeFeedCursor(testCursors, s); ok {
			t.Errorf("decodeFeedCursor(%q) = %+v, legacy %v; want failure", s, c, legacy)
		}
	}
}

// TestHTTPAPIDoesNotImportPgx keeps the database driver out of the HTTP
// adapter: it reaches the Listener through Config.Wake.
func TestHTTPAPIDoesNotImportPgx(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/jackc/") || strings.HasSuffix(pkg, "/adapters/postgres") {
			t.Errorf("httpapi depends on %s", pkg)
		}
	}
}

// TestAStalledLiveFeedDoesNotHoldUpShutdown: a client that stopped
// reading leaves its stream blocked in a write; graceful shutdown still
// ends it at once, rather than after the write's 30 s deadline.
func TestAStalledLiveFeedDoesNotHoldUpShutdown(t *testing.T) {
	t.Parallel()
	// Given more events than a server socket that buffers little and a
	// stalled client's socket hold
	a, ts := newFeedAPI(t, func(c *Config, _ *feedhub.Config) { manyRequests(c) }, nil)
	for range 150 {
		a.create(uuid.New())
	}
	// and the API served from such sockets too, its live feeds ended
	// when ts shuts down
	small := httptest.NewUnstartedServer(ts.Config.Handler)
	small.Listener = smallSendBuffers{small.Listener}
	small.Start()
	t.Cleanup(small.Close)
	// and a live feed there that reads nothing, blocked writing
	dialStream(t, small.Listener.Addr().String(), "", true)
	time.Sleep(time.Second)

	// When shutdown begins, and the server drains
	if err := ts.Config.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := small.Config.Shutdown(ctx)

	// Then the stalled stream ends at once
	if err != nil {
		t.Fatalf("drain = %v after %s, want the stalled stream ended", err, time.Since(start))
	}
}
