package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/api/client"
)

// TestOpenAPIClientDrivesTheLifeCycle runs an order through its life with
// the client generated from the spec, over the spec-checking transport:
// the spec, the client and the server agree.
func TestOpenAPIClientDrivesTheLifeCycle(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	c, err := client.NewClientWithResponses(a.url, client.WithHTTPClient(a.client))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	customer := uuid.New()
	eur := "EUR"

	created, err := c.CreateOrderWithResponse(ctx, nil, client.CreateOrderRequest{CustomerId: &customer, Currency: &eur})
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create: %v, %d %s", err, created.StatusCode(), created.Body)
	}
	id := created.JSON201.Id
	etag := created.HTTPResponse.Header.Get("ETag")

	added, err := c.AddItemWithResponse(ctx, id, &client.AddItemParams{IfMatch: &etag}, client.AddItemRequest{
		ProductId: uuid.New(), ProductName: "Espresso beans", Quantity: 3, UnitPrice: "19.99",
	})
	if err != nil || added.JSON200 == nil || added.JSON200.Total != "59.97" {
		t.Fatalf("add: %v, %d %s", err, added.StatusCode(), added.Body)
	}

	stale, err := c.AddItemWithResponse(ctx, id, &client.AddItemParams{IfMatch: &etag}, client.AddItemRequest{
		ProductId: uuid.New(), ProductName: "Mug", Quantity: 1, UnitPrice: "4.50",
	})
	if err != nil || stale.ApplicationproblemJSON412 == nil || stale.ApplicationproblemJSON412.Code != client.ProblemCodePreconditionFailed {
		t.Fatalf("stale add: %v, %d %s", err, stale.StatusCode(), stale.Body)
	}

	placed, err := c.PlaceOrderWithResponse(ctx, id, nil, client.PlaceOrderRequest{ShippingAddress: client.AddressRequest{
		Name: "Ada Lovelace", Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB",
	}})
	if err != nil || placed.JSON200 == nil || placed.JSON200.Status != client.Placed {
		t.Fatalf("place: %v, %d %s", err, placed.StatusCode(), placed.Body)
	}
	shipped, err := c.ShipOrderWithResponse(ctx, id, nil, client.ShipOrderRequest{TrackingNumber: "1Z999", Carrier: "UPS"})
	if err != nil || shipped.JSON200 == nil || *shipped.JSON200.Carrier != "UPS" {
		t.Fatalf("ship: %v, %d %s", err, shipped.StatusCode(), shipped.Body)
	}
	at := time.Now().UTC().Add(time.Minute).Truncate(time.Microsecond)
	delivered, err := c.DeliverOrderWithResponse(ctx, id, nil, client.DeliverOrderRequest{DeliveredAt: &at})
	if err != nil || delivered.JSON200 == nil || !delivered.JSON200.DeliveredAt.Equal(at) {
		t.Fatalf("deliver: %v, %d %s", err, delivered.StatusCode(), delivered.Body)
	}

	got, err := c.GetOrderWithResponse(ctx, id, nil)
	if err != nil || got.JSON200 == nil || got.JSON200.Status != client.Delivered || got.JSON200.Version != 5 {
		t.Fatalf("get: %v, %d %s", err, got.StatusCode(), got.Body)
	}
	notModified, err := c.GetOrderWithResponse(ctx, id, &client.GetOrderParams{IfNoneMatch: ptr(`"5"`)})
	if err != nil || notModified.StatusCode() != http.StatusNotModified {
		t.Fatalf("conditional get: %v, %d", err, notModified.StatusCode())
	}

	history, err := c.ListOrderEventsWithResponse(ctx, id, nil)
	if err != nil || history.JSON200 == nil || len(history.JSON200.Events) != 5 {
		t.Fatalf("events: %v, %d %s", err, history.StatusCode(), history.Body)
	}
	first, err := history.JSON200.Events[0].AsOrderCreatedEvent()
	if err != nil || first.Data.CustomerId != customer || first.Data.Currency != "EUR" {
		t.Errorf("first event: %+v (%v)", first, err)
	}
	kind, err := history.JSON200.Events[4].Discriminator()
	if err != nil || kind != "OrderDelivered" {
		t.Errorf("last event type %q (%v)", kind, err)
	}

	list, err := c.ListCustomerOrdersWithResponse(ctx, customer, &client.ListCustomerOrdersParams{Limit: ptr(1)})
	if err != nil || list.JSON200 == nil || len(list.JSON200.Orders) != 1 || list.JSON200.Orders[0].Id != id || list.JSON200.NextCursor != nil {
		t.Fatalf("list: %v, %d %s", err, list.StatusCode(), list.Body)
	}
}

func ptr[T any](v T) *T { return &v }
