package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/adapters/cursor"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/livefeed"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/feedhub"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Config holds what the binary decides about the HTTP interface.
type Config struct {
	// CORSOrigins are the browser origins allowed to call the API, such as
	// "https://shop.example.com". Empty allows none.
	CORSOrigins []string
	// Ready reports whether the service can do its work (database
	// reachable, schema current); GET /readyz answers 503 while it fails.
	Ready func(context.Context) error
	// ReadyDetails, if set, lists what a ready service wants an operator
	// to know; GET /readyz shows it.
	ReadyDetails func(context.Context) []ReadyDetail
	// RequestTimeout bounds each request's work, so that a stalled
	// database answers 503 instead of holding the connection; 10s if zero.
	// A live feed is bounded per read instead: it stays open at will.
	RequestTimeout time.Duration

	// Feed is the process's shared tail of the global feed, which live
	// feeds (GET /v1/events as text/event-stream) subscribe to. Nil: the
	// server makes one of its own that polls every second, without
	// wake-ups.
	Feed *feedhub.Hub
	// FeedStreams bounds the live feeds open at once in all (503
	// streams_exhausted beyond), FeedStreamsPerClient those of one caller,
	// the subject of its token (429 too_many_streams); zero means
	// DefaultFeedStreams and DefaultFeedStreamsPerClient.
	FeedStreams, FeedStreamsPerClient int
	// FeedHeartbeat is how often a quiet live feed sends a comment so that
	// proxies keep it open; 15s if zero.
	FeedHeartbeat time.Duration
	// Closing, once closed, ends every live feed. http.Server.Shutdown
	// waits for handlers to return but never tells them to, so close it
	// from the server's RegisterOnShutdown. Nil: live feeds end only when
	// their clients leave.
	Closing <-chan struct{}

	// Observe, if set, is told of every request when its answer is
	// written: the method as sent, the route pattern (such as
	// /v1/orders/{order_id}, or "unmatched" when no route matched), the
	// status and how long it took. It runs on the request's goroutine, so
	// it must be quick.
	Observe func(method, route string, status int, d time.Duration)
	// Metrics, if set, is served at GET /metrics.
	Metrics http.Handler

	// Limiter counts each caller's requests to /v1 routes against
	// CommandRate (POST, DELETE: every method but GET, HEAD and OPTIONS)
	// and ReadRate, apart; nil counts in this process's memory. A zero
	// rate is DefaultCommandRate or DefaultReadRate. No setting turns the
	// limits off: raise them.
	Limiter               Limiter
	CommandRate, ReadRate ratelimit.Rate
	// Cursors signs the cursors the API hands out and verifies those it
	// is sent back (next_cursor, the live feed's event ids): required, and
	// the same for every replica on one database.
	Cursors *cursor.Signer
	// Auth verifies the bearer token every /v1 route asks for: required,
	// so that no server runs without authentication.
	Auth Authenticator
	// Fingerprints fingerprints the requests that claim idempotency keys:
	// required, keyed wherever personal data is sealed
	// (personaldata.NewRequestFingerprints), so that a stored fingerprint
	// confirms no guess of a body without the master key.
	Fingerprints Fingerprinter
	// DevTokens, in development mode only, signs the tokens the console's
	// sign-in offers a browser on this machine (POST /console/dev/token);
	// nil, as in production, the route does not exist.
	DevTokens DevTokenMinter

	// Tracing, if set, traces the requests it samples, but the probes and
	// scrapes: a server span named by its route, continuing the trace the
	// caller's headers name. The trace ids go into the request's log lines
	// and into the metadata of the events it appends. Nil installs no
	// tracing at all.
	Tracing Tracing
}

// Tracing is what the server traces with (tracing.Tracing).
type Tracing interface {
	// Provider makes the spans.
	Provider() trace.TracerProvider
	// Propagator reads the caller's trace context from its headers.
	Propagator() propagation.TextMapPropagator
	// Sampled says whether the server span of a request whose context
	// (holding the caller's span context, if any) is ctx will be sampled,
	// and returns the context to start it in.
	Sampled(ctx context.Context) (context.Context, bool)
}

const defaultRequestTimeout = 10 * time.Second

// NewServer returns the HTTP handler of the whole API, middleware
// included.
func NewServer(svc *app.Service, log zerolog.Logger, cfg Config) (http.Handler, error) {
	if svc == nil {
		return nil, errors.New("httpapi: NewServer needs a service")
	}
	if cfg.Ready == nil {
		return nil, errors.New("httpapi: Config.Ready is required")
	}
	if cfg.Cursors == nil {
		return nil, errors.New("httpapi: Config.Cursors is required")
	}
	if cfg.Auth == nil {
		return nil, errors.New("httpapi: Config.Auth is required")
	}
	if cfg.Fingerprints == nil {
		return nil, errors.New("httpapi: Config.Fingerprints is required")
	}
	for _, o := range cfg.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("httpapi: CORS origin %q: %w", o, err)
		}
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.RequestTimeout < 0 {
		return nil, fmt.Errorf("httpapi: negative RequestTimeout %s", cfg.RequestTimeout)
	}
	live, err := newLiveFeed(svc, log, cfg)
	if err != nil {
		return nil, err
	}
	limits, err := access.NewRateLimits(cfg.Limiter, cfg.CommandRate, cfg.ReadRate)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}

	mux := chi.NewRouter()
	// Order matters: every later layer logs through the request's logger
	// and every answer, a panic's and a refusal's included, carries the
	// request id, the security headers and the CORS headers. Preflights
	// are answered before the routes, and so before the rate limits,
	// which each protected route applies once its caller is known. The
	// server span, when tracing, encloses all of it; the logger gets its
	// ids before the access log writes. requestScope sets the request's
	// deadline too: the layers it then encloses never wait, and the
	// request is copied once for both.
	if cfg.Tracing != nil {
		mux.Use(traced(cfg.Tracing))
	}
	mux.Use(
		requestScope(log, cfg.RequestTimeout, cfg.Tracing != nil),
		access.Secure,
		accessLog(cfg.Observe),
		recoverer,
	)
	if len(cfg.CORSOrigins) > 0 {
		mux.Use(access.CORS(cfg.CORSOrigins))
	}
	mux.NotFound(handleNotFound())
	mux.MethodNotAllowed(handleMethodNotAllowed(mux))
	addRoutes(mux, routeTable(svc, cfg, live), cfg.Auth, limits)
	return mux, nil
}

// checkOrigin accepts a serialized origin (scheme://host[:port]) as browsers
// send it, so that a typo in the configuration fails at start instead of
// silently blocking a frontend. "*", alone or in a pattern, is refused:
// the API is not public.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want http:// or https://")
	case u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("want scheme://host[:port] and nothing else")
	case strings.Contains(o, "*"):
		// The CORS handler would take it as a pattern: "https://*" lets
		// every site call the API with its users' tokens.
		return errors.New("want one exact origin; patterns with * are not taken")
	}
	return nil
}

// Authenticator verifies bearer tokens: see access.Authenticator.
type Authenticator = access.Authenticator

// Limiter counts requests against rates: see access.Limiter.
type Limiter = access.Limiter

// The rates a caller gets unless Config says otherwise.
var (
	DefaultCommandRate = access.DefaultCommandRate
	DefaultReadRate    = access.DefaultReadRate
)

// Secure puts the security headers of the API's answers on h's: for a
// listener of the service's own beside the API's, such as the one for
// metrics.
func Secure(h http.Handler) http.Handler { return access.Secure(h) }

// Default bounds on live feeds open at once; see Config.FeedStreams.
const (
	DefaultFeedStreams          = livefeed.DefaultStreams
	DefaultFeedStreamsPerClient = livefeed.DefaultStreamsPerClient
)
