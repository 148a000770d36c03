package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// TestMalformedQueryIsRefused: a query string net/url cannot read (a ";",
// which it does not take for a separator, a "%" that begins no escape,
// more parameters than it reads) is 400 malformed_query naming what it
// could not read. net/url drops such a parameter, so answering anyway
// would answer another question: the current order for ?version=1;, the
// feed from its start for an after= with a stray character.
func TestMalformedQueryIsRefused(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	// Given an order at version 3, and a cursor past the feed's first event
	o := a.create(uuid.New())
	a.addItem(o.ID, "1", 1)
	a.addItem(o.ID, "2", 1)
	var page feedPageJSON
	decodeStrict(t, a.do("GET", "/v1/events?limit=1", nil).want(t, http.StatusOK).Body, &page)
	order := "/v1/orders/" + o.ID
	list := "/v1/customers/" + o.CustomerID + "/orders"

	tests := []struct {
		name, path string
		// says is what the detail must name.
		says []string
	}{
		{"a version ending in ;", order + "?version=1;", []string{`"version"`, `%3B`}},
		{"a version ending in %", order + "?version=1%", []string{`"version"`, `%25`}},
		{"a version then ; and another parameter", order + "?version=1;as_of=x", []string{`"version"`}},
		{"as_of ending in ;", order + "?as_of=1971-01-01T00:00:00Z;", []string{`"as_of"`}},
		{"min_position ending in ;", order + "?min_position=99999999999;", []string{`"min_position"`}},
		{"a bad escape in a parameter's name", order + "?vers%zzion=1", []string{`"vers%zzion=1"`}},
		{"a bad escape after a good parameter", order + "?version=1&as_of=%G0", []string{`"as_of"`}},
		{"a history's after_version ending in ;", order + "/events?after_version=1;", []string{`"after_version"`}},
		{"a feed cursor with a stray ;", "/v1/events?after=" + page.NextCursor + ";&limit=1", []string{`"after"`}},
		{"a feed type ending in ;", "/v1/events?type=OrderPlaced;", []string{`"type"`}},
		{"a feed type ending in %", "/v1/events?type=Bogus%", []string{`"type"`}},
		{"a list's status ending in ;", list + "?status=placed;", []string{`"status"`}},
		{"a list's status with a bad escape", list + "?status=bogus%zz", []string{`"status"`}},
		{"analytics' currency ending in ;", "/v1/analytics/daily?from=2025-01-01&to=2025-01-02&currency=USD;", []string{`"currency"`}},
		{"more parameters than net/url reads", order + "?version=1" + strings.Repeat("&", 10000), []string{"parameters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// When the query cannot be read
			r := a.do("GET", tt.path, nil)
			// Then it is refused, saying what it could not read
			p := r.wantProblem(t, http.StatusBadRequest, problem.CodeMalformedQuery)
			for _, s := range tt.says {
				if !strings.Contains(p.Detail, s) {
					t.Errorf("detail %q does not say %s", p.Detail, s)
				}
			}
		})
	}
	// And the order was not changed by any of them.
	if v := a.version(o.ID); v != 3 {
		t.Errorf("order at version %d, want 3", v)
	}
}

// TestEveryRouteRefusesAMalformedQuery: every route of the table, public
// ones included, refuses a query string it cannot read, whatever it would
// have made of its parameters, and writes nothing.
func TestEveryRouteRefusesAMalformedQuery(t *testing.T) {
	t.Parallel()
	a := newEveryRouteAPI(t)
	o := a.create(uuid.New())
	written := a.count(`SELECT count(*) FROM events`)
	for _, rt := range routeTable(nil, Config{}, nil) {
		path := routePath(rt, o)
		var body any
		if rt.method == http.MethodPost {
			body = map[string]any{}
		}
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		for _, method := range methods {
			for _, query := range []string{"?x=1;", "?x=%zz"} {
				r := a.do(method, path+query, body)
				if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s %s%s: %d %s, want a 400 problem: %s", method, rt.pattern, query, r.Status, r.Header.Get("Content-Type"), r.Body)
					continue
				}
				if method != http.MethodHead {
					r.wantProblem(t, http.StatusBadRequest, problem.CodeMalformedQuery)
				}
			}
		}
	}
	if n := a.count(`SELECT count(*) FROM events`); n != written {
		t.Errorf("%d events written by requests with a malformed query", n-written)
	}
}
