package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
)

// TestLiveFeedLimits: a live feed beyond its client's share, or beyond the
// process's, is refused before streaming, with its own problem and
// Retry-After; a stream that ends gives its place back; pages are not
// streams.
func TestLiveFeedLimits(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		total, perClient, status int
		code                     string
	}{
		"per client": {10, 2, http.StatusTooManyRequests, problem.CodeTooManyStreams},
		"in all":     {2, 10, http.StatusServiceUnavailable, problem.CodeStreamsExhausted},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Given a client with two live feeds open, the limit
			a, _ := newFeedAPI(t, func(c *Config, _ *feedhub.Config) {
				c.FeedStreams, c.FeedStreamsPerClient = tc.total, tc.perClient
			}, nil)
			first := a.openStream("")
			a.openStream("?type=OrderPlaced")

			// When it asks for a third, it is refused
			r := a.do("GET", "/v1/events", nil, "Accept", "text/event-stream")
			r.wantProblem(t, tc.status, tc.code)
			if r.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			// and HEAD says the same
			if h := a.do("HEAD", "/v1/events", nil, "Accept", "text/event-stream"); h.Status != tc.status || h.Header.Get("Retry-After") == "" {
				t.Errorf("HEAD = %d, Retry-After %q; want %d as GET", h.Status, h.Header.Get("Retry-After"), tc.status)
			}
			// but may still read pages
			a.feedPage("")

			// When one of its streams ends, it may open another
			first.resp.Body.Close()
			for deadline := time.Now().Add(feedWait); ; time.Sleep(10 * time.Millisecond) {
				if s := a.tryStream(); s != nil {
					s.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the ended stream's place was never given back")
				}
			}
		})
	}
}

// TestLiveFeedLimitIsPerPrincipal: the per-client share of live feeds is
// the principal's, whatever address it connects from: another principal
// from the same address has a share of its own, and the same principal
// holds no more than its share.
func TestLiveFeedLimitIsPerPrincipal(t *testing.T) {
	t.Parallel()
	// Given one live feed per client, held by staff
	staff, _ := newFeedAPI(t, func(c *Config, _ *feedhub.Config) { c.FeedStreamsPerClient = 1 }, nil)
	staff.openStream("")
	// When a service opens one from the same address, it is admitted
	staff.as(serviceToken).openStream("")
	// and a second token of the same staff member is refused, as its
	// first is
	again := testAuthenticator.issue(staffPrincipal)
	staff.as(again).do("GET", "/v1/events", nil, "Accept", "text/event-stream").
		wantProblem(t, http.StatusTooManyRequests, problem.CodeTooManyStreams)
	staff.do("GET", "/v1/events", nil, "Accept", "text/event-stream").
		wantProblem(t, http.StatusTooManyRequests, problem.CodeTooManyStreams)
}

// tryStream asks for a live feed and returns it if it was granted.
func (a *testAPI) tryStream() *http.Response {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.url+"/v1/events", nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp
	}
	resp.Body.Close()
	return nil
}

// TestLiveFeedUnavailableBeforeStreaming: a live feed whose first read
// finds no database is a 503 problem with Retry-After, not an empty
// stream, and gives its place back.
func TestLiveFeedUnavailableBeforeStreaming(t *testing.T) {
	t.Parallel()
	// Given a server whose database cannot be reached, one stream per
	// client
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := eventstore.New(pool, eventstore.Config{})
	svc, err := app.NewService(store, store, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewServer(svc, zerolog.New(zerolog.NewTestWriter(t)), Config{
		Ready:                func(ctx context.Context) error { return pool.Ping(ctx) },
		FeedStreamsPerClient: 1,
		Cursors:              testCursors, Fingerprints: testFingerprints,
		Auth: testAuthenticator,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	a := &testAPI{t: t, url: ts.URL, client: specClient(t)}

	// When a client asks for the live feed, twice
	for range 2 {
		// Then it is told to retry, both times
		r := a.do("GET", "/v1/events", nil, "Accept", "text/event-stream")
		r.wantProblem(t, http.StatusServiceUnavailable, problem.CodeUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}
}

// TestSpecStatesTheStreamLimits keeps the live feed's default bounds that
// api/openapi.yaml states equal to the code's.
func TestSpecStatesTheStreamLimits(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for text, want := range map[string]string{
		doc.Info.Description:                     fmt.Sprintf("%d per caller (429 `too_many_streams`) and %d in all", DefaultFeedStreamsPerClient, DefaultFeedStreams),
		doc.Paths.Find(feedPath).Get.Description: fmt.Sprintf("at most about %d KiB of events not yet sent", feedhub.DefaultBuffer>>10),
	} {
		if !strings.Contains(oneLine(text), want) {
			t.Errorf("the spec does not say %q", want)
		}
	}
}
