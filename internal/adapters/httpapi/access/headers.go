package access

import (
	"net/http"
	"strings"

	"github.com/go-chi/cors"
)

// securityHeaders are on every answer. The API serves JSON (and its spec
// and metrics as text), never a page: browsers must not sniff another
// type, frame it, run or load anything from it, or tell another site
// where a link came from. A handler that ever serves a page sets its own
// Content-Security-Policy and X-Frame-Options.
var securityHeaders = map[string][]string{
	"X-Content-Type-Options":  {"nosniff"},
	"Referrer-Policy":         {"no-referrer"},
	"X-Frame-Options":         {"DENY"},
	"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
}

// noStore is the Cache-Control of every /v1 answer unless its handler says
// otherwise: they hold one caller's orders, and change.
var noStore = []string{"no-store"}

// Secure puts securityHeaders on every answer, and keeps /v1 answers out
// of every cache, before the handler runs: a handler that may say more (an
// order at a fixed version) sets its own Cache-Control, and every problem
// sets no-store again. The slices are shared, never appended to in place:
// net/http only reads them, and an append to a full slice copies it.
// cmd/orderapi puts it on its metrics listener too.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h[k] = v
		}
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			h["Cache-Control"] = noStore
		}
		next.ServeHTTP(w, r)
	})
}

// CORS lets the configured browser origins, and only those, call the
// API with a bearer token (Authorization), answering preflights before
// routing. Exposed headers are those a frontend needs to follow up a
// command: the version, the new order's URL, the request id to report, the
// position to wait for in read models, whether the answer is a replay of an
// earlier request with the same Idempotency-Key, why a token was refused,
// and its rate limits: the rate, and when refused, when to retry.
func CORS(origins []string) func(http.Handler) http.Handler {
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: []string{
			"Content-Type", "If-Match", "If-None-Match",
			"Authorization", "X-Request-Id", "X-Correlation-Id",
			"Last-Event-ID",   // sent by a reconnecting EventSource
			"Idempotency-Key", // safe retries of POST and DELETE
		},
		ExposedHeaders: []string{"ETag", "Location", "X-Request-Id", "X-Event-Position", "X-Projection-Position", "X-Projection-Lag-Events", "X-Projection-Lag-Seconds", "X-Read-Source", "X-Read-Lag-Seconds", "Idempotent-Replayed", "Retry-After", "WWW-Authenticate", "RateLimit", "RateLimit-Policy"},
		MaxAge:         600,
	})
}
