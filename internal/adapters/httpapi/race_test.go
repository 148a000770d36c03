package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// addConcurrently adds n distinct products to the order at once and
// returns each request's status and ETag.
func (a *testAPI) addConcurrently(orderID string, n int, ifMatch string) (statuses []int, etags []string) {
	statuses, etags = make([]int, n), make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			body, _ := json.Marshal(map[string]any{
				"product_id": uuid.New(), "product_name": "item " + strconv.Itoa(i), "quantity": 1, "unit_price": "1.00",
			})
			req, err := http.NewRequest("POST", a.url+"/v1/orders/"+orderID+"/items", bytes.NewReader(body))
			if err != nil {
				a.t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			if ifMatch != "" {
				req.Header.Set("If-Match", ifMatch)
			}
			<-start
			resp, err := a.client.Do(req)
			if err != nil {
				a.t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			statuses[i], etags[i] = resp.StatusCode, resp.Header.Get("ETag")
		})
	}
	close(start)
	wg.Wait()
	return statuses, etags
}

func TestConcurrentAddsWithoutPreconditionAllSucceed(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	const n = 50
	statuses, etags := a.addConcurrently(o.ID, n, "")

	var want []string
	for v := 2; v <= n+1; v++ {
		want = append(want, fmt.Sprintf(`"%d"`, v))
	}
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	// Shorter tags are lower versions; same-length tags sort as text.
	slices.SortFunc(etags, func(x, y string) int { return cmp.Or(cmp.Compare(len(x), len(y)), strings.Compare(x, y)) })
	if !slices.Equal(etags, want) {
		t.Errorf("ETags = %v, want each of 2..%d once", etags, n+1)
	}
	events := a.events(o.ID)
	if len(events) != n+1 {
		t.Fatalf("%d events, want %d", len(events), n+1)
	}
	for i, e := range events {
		if e.Version != i+1 {
			t.Errorf("event %d has version %d: a gap or a duplicate", i, e.Version)
		}
	}
	if got := a.do("GET", "/v1/orders/"+o.ID, nil).want(t, http.StatusOK).order(t); got.Version != n+1 || len(got.Items) != n || got.Total != "50.00" {
		t.Errorf("order: version %d, %d items, total %s", got.Version, len(got.Items), got.Total)
	}
}

func TestConcurrentAddsWithSamePreconditionOnlyOneWins(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.addItem(a.create(uuid.New()).ID, "1.00", 1) // version 2
	const n = 10
	statuses, _ := a.addConcurrently(o.ID, n, `"2"`)

	var ok, failed int
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusPreconditionFailed:
			failed++
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 || failed != n-1 {
		t.Errorf("%d succeeded and %d failed the precondition; want 1 and %d", ok, failed, n-1)
	}
	if got := len(a.events(o.ID)); got != 3 {
		t.Errorf("%d events, want 3", got)
	}
}
