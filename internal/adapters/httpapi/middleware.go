package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
)

type ctxKey int

const requestIDKey ctxKey = 0

// maxRequestIDLen bounds a client's X-Request-Id; longer ones are replaced.
const maxRequestIDLen = 64

// requestID gives every request an id, echoes it in X-Request-Id, and puts
// a logger carrying it into the context, so that every log line and every
// problem of the request can be found by it. A client's id is kept when it
// is a sane token, so that ids can follow a request across services; any
// other is replaced rather than refused, because a request must have an id
// even to be refused.
func requestID(log zerolog.Logger) func(http.Handler) http.Handler {
	return requestScope(log, 0, false)
}

// requestScope is requestID, and, when d is positive, bounds the
// request's work to d, and, when traced, does what traceLog does, in one
// layer: the context and the copy of the request each would make are made
// once.
func requestScope(log zerolog.Logger, d time.Duration, traced bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-Id")
			if !isToken(id, maxRequestIDLen) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-Id", id)
			ctx := r.Context()
			c := log.With().Str("request_id", id)
			if traced {
				c = withTrace(c, ctx)
			}
			l := c.Logger()
			ctx = l.WithContext(context.WithValue(ctx, requestIDKey, id))
			// The deadline: a command waiting for the database or for
			// its turn on a busy order gives up with a 503 instead of
			// piling up. A live feed stays open for as long as its client
			// wants: a bound on the whole request would cut it after d. It
			// bounds each of its reads by d instead.
			if d > 0 && !isLiveFeed(r) {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func newRequestID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing random source gets here; the request still
		// deserves an answer.
		return "unknown"
	}
	return id.String()
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// unmatchedRoute is the route Observe is given for a request no route
// matched (404, 405, a CORS preflight): one label for them all, since
// their paths are whatever clients send.
const unmatchedRoute = "unmatched"

// accessLog writes one line per request and reports it to observe, if set,
// through the one status-capturing writer. It names the route pattern,
// never the raw path: paths hold ids, which would make every line unique to
// aggregate and put customer ids in the logs.
func accessLog(observe func(method, route string, status int, d time.Duration)) func(http.Handler) http.Handler {
	return hlog.AccessHandler(func(r *http.Request, status, size int, d time.Duration) {
		log := hlog.FromRequest(r)
		ev := log.Info()
		if status >= http.StatusInternalServerError {
			ev = log.Warn()
		}
		route := ""
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern()
		}
		ev.Str("method", r.Method).
			Str("route", route).
			Int("status", status).
			Int("bytes", size).
			Dur("duration", d).
			Msg("request")
		if observe == nil {
			return
		}
		if route == "" {
			route = unmatchedRoute
		}
		if status == 0 {
			// The handler wrote nothing; net/http answers 200.
			status = http.StatusOK
		}
		observe(r.Method, route, status, d)
	})
}

// recoverer turns a handler's panic into a logged 500 problem, so that one
// bad request neither kills the connection silently nor leaks a stack.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				// The handler chose to abort the response; net/http
				// handles that panic and logs nothing.
				panic(rec)
			}
			hlog.FromRequest(r).Error().
				Str("panic", fmt.Sprint(rec)).
				Str("stack", string(debug.Stack())).
				Msg("handler panicked")
			problem.WriteProblem(w, r, problem.New(http.StatusInternalServerError, problem.CodeInternal,
				"an internal error occurred; quote the request_id when reporting it"))
		}()
		next.ServeHTTP(w, r)
	})
}
