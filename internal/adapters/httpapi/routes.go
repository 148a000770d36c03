package httpapi

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/app"
)

// addRoutes is the whole API surface, in one place. api/openapi.yaml
// documents each of these routes; keep the two in step. metrics, when
// not nil, is served at /metrics.
func addRoutes(mux chi.Router, svc *app.Service, ready func(context.Context) error, live *liveFeed, metrics http.Handler) {
	mux.Method("GET", "/healthz", handleHealth())
	mux.Method("GET", "/readyz", handleReady(ready))
	mux.Method("GET", "/openapi.yaml", handleOpenAPI())
	if metrics != nil {
		mux.Method("GET", "/metrics", metrics)
	}

	// Commands with a JSON body refuse any other media type before they
	// look at anything else.
	withJSON := mux.With(jsonOnly)
	withJSON.Method("POST", "/v1/orders", handleCreateOrder(svc))
	mux.Method("GET", "/v1/orders/{order_id}", handleGetOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/items", handleAddItem(svc))
	mux.Method("DELETE", "/v1/orders/{order_id}/items/{product_id}", handleRemoveItem(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/place", handlePlaceOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/ship", handleShipOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/deliver", handleDeliverOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/cancel", handleCancelOrder(svc))
	mux.Method("GET", "/v1/orders/{order_id}/events", handleOrderEvents(svc))

	mux.Method("GET", "/v1/customers/{customer_id}/orders", handleCustomerOrders(svc))

	mux.Method("GET", feedPath, handleFeed(svc, live))

	mux.Method("GET", "/v1/analytics/daily", handleDailyAnalytics(svc))
	mux.Method("GET", "/v1/projections", handleProjections(svc))
}
