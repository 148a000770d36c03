package httpapi

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// eventPage gets one page of an order's events.
func (a *testAPI) eventPage(orderID, query string) eventsJSON {
	a.t.Helper()
	var doc eventsJSON
	decodeStrict(a.t, a.do("GET", "/v1/orders/"+orderID+"/events?"+query, nil).want(a.t, http.StatusOK).Body, &doc)
	return doc
}

func TestOrderEventsPaging(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	id, _ := liveOrder(t, a)
	all := a.events(id)
	if len(all) != 7 {
		t.Fatalf("%d events, want 7", len(all))
	}

	t.Run("pages of two walk the history once, in order", func(t *testing.T) {
		var walked []eventJSON
		after, pages := 0, 0
		for {
			page := a.eventPage(id, fmt.Sprintf("after_version=%d&limit=2", after))
			pages++
			walked = append(walked, page.Events...)
			if page.NextAfterVersion == nil {
				break
			}
			if len(page.Events) != 2 || *page.NextAfterVersion != page.Events[1].Version || pages > len(all) {
				t.Fatalf("page after %d: %d events, next %d", after, len(page.Events), *page.NextAfterVersion)
			}
			after = *page.NextAfterVersion
		}
		if pages != 4 || !reflect.DeepEqual(walked, all) {
			t.Errorf("%d pages of %d events, want 4 pages of the %d events in order", pages, len(walked), len(all))
		}
	})

	tests := []struct {
		query    string
		versions []int
		next     int // 0 for null
	}{
		{"limit=1", []int{1}, 1},
		{"after_version=5&limit=2", []int{6, 7}, 0}, // exactly the rest: no next page
		{"after_version=4&limit=2", []int{5, 6}, 6},
		{"after_version=0&limit=1000", []int{1, 2, 3, 4, 5, 6, 7}, 0},
		{"after_version=7", []int{}, 0},
		{"after_version=2147483647", []int{}, 0},
	}
	for _, tt := range tests {
		page := a.eventPage(id, tt.query)
		versions := []int{}
		for _, e := range page.Events {
			versions = append(versions, e.Version)
		}
		next := 0
		if page.NextAfterVersion != nil {
			next = *page.NextAfterVersion
		}
		if !reflect.DeepEqual(versions, tt.versions) || next != tt.next {
			t.Errorf("%s: versions %v next %d, want %v next %d", tt.query, versions, next, tt.versions, tt.next)
		}
	}

	t.Run("an unknown order is not found, on any page", func(t *testing.T) {
		for _, q := range []string{"", "?after_version=3&limit=1"} {
			a.do("GET", "/v1/orders/"+uuid.NewString()+"/events"+q, nil).wantProblem(t, http.StatusNotFound, "order_not_found")
		}
	})
}

func TestOrderEventsDefaultPage(t *testing.T) {
	t.Parallel()
	a := newAPI(t, manyRequests)
	// 101 events: creation and the most items an order may have.
	o := a.create(uuid.New())
	for range 100 {
		a.addItem(o.ID, "1.00", 1)
	}
	page := a.eventPage(o.ID, "")
	if len(page.Events) != 100 || page.NextAfterVersion == nil || *page.NextAfterVersion != 100 {
		t.Fatalf("default page: %d events, next %v; want 100 and 100", len(page.Events), page.NextAfterVersion)
	}
	if rest := a.eventPage(o.ID, "after_version=100"); len(rest.Events) != 1 || rest.NextAfterVersion != nil {
		t.Errorf("last page: %d events, next %v", len(rest.Events), rest.NextAfterVersion)
	}
}

func TestOrderEventsBadQueries(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	tests := []struct {
		query  string
		fields map[string]string
	}{
		{"after_version=-1", map[string]string{"after_version": "out_of_range"}},
		{"after_version=2147483648", map[string]string{"after_version": "out_of_range"}},
		{"after_version=one", map[string]string{"after_version": "invalid_format"}},
		{"limit=0", map[string]string{"limit": "out_of_range"}},
		{"limit=1001", map[string]string{"limit": "out_of_range"}},
		{"limit=", map[string]string{"limit": "invalid_format"}},
		{"limit=1&limit=2", map[string]string{"limit": "invalid_format"}},
		{"after_version=00", map[string]string{"after_version": "invalid_format"}},
		{"limit=%2B1", map[string]string{"limit": "invalid_format"}},
		{"after_version=x&limit=0", map[string]string{"after_version": "invalid_format", "limit": "out_of_range"}},
	}
	for _, tt := range tests {
		for _, id := range []string{o.ID, uuid.NewString()} {
			p := a.do("GET", "/v1/orders/"+id+"/events?"+tt.query, nil).wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			got := map[string]string{}
			for _, f := range p.Errors {
				got[f.Field] = f.Code
			}
			if !reflect.DeepEqual(got, tt.fields) || len(p.Errors) != len(tt.fields) {
				t.Errorf("%s: field problems %+v, want %v", tt.query, p.Errors, tt.fields)
			}
		}
	}
}
