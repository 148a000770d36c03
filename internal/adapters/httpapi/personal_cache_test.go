package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestAnErasureMakesEveryCopyWithPersonalDataStale(t *testing.T) {
	t.Parallel()
	// Given a delivered order (placed at version 5, with an address; shipped;
	// delivered at 7, signed), whose every answer a client's cache kept
	a := newAPI(t)
	id, _ := liveOrder(t, a)
	path := "/v1/orders/" + id
	kept := map[string]reply{"": a.do("GET", path, nil).want(t, http.StatusOK)}
	for v := 1; v <= 7; v++ {
		q := fmt.Sprintf("?version=%d", v)
		kept[q] = a.do("GET", path+q, nil).want(t, http.StatusOK)
		// (a version with personal data is kept only to be revalidated:
		// an erasure may change it)
		want := immutable
		if v >= 5 {
			want = revalidated
		}
		if cc := kept[q].Header.Get("Cache-Control"); cc != want || !slices.Contains(kept[q].Header.Values("Vary"), "Authorization") {
			t.Errorf("before the erasure, version %d: Cache-Control %q, Vary %q; want %q, Vary: Authorization", v, cc, kept[q].Header.Values("Vary"), want)
		}
	}
	customer := kept[""].order(t).CustomerID

	// When the customer's personal data is erased
	a.do("DELETE", erasePath(uuid.MustParse(customer)), nil).want(t, http.StatusNoContent)

	// Then revalidating a copy that held personal data gets the erased
	// order, under an ETag of its own, and a copy that held none is still
	// current
	for q, old := range kept {
		r := a.do("GET", path+q, nil, "If-None-Match", old.Header.Get("ETag"))
		o := old.order(t)
		if o.ShippingAddress == nil {
			r.want(t, http.StatusNotModified)
			if r.Header.Get("ETag") != old.Header.Get("ETag") || r.Header.Get("Cache-Control") != immutable {
				t.Errorf("%q without personal data: ETag %q, Cache-Control %q", q, r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
			}
			continue
		}
		got := r.want(t, http.StatusOK).order(t)
		if !got.Erased || got.ShippingAddress != nil || got.Signature != nil {
			t.Errorf("%q revalidated after the erasure: %s", q, r.Body)
		}
		if want := fmt.Sprintf(`"%d-e"`, o.Version); r.Header.Get("ETag") != want {
			t.Errorf("%q after the erasure: ETag %q, want %q (it was %q)", q, r.Header.Get("ETag"), want, old.Header.Get("ETag"))
		}
		// and what is left of it can no longer change
		if q != "" && r.Header.Get("Cache-Control") != immutable {
			t.Errorf("%q after the erasure: Cache-Control %q", q, r.Header.Get("Cache-Control"))
		}
		// and the new ETag is the one to revalidate with
		a.do("GET", path+q, nil, "If-None-Match", r.Header.Get("ETag")).want(t, http.StatusNotModified)
	}
	// And the current order, and a time's, stay uncached
	for _, q := range []string{"", "?as_of=9999-12-31T23:59:59Z"} {
		if cc := a.do("GET", path+q, nil).want(t, http.StatusOK).Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%q: Cache-Control %q", q, cc)
		}
	}
}

func TestAnErasedOrdersETagSaysWhatItStillShows(t *testing.T) {
	t.Parallel()
	// Given a placed order whose customer was erased
	a := newAPI(t)
	c := uuid.New()
	o := a.create(c)
	path := "/v1/orders/" + o.ID
	a.addItem(o.ID, "4.50", 1)
	a.place(o.ID)
	a.do("DELETE", erasePath(c), nil).want(t, http.StatusNoContent)
	if tag := a.do("GET", path, nil).want(t, http.StatusOK).Header.Get("ETag"); tag != `"3-e"` {
		t.Fatalf("erased order: ETag %q", tag)
	}

	// When it is shipped, expecting the version its ETag names, then
	// expecting the version as before the erasure, and delivered with a
	// signature, sealed under the customer's new key
	r := a.do("POST", path+"/ship", map[string]any{"tracking_number": "1Z9", "carrier": "UPS"}, "If-Match", `"3-e"`).want(t, http.StatusOK)
	if tag := r.Header.Get("ETag"); tag != `"4-e"` {
		t.Errorf("shipped: ETag %q", tag)
	}
	r = a.do("POST", path+"/deliver", map[string]any{"signature": "A. Lovelace"}, "If-Match", `"4"`).want(t, http.StatusOK)

	// Then its ETag says that the signature still shows
	if tag := r.Header.Get("ETag"); tag != `"5-es"` || r.order(t).Signature == nil {
		t.Errorf("delivered: ETag %q, %s", tag, r.Body)
	}
	v5 := a.do("GET", path+"?version=5", nil).want(t, http.StatusOK)
	if v5.Header.Get("ETag") != `"5-es"` || v5.Header.Get("Cache-Control") != revalidated {
		t.Errorf("version 5: ETag %q, Cache-Control %q", v5.Header.Get("ETag"), v5.Header.Get("Cache-Control"))
	}
	// and a stale If-Match is still refused
	a.do("POST", path+"/cancel", map[string]any{"reason": "late"}, "If-Match", `"4-e"`).wantProblem(t, http.StatusPreconditionFailed, "precondition_failed")

	// When the customer is erased again
	a.do("DELETE", erasePath(c), nil).want(t, http.StatusNoContent)

	// Then the copy with the signature is stale too
	for _, q := range []string{"", "?version=5"} {
		r := a.do("GET", path+q, nil, "If-None-Match", `"5-es"`).want(t, http.StatusOK)
		if got := r.order(t); got.Signature != nil || !got.Erased || r.Header.Get("ETag") != `"5-e"` {
			t.Errorf("%q after the second erasure: ETag %q, %s", q, r.Header.Get("ETag"), r.Body)
		}
	}
}
