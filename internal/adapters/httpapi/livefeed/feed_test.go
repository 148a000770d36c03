package livefeed

import (
	"net/http/httptest"
	"testing"
)

func TestWantsEventStream(t *testing.T) {
	t.Parallel()
	for accept, want := range map[string]bool{
		"":                                    false,
		"*/*":                                 false,
		"application/json":                    false,
		"text/event-stream":                   true,
		"application/json, text/event-stream": true,
		"text/event-stream;q=0.5, */*;q=0.1":  true,
		"text/event-stream;q=0":               false,
		"text/event-stream;q=0.0, application/json": false,
		"text/*": false,
		// JSON preferred: a page of JSON
		"text/event-stream; q=0.5, application/json": false,
		"text/event-stream;q=0.9, */*":               false,
		"text/event-stream, application/json;q=0.9":  true,
		// q outside 0 to 1 is no weight: the item is ignored
		"text/event-stream;q=1.5":                         false,
		"text/event-stream;q=Inf":                         false,
		"application/json;q=NaN, text/event-stream;q=0.1": true,
	} {
		r := httptest.NewRequest("GET", "/v1/events", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if got := Wanted(r); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}
