package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// BenchmarkServerOverhead is what the whole middleware chain and router
// add to a request: GET /healthz through NewServer, against the same
// handler alone. No database is involved.
func BenchmarkServerOverhead(b *testing.B) {
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		b.Fatal(err)
	}
	full, err := NewServer(svc, zerolog.New(io.Discard), Config{
		Ready:   func(context.Context) error { return nil },
		Observe: func(string, string, int, time.Duration) {},
		Cursors: testCursors,
		Auth:    testAuthenticator,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", handleHealth()}, {"server", full}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/healthz", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// nopStore satisfies the service's stores; /healthz never calls them.
type nopStore struct {
	app.EventStore
	app.ReadModel
}
