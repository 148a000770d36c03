package httpapi

import (
	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/app"
)

// addRoutes is the whole API surface, in one place. api/openapi.yaml
// documents each of these routes; keep the two in step. cfg.Metrics, when
// not nil, is served at /metrics.
func addRoutes(mux chi.Router, svc *app.Service, cfg Config, live *liveFeed) {
	mux.Method("GET", "/healthz", handleHealth())
	mux.Method("GET", "/readyz", handleReady(cfg.Ready, cfg.ReadyDetails))
	mux.Method("GET", "/openapi.yaml", handleOpenAPI())
	if cfg.Metrics != nil {
		mux.Method("GET", "/metrics", cfg.Metrics)
	}

	mux.Method("POST", "/v1/orders", handleCreateOrder(svc))
	mux.Method("GET", "/v1/orders/{order_id}", handleGetOrder(svc))
	mux.Method("POST", "/v1/orders/{order_id}/items", handleAddItem(svc))
	mux.Method("DELETE", "/v1/orders/{order_id}/items/{product_id}", handleRemoveItem(svc))
	mux.Method("POST", "/v1/orders/{order_id}/place", handlePlaceOrder(svc))
	mux.Method("POST", "/v1/orders/{order_id}/ship", handleShipOrder(svc))
	mux.Method("POST", "/v1/orders/{order_id}/deliver", handleDeliverOrder(svc))
	mux.Method("POST", "/v1/orders/{order_id}/cancel", handleCancelOrder(svc))
	mux.Method("GET", "/v1/orders/{order_id}/events", handleOrderEvents(svc))

	mux.Method("GET", "/v1/customers/{customer_id}/orders", handleCustomerOrders(svc))

	mux.Method("GET", feedPath, handleFeed(svc, live))

	mux.Method("GET", "/v1/analytics/daily", handleDailyAnalytics(svc))
	mux.Method("GET", "/v1/projections", handleProjections(svc))
}
