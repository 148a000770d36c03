package jwtauthtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Server publishes a key set over HTTP, as an identity provider does,
// counts the requests it answers, and can be taken down.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	jwks     []byte
	requests atomic.Int64
	down     atomic.Bool
}

// NewServer publishes keys until the test ends.
func NewServer(t testing.TB, keys ...*Key) *Server {
	t.Helper()
	s := &Server{jwks: JWKS(t, keys...)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		b := s.jwks
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// Publish replaces the keys published.
func (s *Server) Publish(t testing.TB, keys ...*Key) {
	t.Helper()
	b := JWKS(t, keys...)
	s.mu.Lock()
	s.jwks = b
	s.mu.Unlock()
}

// Requests is how many requests the server has had.
func (s *Server) Requests() int64 { return s.requests.Load() }

// SetDown makes the server answer 503 (true) or the keys (false).
func (s *Server) SetDown(down bool) { s.down.Store(down) }
