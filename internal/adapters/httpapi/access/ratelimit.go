package access

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
)

// Limiter counts requests against a token bucket per key: a
// ratelimit.Memory or ratelimit.Redis. An error leaves the request
// undecided, and it passes: a shared store that cannot be reached must not
// take the API down with it. The limiter reports its own failures.
type Limiter interface {
	Allow(ctx context.Context, key string, rate ratelimit.Rate) (ratelimit.Decision, error)
}

// The rates a caller gets unless the configuration says otherwise: far
// more than a person or a frontend sends, far less than a script
// hammering the API with one token does within a second.
var (
	DefaultCommandRate = ratelimit.Rate{Limit: 50, Per: time.Second, Burst: 100}
	DefaultReadRate    = ratelimit.Rate{Limit: 200, Per: time.Second, Burst: 400}
)

// rateClass is one of the two budgets a Caller has: commands and reads
// are counted apart, so that a frontend polling an order never uses up
// the commands it needs, nor a burst of commands its reads.
type rateClass struct {
	name string
	rate ratelimit.Rate
	// policy is the RateLimit-Policy field, the same on every answer.
	policy []string
}

func newRateClass(name string, rate ratelimit.Rate) rateClass {
	// draft-ietf-httpapi-ratelimit-headers-11 §3: the sustained quota q
	// per window of w seconds.
	policy := strconv.Quote(name) + ";q=" + strconv.Itoa(rate.Limit) + ";w=" + strconv.Itoa(int(rate.Per/time.Second))
	return rateClass{name: name, rate: rate, policy: []string{policy}}
}

// RateLimits holds each caller to its rates on the /v1 routes; the
// operational routes (health, readiness, the spec, metrics) are never
// limited, so that probes and scrapers always get through.
type RateLimits struct {
	limiter         Limiter
	commands, reads rateClass
}

// NewRateLimits counts with limiter (in memory when nil) at the rates
// given, the defaults for zero ones.
func NewRateLimits(limiter Limiter, commands, reads ratelimit.Rate) (*RateLimits, error) {
	if commands == (ratelimit.Rate{}) {
		commands = DefaultCommandRate
	}
	if reads == (ratelimit.Rate{}) {
		reads = DefaultReadRate
	}
	if err := commands.Validate(); err != nil {
		return nil, fmt.Errorf("CommandRate: %w", err)
	}
	if err := reads.Validate(); err != nil {
		return nil, fmt.Errorf("ReadRate: %w", err)
	}
	if limiter == nil {
		limiter = ratelimit.NewMemory()
	}
	return &RateLimits{limiter: limiter, commands: newRateClass("commands", commands), reads: newRateClass("reads", reads)}, nil
}

// Limit admits a request within its caller's rate and refuses one beyond
// with 429 rate_limited, Retry-After and the RateLimit field. Every answer
// it decides names the rate in RateLimit-Policy, so that a client can pace
// itself. RateLimit is sent with the refusal only
// (draft-ietf-httpapi-ratelimit-headers-11 §6.2 lets a server choose):
// what is left changes with every request, and an answer must not differ
// from its replay, nor a HEAD from its GET, by the requests made between.
func (l *RateLimits) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		class := l.commands
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			class = l.reads
		}
		d, err := l.limiter.Allow(r.Context(), class.name+":"+Caller(r), class.rate)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h["Ratelimit-Policy"] = class.policy
		if !d.Allowed {
			// Whole seconds, rounded up: never too early.
			secs := int64((d.RetryAfter + time.Second - 1) / time.Second)
			h["Ratelimit"] = []string{strconv.Quote(class.name) + ";r=0;t=" + strconv.FormatInt(secs, 10)}
			problem.Write(w, r, tooMany(class, secs))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tooMany refuses a request beyond its Caller's rate in class, which
// may ask again in secs seconds.
func tooMany(class rateClass, secs int64) error {
	unit := map[time.Duration]string{time.Second: "second", time.Minute: "minute", time.Hour: "hour"}[class.rate.Per]
	return &problem.TooManyRequests{RetryAfter: secs, Detail: fmt.Sprintf(
		"this caller sends too many %s: at most %d a %s, in bursts of up to %d; retry after %d s",
		class.name, class.rate.Limit, unit, class.rate.Burst, secs)}
}

// Caller is whom a request is counted against, its rates and its live
// feeds: the principal its token names, so that a caller is one caller
// wherever it connects from, and callers behind one proxy do not share a
// budget; without a valid token, the client's address, an IPv6 client's
// /64 (one host commonly holds all of it, and could change addresses at
// will). The prefixes keep keys of the two kinds apart.
func Caller(r *http.Request) string {
	if p := Principal(r.Context()); p.Subject != "" {
		return "sub:" + p.Subject
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return "addr:" + host
	case a.Unmap().Is4():
		return "addr:" + a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return "addr:" + p.String()
}
