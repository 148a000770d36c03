package httpapi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit/redistest"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// manyRequestsRate is the rate of tests that send one caller's requests by
// the hundred within a second, more than DefaultCommandRate and
// DefaultReadRate allow: the limits still count every request, and never
// refuse one there.
var manyRequestsRate = ratelimit.Rate{Limit: 1_000_000, Per: time.Second, Burst: 1_000_000}

// manyRequests gives a test server manyRequestsRate.
func manyRequests(c *Config) { c.CommandRate, c.ReadRate = manyRequestsRate, manyRequestsRate }

// Slow rates, so that no token comes back while a test runs: three
// commands and five reads, then one a minute.
var (
	threeCommands = ratelimit.Rate{Limit: 1, Per: time.Minute, Burst: 3}
	fiveReads     = ratelimit.Rate{Limit: 1, Per: time.Minute, Burst: 5}
)

func slowRates(c *Config) { c.CommandRate, c.ReadRate = threeCommands, fiveReads }

// withMetrics serves a stand-in for the metrics.
func withMetrics(c *Config) {
	c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = io.WriteString(w, "up 1\n")
	})
}

// from returns the API as reached from another loopback address: another
// client, as far as the server can tell.
func (a *testAPI) from(ip string) *testAPI {
	other := *a
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	token := ""
	if st, ok := a.client.Transport.(*specTransport); ok {
		token = st.token
	}
	other.client = &http.Client{Transport: &specTransport{t: a.t, next: &http.Transport{DialContext: dialer.DialContext}, token: token}}
	return &other
}

// otherStaff is a second member of staff: another caller, with rates of
// its own.
var otherStaff = app.Principal{Subject: "staff:grace", Roles: app.RolesOf(app.RoleStaff)}

// wantRateLimited checks a refusal for being over the rate: the problem,
// Retry-After and the draft's fields agreeing on the wait.
func (r reply) wantRateLimited(t *testing.T, class string, rate ratelimit.Rate) {
	t.Helper()
	p := r.wantProblem(t, http.StatusTooManyRequests, problem.CodeRateLimited)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int(rate.Per/time.Second) {
		t.Errorf("Retry-After %q, want 1 to %d seconds", r.Header.Get("Retry-After"), rate.Per/time.Second)
	}
	unit := map[time.Duration]string{time.Second: "second", time.Minute: "minute", time.Hour: "hour"}[rate.Per]
	wantDetail := fmt.Sprintf("this caller sends too many %s: at most %d a %s, in bursts of up to %d; retry after %d s",
		class, rate.Limit, unit, rate.Burst, secs)
	if p.Detail != wantDetail {
		t.Errorf("detail %q, want %q", p.Detail, wantDetail)
	}
	wantLimit := strconv.Quote(class) + ";r=0;t=" + strconv.Itoa(secs)
	wantPolicy := strconv.Quote(class) + ";q=" + strconv.Itoa(rate.Limit) + ";w=" + strconv.Itoa(int(rate.Per/time.Second))
	if got := r.Header.Get("RateLimit"); got != wantLimit {
		t.Errorf("RateLimit %q, want %q", got, wantLimit)
	}
	if got := r.Header.Get("RateLimit-Policy"); got != wantPolicy {
		t.Errorf("RateLimit-Policy %q, want %q", got, wantPolicy)
	}
}

// TestRateLimitsPerCallerAndKind: a caller's burst beyond its rate is
// refused, writing nothing; its reads are counted apart from its commands;
// another caller is not affected; the operational routes are not limited.
func TestRateLimitsPerCallerAndKind(t *testing.T) {
	t.Parallel()
	a := newAPI(t, slowRates, withMetrics)

	// Given a caller that sent as many commands at once as its burst
	var ids []string
	for range threeCommands.Burst {
		r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).want(t, http.StatusCreated)
		if got := r.Header.Get("RateLimit-Policy"); got != `"commands";q=1;w=60` {
			t.Errorf("RateLimit-Policy %q", got)
		}
		if got := r.Header.Get("RateLimit"); got != "" {
			t.Errorf("an answer within the rate says RateLimit %q", got)
		}
		ids = append(ids, r.order(t).ID)
	}
	events := a.count(`SELECT count(*) FROM events`)

	// When it sends one more, it is refused, and nothing is written
	a.do("POST", "/v1/orders/"+ids[0]+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "1.00",
	}).wantRateLimited(t, "commands", threeCommands)
	a.do("DELETE", "/v1/orders/"+ids[0]+"/items/"+uuid.NewString(), nil).wantRateLimited(t, "commands", threeCommands)
	if n := a.count(`SELECT count(*) FROM events`); n != events {
		t.Errorf("%d events after the refusals, %d before", n, events)
	}

	// Then its reads still pass: they have a budget of their own, which
	// HEAD shares with GET
	r := a.do("GET", "/v1/orders/"+ids[0], nil).want(t, http.StatusOK)
	if got := r.Header.Get("RateLimit-Policy"); got != `"reads";q=1;w=60` {
		t.Errorf("RateLimit-Policy of a read %q", got)
	}
	a.do("HEAD", "/v1/orders/"+ids[1], nil).want(t, http.StatusOK)
	for range fiveReads.Burst - 2 {
		a.do("GET", "/v1/orders/"+ids[2]+"/events", nil).want(t, http.StatusOK)
	}
	a.do("HEAD", "/v1/orders/"+ids[0], nil).want(t, http.StatusTooManyRequests)
	a.do("GET", "/v1/orders/"+ids[0], nil).wantRateLimited(t, "reads", fiveReads)

	// And the caller is refused from another address too: it is counted
	// by its token, wherever it connects from
	a.from("127.0.0.2").do("GET", "/v1/orders/"+ids[0], nil).wantRateLimited(t, "reads", fiveReads)

	// And another caller sends commands and reads as usual, from the same
	// address
	b := a.as(testAuthenticator.issue(otherStaff))
	b.do("POST", "/v1/orders/"+ids[0]+"/place", testAddress).wantProblem(t, http.StatusConflict, "order_empty")
	b.do("GET", "/v1/orders/"+ids[0], nil).want(t, http.StatusOK)

	// And health, readiness, the spec and metrics answer the limited
	// caller, without a policy
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml", "/metrics"} {
		r := a.do("GET", path, nil).want(t, http.StatusOK)
		if got := r.Header.Get("RateLimit-Policy"); got != "" {
			t.Errorf("%s: RateLimit-Policy %q", path, got)
		}
	}
}

// TestRateLimitsSharedThroughRedis: two servers, as two replicas, count a
// caller's requests in one bucket.
func TestRateLimitsSharedThroughRedis(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.New(t)
	replica := func(c *redis.Client) func(*Config) {
		return func(cfg *Config) {
			l, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: c, Prefix: prefix, Log: zerolog.New(zerolog.NewTestWriter(t))})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Limiter = l
			slowRates(cfg)
		}
	}
	other := redis.NewClient(client.Options())
	t.Cleanup(func() { _ = other.Close() })
	a, b := newAPI(t, replica(client)), newAPI(t, replica(other))

	// Given a caller that used its burst of commands on both replicas
	create := func(api *testAPI) reply {
		return api.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()})
	}
	create(a).want(t, http.StatusCreated)
	create(b).want(t, http.StatusCreated)
	id := create(a).want(t, http.StatusCreated).order(t).ID

	// When it sends another command to either, it is refused
	create(a).wantRateLimited(t, "commands", threeCommands)
	create(b).wantRateLimited(t, "commands", threeCommands)
	// while its reads, and other callers, pass on both
	a.do("GET", "/v1/orders/"+id, nil).want(t, http.StatusOK)
	create(b.as(testAuthenticator.issue(otherStaff))).want(t, http.StatusCreated)
}

// TestRateLimitsFailOpen: when Redis cannot be reached, requests pass
// unlimited (the limiter counts and logs it), rather than the API going
// down with it.
func TestRateLimitsFailOpen(t *testing.T) {
	t.Parallel()
	// Given limits kept in a Redis that is down
	limiter, err := ratelimit.NewRedis(ratelimit.RedisConfig{Client: redistest.DownClient(t), Log: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, slowRates, func(c *Config) { c.Limiter = limiter })

	// When a caller sends more commands than its burst
	for range threeCommands.Burst + 2 {
		r := a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()})
		// Then each is served, undecided
		r.want(t, http.StatusCreated)
		if got := r.Header.Get("RateLimit-Policy"); got != "" {
			t.Errorf("an undecided request says RateLimit-Policy %q", got)
		}
	}
	// and counted as such
	if n := limiter.Failures(); n != uint64(threeCommands.Burst+2) {
		t.Errorf("Failures() = %d, want %d", n, threeCommands.Burst+2)
	}
}

// TestRateLimitsConfigIsChecked: a rate that cannot be, refused at start.
func TestRateLimitsConfigIsChecked(t *testing.T) {
	t.Parallel()
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"commands": {CommandRate: ratelimit.Rate{Limit: 0, Per: time.Second, Burst: 1}},
		"reads":    {ReadRate: ratelimit.Rate{Limit: 10, Per: time.Millisecond, Burst: 1}},
	} {
		cfg.Ready = func(context.Context) error { return nil }
		cfg.Cursors = testCursors
		cfg.Auth, cfg.Fingerprints = testAuthenticator, testFingerprints
		if _, err := NewServer(svc, zerolog.Nop(), cfg); err == nil {
			t.Errorf("%s: NewServer took an invalid rate", name)
		}
	}
}

// TestCaller: a caller without a principal is its address; an IPv6
// client is its /64, which one host commonly holds whole.
func TestCaller(t *testing.T) {
	t.Parallel()
	for remote, want := range map[string]string{
		"192.0.2.1:1234":                 "addr:192.0.2.1",
		"[::ffff:192.0.2.1]:1234":        "addr:192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443":     "addr:2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1%eth0]:80": "addr:2001:db8:1:2::/64",
		"[::1]:80":                       "addr:::/64",
		"pipe":                           "addr:pipe",
	} {
		r := httptest.NewRequest("GET", "/v1/projections", nil)
		r.RemoteAddr = remote
		if got := access.Caller(r); got != want {
			t.Errorf("caller from %s = %q, want %q", remote, got, want)
		}
	}
}

// TestRequestsWithoutAValidTokenAreLimitedByAddress: a flood of requests
// with no token, or a refused one, is counted by its address before any
// is answered 401, so that guessing tokens costs the guesser its rate;
// another address, and a caller with a valid token from the same address,
// are not affected.
func TestRequestsWithoutAValidTokenAreLimitedByAddress(t *testing.T) {
	t.Parallel()
	a := newAPI(t, slowRates)
	path := "/v1/orders/" + uuid.NewString()
	anonymous, forged := a.as(""), a.as("forged-token")

	// Given a burst of reads without a token, and with a refused one,
	// from one address
	for i := range fiveReads.Burst {
		c := anonymous
		if i%2 == 1 {
			c = forged
		}
		c.do("GET", path, nil).want(t, http.StatusUnauthorized)
	}

	// When another is sent, with or without a token it cannot use
	// Then it is refused over the rate, before its token is judged
	anonymous.do("GET", path, nil).wantRateLimited(t, "reads", fiveReads)
	forged.do("GET", path, nil).wantRateLimited(t, "reads", fiveReads)

	// And another address, and a valid token from the same address, pass
	anonymous.from("127.0.0.3").do("GET", path, nil).want(t, http.StatusUnauthorized)
	a.do("GET", path, nil).want(t, http.StatusNotFound)
}
