package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/app"
)

// addRoutes is the whole API surface, in one place. api/openapi.yaml
// documents each of these routes; keep the two in step. cfg.Metrics, when
// not nil, is served at /metrics.
func addRoutes(mux chi.Router, svc *app.Service, cfg Config, live *liveFeed) {
	// Every GET route answers HEAD too, as RFC 9110 asks: the same status
	// and headers, and net/http drops the body.
	get := func(pattern string, h http.Handler) {
		mux.Method(http.MethodGet, pattern, h)
		mux.Method(http.MethodHead, pattern, h)
	}
	// Commands with a JSON body refuse any other media type before they
	// look at anything else.
	withJSON := mux.With(jsonOnly)

	get("/healthz", handleHealth())
	get("/readyz", handleReady(cfg.Ready, cfg.ReadyDetails))
	get("/openapi.yaml", handleOpenAPI())
	if cfg.Metrics != nil {
		get("/metrics", cfg.Metrics)
	}

	withJSON.Method("POST", "/v1/orders", handleCreateOrder(svc))
	get("/v1/orders/{order_id}", handleGetOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/items", handleAddItem(svc))
	mux.Method("DELETE", "/v1/orders/{order_id}/items/{product_id}", handleRemoveItem(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/place", handlePlaceOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/ship", handleShipOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/deliver", handleDeliverOrder(svc))
	withJSON.Method("POST", "/v1/orders/{order_id}/cancel", handleCancelOrder(svc))
	get("/v1/orders/{order_id}/events", handleOrderEvents(svc))

	get("/v1/customers/{customer_id}/orders", handleCustomerOrders(svc, cfg.Cursors))

	get(feedPath, handleFeed(svc, live, cfg.Cursors))

	get("/v1/analytics/daily", handleDailyAnalytics(svc, cfg.Cursors))
	get("/v1/projections", handleProjections(svc, cfg.Cursors))
}
