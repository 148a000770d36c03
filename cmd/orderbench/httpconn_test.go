package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPConnReadsBothFramings(t *testing.T) {
	// Given a server answering small bodies with Content-Length and large
	// ones chunked, as net/http does
	large := strings.Repeat("x", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"ok":true}`))
		case "/large":
			w.Write([]byte(large))
		case "/echo":
			b := make([]byte, r.ContentLength)
			r.Body.Read(b)
			w.Write(b)
		case "/auth":
			w.Write([]byte(r.Header.Get("Authorization")))
		}
	}))
	defer srv.Close()
	c, err := dialHTTP(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// When requests of each kind are sent on one kept-alive connection,
	// twice over, then each answer is read whole
	for range 2 {
		r, err := c.do("GET", "/small", nil)
		if err != nil || r.status != 201 || string(r.body) != `{"ok":true}` {
			t.Fatalf("small: %d %q %v", r.status, r.body, err)
		}
		r, err = c.do("GET", "/large", nil)
		if err != nil || r.status != 200 || string(r.body) != large {
			t.Fatalf("large: %d, %d bytes, %v", r.status, len(r.body), err)
		}
		r, err = c.do("POST", "/echo", []byte(`{"a":1}`))
		if err != nil || r.status != 200 || string(r.body) != `{"a":1}` {
			t.Fatalf("echo: %d %q %v", r.status, r.body, err)
		}
	}
	// and a token, once set, goes with every request
	for _, tok := range []string{"", "t0k.en.sig"} {
		c.token = tok
		r, err := c.do("GET", "/auth", nil)
		want := ""
		if tok != "" {
			want = "Bearer " + tok
		}
		if err != nil || string(r.body) != want {
			t.Fatalf("token %q: Authorization %q, %v; want %q", tok, r.body, err, want)
		}
	}
	// and an unexpected status is an error that names it
	if err := c.call("GET", "/small", nil, 200); err == nil || !strings.Contains(err.Error(), "status 201") {
		t.Fatalf("call with the wrong status: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	sorted := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	d := make([]int64, len(sorted))
	for i, v := range sorted {
		d[i] = int64(v)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {0, 1}, {1, 10}} {
		lat := make([]time.Duration, len(d))
		for i, v := range d {
			lat[i] = time.Duration(v)
		}
		if got := percentile(lat, tc.q); int64(got) != tc.want {
			t.Errorf("percentile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}
