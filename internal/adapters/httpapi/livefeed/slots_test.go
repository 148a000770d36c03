package livefeed

import (
	"net/http"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

func TestStreamSlots(t *testing.T) {
	t.Parallel()
	refused := func(err error, status int, code string) {
		t.Helper()
		if p, _ := problem.From(err); err == nil || p.Status != status || p.Code != code {
			t.Errorf("got %v, want %d %s", err, status, code)
		}
	}
	// Given room for three streams, two per client
	slots, err := newStreamSlots(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	// When a client holds two
	releaseA, err := slots.acquire("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slots.acquire("a"); err != nil {
		t.Fatal(err)
	}
	// Then its third is refused as too many
	_, err = slots.acquire("a")
	refused(err, http.StatusTooManyRequests, problem.CodeTooManyStreams)
	// while another client gets the last place
	if _, err := slots.acquire("b"); err != nil {
		t.Fatal(err)
	}
	// and after it, any client is refused as the process is full
	_, err = slots.acquire("c")
	refused(err, http.StatusServiceUnavailable, problem.CodeStreamsExhausted)
	// When one is released, its place is free again
	releaseA()
	if _, err := slots.acquire("c"); err != nil {
		t.Errorf("after a release: %v", err)
	}
}
