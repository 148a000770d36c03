package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestCustomerOrdersPages(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer, other := uuid.New(), uuid.New()
	var created []string
	for range 7 {
		created = append(created, a.create(customer).ID)
	}
	a.create(other)
	a.addItem(created[6], "19.99", 3)
	for _, id := range created[:2] {
		a.do("POST", "/v1/orders/"+id+"/cancel", map[string]any{"reason": "r"}).want(t, http.StatusOK)
	}

	walk := func(query url.Values) []orderSummaryJSON {
		t.Helper()
		var all []orderSummaryJSON
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			var page orderPageJSON
			decodeStrict(t, a.do("GET", "/v1/customers/"+customer.String()+"/orders?"+query.Encode(), nil).want(t, http.StatusOK).Body, &page)
			all = append(all, page.Orders...)
			if page.NextCursor == nil {
				return all
			}
			query.Set("cursor", *page.NextCursor)
		}
	}

	all := walk(url.Values{"limit": {"3"}})
	var ids []string
	for i, s := range all {
		ids = append(ids, s.ID)
		if i > 0 && s.CreatedAt > all[i-1].CreatedAt {
			t.Errorf("not newest first at %d: %s after %s", i, s.CreatedAt, all[i-1].CreatedAt)
		}
	}
	newestFirst := slices.Clone(created)
	slices.Reverse(newestFirst)
	if !slices.Equal(ids, newestFirst) {
		t.Errorf("walked %v\nwant     %v", ids, newestFirst)
	}
	if s := all[0]; s.Total != "59.97" || s.ItemCount != 3 || s.Version != 2 || s.Status != "draft" || s.Currency != "USD" {
		t.Errorf("newest summary = %+v", s)
	}

	cancelled := walk(url.Values{"status": {"cancelled"}, "limit": {"1"}})
	if len(cancelled) != 2 || cancelled[0].ID != created[1] || cancelled[1].ID != created[0] {
		t.Errorf("cancelled = %+v", cancelled)
	}
	if got := walk(url.Values{}); len(got) != 7 {
		t.Errorf("default page: %d orders", len(got))
	}

	// A page of exactly the remaining orders has no next page, and an
	// unknown customer has an empty list, not a 404.
	var page orderPageJSON
	decodeStrict(t, a.do("GET", "/v1/customers/"+uuid.NewString()+"/orders", nil).want(t, http.StatusOK).Body, &page)
	if page.Orders == nil || len(page.Orders) != 0 || page.NextCursor != nil {
		t.Errorf("unknown customer: %+v", page)
	}
	raw := a.do("GET", "/v1/customers/"+uuid.NewString()+"/orders", nil).Body
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || string(m["orders"]) != "[]" || string(m["next_cursor"]) != "null" {
		t.Errorf("empty page = %s", raw)
	}
}
