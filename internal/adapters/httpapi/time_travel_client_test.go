package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/api/client"
)

// The generated client reaches the past and pages the history; its
// as_of must survive a time with a + offset.
func TestOpenAPIClientTimeTravel(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c, err := client.NewClientWithResponses(a.url, client.WithHTTPClient(a.client))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, answers := liveOrder(t, a)
	orderID := uuid.MustParse(id)

	v2, err := c.GetOrderWithResponse(ctx, orderID, &client.GetOrderParams{Version: ptr(2)})
	if err != nil || v2.JSON200 == nil || v2.JSON200.Version != 2 || v2.HTTPResponse.Header.Get("Cache-Control") != immutable {
		t.Fatalf("version 2: %v, %d %s", err, v2.StatusCode(), v2.Body)
	}
	if !sameJSON(t, v2.Body, answers[1].body) {
		t.Errorf("version 2 = %s\nwant %s", v2.Body, answers[1].body)
	}

	page, err := c.ListOrderEventsWithResponse(ctx, orderID, &client.ListOrderEventsParams{AfterVersion: ptr(1), Limit: ptr(2)})
	if err != nil || page.JSON200 == nil || len(page.JSON200.Events) != 2 || page.JSON200.NextAfterVersion == nil || *page.JSON200.NextAfterVersion != 3 {
		t.Fatalf("page: %v, %d %s", err, page.StatusCode(), page.Body)
	}
	ev, err := page.JSON200.Events[1].AsOrderItemAddedEvent()
	if err != nil {
		t.Fatal(err)
	}
	east := ev.OccurredAt.In(time.FixedZone("", 9*3600))
	v3, err := c.GetOrderWithResponse(ctx, orderID, &client.GetOrderParams{AsOf: &east})
	if err != nil || v3.StatusCode() != http.StatusOK || v3.JSON200.Version != 3 {
		t.Fatalf("as of %s: %v, %d %s", east, err, v3.StatusCode(), v3.Body)
	}
}
