package httpapi

import (
	"net/http/httptest"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestExpectedVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header  []string // nil: no If-Match
		want    int
		wantErr bool
	}{
		{nil, app.AnyVersion, false},
		{[]string{`"3"`}, 3, false},
		{[]string{` "3" `}, 3, false},
		{[]string{`"3",`}, 3, false}, // empty list elements are allowed
		{[]string{`*`}, app.AnyVersion, false},
		{[]string{`"2147483647"`}, 2147483647, false},
		{[]string{`"2147483648"`}, 0, true}, // beyond the store's int32
		{[]string{`3`}, 0, true},
		{[]string{`W/"3"`}, 0, true},
		{[]string{`"03"`}, 0, true},
		{[]string{`"0"`}, 0, true},
		{[]string{`"-1"`}, 0, true},
		{[]string{`"abc"`}, 0, true},
		{[]string{`"3", "4"`}, 0, true},
		{[]string{`"3"`, `"4"`}, 0, true}, // two header lines are a list too
		{[]string{`*, "3"`}, 0, true},
		{[]string{`"3`}, 0, true},
		{[]string{`""`}, 0, true},
		{[]string{``}, 0, true},
		{[]string{`"3"x`}, 0, true},
		// An erased document's tag names its version too.
		{[]string{`"3-e"`}, 3, false},
		{[]string{`"3-es"`}, 3, false},
		{[]string{`"3-easr"`}, 3, false},
		{[]string{`"3-"`}, 0, true},
		{[]string{`"3-x"`}, 0, true},
		{[]string{`"3-ee"`}, 0, true},
		{[]string{`"3-esa"`}, 0, true},
		{[]string{`"3-ess"`}, 0, true},
		{[]string{`"3-e-e"`}, 0, true},
		{[]string{`"-e"`}, 0, true},
		{[]string{`"03-e"`}, 0, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", nil)
		for _, h := range tt.header {
			r.Header.Add("If-Match", h)
		}
		got, err := expectedVersion(r)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("If-Match %q = %d, %v; want %d, error %v", tt.header, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			if p, _ := problem.From(err); p.Status != 400 || p.Code != problem.CodeBadHeader {
				t.Errorf("If-Match %q: problem %+v", tt.header, p)
			}
		}
	}
}

func TestNotModified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header  string
		want    bool
		wantErr bool
	}{
		{"", false, true}, // sent but empty
		{`"7"`, true, false},
		{`W/"7"`, true, false},
		{`*`, true, false},
		{`"6", "7"`, true, false},
		{`"6",W/"7"`, true, false},
		{`"a,b", "7"`, true, false}, // a comma inside a tag
		{`"6"`, false, false},
		{`"77"`, false, false},
		{`W/"6"`, false, false},
		{`7`, false, true},
		{`"7`, false, true},
		{`W/7`, false, true},
		{`"6" "7"`, false, true},
		{"\"a\x01\"", false, true},
		{`"7-e"`, false, false}, // the same version, erased since
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("If-None-Match", tt.header)
		got, err := notModified(r, "7")
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("If-None-Match %q = %v, %v; want %v, error %v", tt.header, got, err, tt.want, tt.wantErr)
		}
	}
	if got, err := notModified(httptest.NewRequest("GET", "/", nil), "7"); got || err != nil {
		t.Errorf("no If-None-Match = %v, %v", got, err)
	}
}

func TestETag(t *testing.T) {
	t.Parallel()
	address := &order.Address{Name: "Ada Lovelace"}
	tests := []struct {
		what string
		o    order.Order
		want string
	}{
		{"nothing erased", order.Order{Version: 12, ShippingAddress: address, Signature: "A. L.", CancelReason: "r"}, `"12"`},
		{"no personal data", order.Order{Version: 1}, `"1"`},
		{"erased, nothing left", order.Order{Version: 7, Erased: true}, `"7-e"`},
		{"erased, a signature since", order.Order{Version: 7, Erased: true, Signature: "A. L."}, `"7-es"`},
		{"erased, a reason since", order.Order{Version: 4, Erased: true, CancelReason: "r"}, `"4-er"`},
		{"erased, all since", order.Order{Version: 9, Erased: true, ShippingAddress: address, Signature: "A. L.", CancelReason: "r"}, `"9-easr"`},
	}
	for _, tt := range tests {
		got := etag(&tt.o)
		if got != tt.want {
			t.Errorf("%s: etag = %s, want %s", tt.what, got, tt.want)
		}
		// and If-Match reads the version back out of it
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("If-Match", got)
		if v, err := expectedVersion(r); err != nil || v != tt.o.Version {
			t.Errorf("%s: If-Match %s = %d, %v", tt.what, got, v, err)
		}
	}
}
