package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// commandAnswer is a command's answer, kept to compare the past with.
type commandAnswer struct {
	etag string
	body []byte
}

// liveOrder takes an order through its whole life, seven commands, and
// returns its id and each command's answer: answers[k-1] is version k.
func liveOrder(t *testing.T, a *testAPI) (string, []commandAnswer) {
	t.Helper()
	var answers []commandAnswer
	keep := func(r reply) reply {
		answers = append(answers, commandAnswer{etag: r.Header.Get("ETag"), body: r.Body})
		return r
	}
	id := keep(a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).want(t, http.StatusCreated)).order(t).ID
	path := "/v1/orders/" + id
	mug := uuid.NewString()
	keep(a.do("POST", path+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Espresso beans", "quantity": 3, "unit_price": "19.99",
	}).want(t, http.StatusOK))
	keep(a.do("POST", path+"/items", map[string]any{
		"product_id": mug, "product_name": "Mug", "quantity": 2, "unit_price": "4.5",
	}).want(t, http.StatusOK))
	keep(a.do("DELETE", path+"/items/"+mug, nil).want(t, http.StatusOK))
	keep(a.do("POST", path+"/place", testAddress).want(t, http.StatusOK))
	keep(a.do("POST", path+"/ship", map[string]any{"tracking_number": "1Z999", "carrier": "UPS"}).want(t, http.StatusOK))
	keep(a.do("POST", path+"/deliver", map[string]any{"signature": "A. Lovelace"}).want(t, http.StatusOK))
	return id, answers
}

// sameJSON reports whether two JSON documents are equal but for the order
// of their fields.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

func TestOrderAtVersion(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id, answers := liveOrder(t, a)
	path := "/v1/orders/" + id

	// Every version is exactly what its command answered, kept for good
	// but from the address on (version 5): the customer's erasure would
	// change that, so a cache must ask again.
	for i, want := range answers {
		r := a.do("GET", fmt.Sprintf("%s?version=%d", path, i+1), nil).want(t, http.StatusOK)
		if r.Header.Get("ETag") != want.etag || want.etag != fmt.Sprintf(`"%d"`, i+1) {
			t.Errorf("version %d: ETag %q, the command answered %q", i+1, r.Header.Get("ETag"), want.etag)
		}
		cache := immutable
		if i+1 >= 5 {
			cache = revalidated
		}
		if cc := r.Header.Get("Cache-Control"); cc != cache {
			t.Errorf("version %d: Cache-Control %q, want %q", i+1, cc, cache)
		}
		if !sameJSON(t, r.Body, want.body) {
			t.Errorf("version %d = %s\nthe command answered %s", i+1, r.Body, want.body)
		}
	}
	// The current order stays uncached: no cache may store it.
	if cc := a.do("GET", path, nil).want(t, http.StatusOK).Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the current order has Cache-Control %q", cc)
	}

	t.Run("If-None-Match compares with the version answered", func(t *testing.T) {
		r := a.do("GET", path+"?version=3", nil, "If-None-Match", `"3"`).want(t, http.StatusNotModified)
		if r.Header.Get("ETag") != `"3"` || r.Header.Get("Cache-Control") != immutable {
			t.Errorf("304: ETag %q, Cache-Control %q", r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
		}
		// The client holds the current version: version 3 is another.
		r = a.do("GET", path+"?version=3", nil, "If-None-Match", answers[len(answers)-1].etag).want(t, http.StatusOK)
		if !sameJSON(t, r.Body, answers[2].body) {
			t.Errorf("version 3 = %s", r.Body)
		}
		a.do("GET", path+"?version=3", nil, "If-None-Match", `"3x`).wantProblem(t, http.StatusBadRequest, "invalid_header")
	})

	t.Run("past the end names the number of versions", func(t *testing.T) {
		p := a.do("GET", path+"?version=8", nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		want := problem.FieldProblem{Field: "version", Code: "out_of_range", Message: "must be between 1 and 7: the order has 7 versions"}
		if len(p.Errors) != 1 || p.Errors[0] != want {
			t.Errorf("errors = %+v, want %+v", p.Errors, want)
		}
		p = a.do("GET", path+"?version=2147483647", nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0] != want {
			t.Errorf("errors = %+v, want %+v", p.Errors, want)
		}
		// Singular for an order of one event.
		one := a.create(uuid.New())
		p = a.do("GET", "/v1/orders/"+one.ID+"?version=2", nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Message != "must be between 1 and 1: the order has 1 version" {
			t.Errorf("errors = %+v", p.Errors)
		}
	})

	t.Run("an unknown order is not found", func(t *testing.T) {
		a.do("GET", "/v1/orders/"+uuid.NewString()+"?version=1", nil).wantProblem(t, http.StatusNotFound, "order_not_found")
	})
}

func TestOrderAsOf(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id, answers := liveOrder(t, a)
	path := "/v1/orders/" + id
	events := a.events(id)
	occurred := make([]time.Time, len(events))
	for i, e := range events {
		var err error
		if occurred[i], err = time.Parse(time.RFC3339Nano, e.OccurredAt); err != nil {
			t.Fatal(err)
		}
	}
	asOf := func(at time.Time) reply {
		t.Helper()
		return a.do("GET", path+"?as_of="+url.QueryEscape(at.Format(time.RFC3339Nano)), nil)
	}

	// The times the order shows name the states that show them.
	latest := a.do("GET", path, nil).want(t, http.StatusOK).order(t)
	for _, tt := range []struct {
		field, at string
		version   int
	}{
		{"created_at", latest.CreatedAt, 1},
		{"placed_at", *latest.PlacedAt, 5},
		{"shipped_at", *latest.ShippedAt, 6},
		{"updated_at", latest.UpdatedAt, 7},
	} {
		r := a.do("GET", path+"?as_of="+url.QueryEscape(tt.at), nil).want(t, http.StatusOK)
		if !sameJSON(t, r.Body, answers[tt.version-1].body) {
			t.Errorf("as of its %s: %s\nwant version %d: %s", tt.field, r.Body, tt.version, answers[tt.version-1].body)
		}
	}

	for i := range events {
		// At the time an event occurred, and up to the next one, the
		// order is as that event left it.
		times := []time.Time{occurred[i]}
		if i+1 < len(occurred) {
			times = append(times, occurred[i].Add(occurred[i+1].Sub(occurred[i])/2))
		}
		for _, at := range times {
			r := asOf(at).want(t, http.StatusOK)
			if r.Header.Get("ETag") != answers[i].etag || !sameJSON(t, r.Body, answers[i].body) {
				t.Errorf("as of %s: ETag %s %s\nwant version %d: %s", at.Format(time.RFC3339Nano), r.Header.Get("ETag"), r.Body, i+1, answers[i].body)
			}
			// An event that occurred by then may not have committed:
			// never cached for good, nor at all.
			if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("as of %s: Cache-Control %q", at.Format(time.RFC3339Nano), cc)
			}
		}
	}

	t.Run("an offset other than Z, encoded", func(t *testing.T) {
		at := occurred[1].In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
		if !strings.Contains(at, "+02:00") {
			t.Fatalf("time %s", at)
		}
		r := a.do("GET", path+"?as_of="+strings.ReplaceAll(at, "+", "%2B"), nil).want(t, http.StatusOK)
		if r.Header.Get("ETag") != `"2"` {
			t.Errorf("as of %s: ETag %s", at, r.Header.Get("ETag"))
		}
		// Sent raw, the + is a space: the problem says what to do.
		p := a.do("GET", path+"?as_of="+at, nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		if len(p.Errors) != 1 || p.Errors[0].Field != "as_of" || !strings.Contains(p.Errors[0].Message, "%2B") {
			t.Errorf("errors = %+v", p.Errors)
		}
	})

	t.Run("If-None-Match", func(t *testing.T) {
		a.do("GET", path+"?as_of="+url.QueryEscape(events[1].OccurredAt), nil, "If-None-Match", `"2"`).want(t, http.StatusNotModified)
	})

	t.Run("before the order existed it is not found", func(t *testing.T) {
		p := asOf(occurred[0].Add(-time.Microsecond)).wantProblem(t, http.StatusNotFound, "order_not_found")
		if !strings.Contains(p.Detail, "at or before") {
			t.Errorf("detail %q", p.Detail)
		}
		a.do("GET", "/v1/orders/"+uuid.NewString()+"?as_of=2030-01-01T00:00:00Z", nil).wantProblem(t, http.StatusNotFound, "order_not_found")
	})

	t.Run("the ends of time", func(t *testing.T) {
		a.do("GET", path+"?as_of=0000-01-01T00:00:00Z", nil).wantProblem(t, http.StatusNotFound, "order_not_found")
		if r := a.do("GET", path+"?as_of=9999-12-31T23:59:59.999999999Z", nil).want(t, http.StatusOK); r.Header.Get("ETag") != `"7"` {
			t.Errorf("as of 9999: ETag %s", r.Header.Get("ETag"))
		}
	})
}

func TestOrderAtBadQueries(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID
	unknown := "/v1/orders/" + uuid.NewString()

	tests := []struct {
		query  string
		fields map[string]string // field → code
	}{
		{"version=0", map[string]string{"version": "out_of_range"}},
		{"version=-1", map[string]string{"version": "out_of_range"}},
		{"version=2147483648", map[string]string{"version": "out_of_range"}},
		{"version=99999999999999999999", map[string]string{"version": "out_of_range"}},
		{"version=two", map[string]string{"version": "invalid_format"}},
		{"version=1.5", map[string]string{"version": "invalid_format"}},
		{"version=", map[string]string{"version": "invalid_format"}},
		{"version=1&version=1", map[string]string{"version": "invalid_format"}},
		// An integer has one spelling, so that a version has one URL.
		{"version=%2B1", map[string]string{"version": "invalid_format"}},
		{"version=01", map[string]string{"version": "invalid_format"}},
		{"version=-0", map[string]string{"version": "invalid_format"}},
		{"version=0099999999999999999999", map[string]string{"version": "invalid_format"}},
		{"min_position=%2B1", map[string]string{"min_position": "invalid_format"}},
		{"min_position=007", map[string]string{"min_position": "invalid_format"}},
		{"as_of=yesterday", map[string]string{"as_of": "invalid_format"}},
		{"as_of=2026-11-25", map[string]string{"as_of": "invalid_format"}},
		{"as_of=2026-11-25T12:00:00", map[string]string{"as_of": "invalid_format"}},
		{"as_of=", map[string]string{"as_of": "invalid_format"}},
		// RFC 3339 allows these; the service, as Go's parser, does not.
		{"as_of=2026-11-25t12:00:00z", map[string]string{"as_of": "invalid_format"}},
		{"as_of=2016-12-31T23:59:60Z", map[string]string{"as_of": "invalid_format"}},
		// The two exclude each other: both are named, each once.
		{"version=1&as_of=2026-11-25T12:00:00Z", map[string]string{"version": "invalid_format", "as_of": "invalid_format"}},
		{"version=0&as_of=2026-11-25T12:00:00Z", map[string]string{"version": "out_of_range", "as_of": "invalid_format"}},
		{"version=0&as_of=never", map[string]string{"version": "out_of_range", "as_of": "invalid_format"}},
	}
	for _, tt := range tests {
		// Bad parameters are reported before the order is looked up.
		for _, p := range []string{path, unknown} {
			prob := a.do("GET", p+"?"+tt.query, nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			got := map[string]string{}
			for _, f := range prob.Errors {
				if _, dup := got[f.Field]; dup || f.Message == "" {
					t.Errorf("%s: field problems %+v", tt.query, prob.Errors)
				}
				got[f.Field] = f.Code
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("%s: field problems %+v, want %v", tt.query, prob.Errors, tt.fields)
			}
		}
	}
	// A malformed id is still the path's problem.
	a.do("GET", "/v1/orders/nope?version=0", nil).wantProblem(t, http.StatusBadRequest, "invalid_path_parameter")
}
