package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/livefeed"
	"github.com/orderapi/orderapi/internal/adapters/webui"
	"github.com/orderapi/orderapi/internal/app"
)

// route is one entry of the API's surface: what answers a method on a
// path, and who may ask.
type route struct {
	// method is GET, POST or DELETE; a GET route answers HEAD too, as RFC
	// 9110 asks: the same status and headers, and net/http drops the body.
	method  string
	pattern string
	policy  policy
	// handler is nil for a route the configuration leaves out.
	handler http.Handler
}

// policy is who may call a route: anyone, without a token, or a principal
// holding at least one of roles. The zero policy admits no one, so that a
// route nobody thought about is closed, not open.
type policy struct {
	public bool
	roles  app.Roles
}

// anyone is the policy of the operational routes, which carry no order
// data and must answer load balancers and scrapers without a token, and
// of the pages for browsers (the API reference, the console), which carry
// none either. The console's development tokens are open too, where they
// exist at all: in development mode, to this machine.
var anyone = policy{public: true}

func allow(rs ...app.Role) policy { return policy{roles: app.RolesOf(rs...)} }

// routeTable is the whole API surface and who may call each route, in one
// place. api/openapi.yaml documents each route and, in x-roles, the same
// roles; a test keeps the two equal. Roles only open the door: which
// orders a customer may see and change is the app's to decide (another
// customer's order is not found), never this table's.
func routeTable(svc *app.Service, cfg Config, live *livefeed.Feed) []route {
	const (
		customer = app.RoleCustomer
		staff    = app.RoleStaff
		service  = app.RoleService
	)
	var (
		// Commands: customers on their own orders, staff on any; machine
		// clients only read.
		command = allow(customer, staff)
		// Reading an order or a customer's list: everyone with a role.
		read = allow(customer, staff, service)
		// The operators' views across every customer.
		operator = allow(staff, service)
	)
	docs, console := webui.Docs(), webui.Console()
	return []route{
		{"GET", "/healthz", anyone, handleHealth()},
		{"GET", "/readyz", anyone, handleReady(cfg.Ready, cfg.ReadyDetails)},
		{"GET", "/openapi.yaml", anyone, handleOpenAPI()},
		// The API reference for browsers, over /openapi.yaml: the page,
		// with or without its slash, and the files it loads. Its "Try it
		// out" sends the token a developer pastes, as any client does.
		{"GET", "/docs", anyone, docs},
		{"GET", "/docs/", anyone, docs},
		{"GET", "/docs/{asset}", anyone, docs},
		// The console for support and operations, likewise: every call it
		// makes goes to /v1 with its user's token. In development mode it
		// may ask for a token of a role it picks, from this machine only.
		{"GET", "/console", anyone, console},
		{"GET", "/console/", anyone, console},
		{"GET", "/console/{asset}", anyone, console},
		{"GET", "/console/config", anyone, handleConsoleConfig(cfg.DevTokens)},
		{"POST", "/console/dev/token", anyone, handleDevToken(cfg.DevTokens)},
		{"GET", "/metrics", anyone, cfg.Metrics},

		// Commands with a JSON body refuse any other media type before
		// they look at anything but the caller.
		{"POST", "/v1/orders", command, jsonbody.Only(handleCreateOrder(svc, cfg.Fingerprints))},
		{"GET", "/v1/orders/{order_id}", read, handleGetOrder(svc)},
		{"POST", "/v1/orders/{order_id}/items", command, jsonbody.Only(handleAddItem(svc, cfg.Fingerprints))},
		{"DELETE", "/v1/orders/{order_id}/items/{product_id}", command, handleRemoveItem(svc, cfg.Fingerprints)},
		{"POST", "/v1/orders/{order_id}/place", command, jsonbody.Only(handlePlaceOrder(svc, cfg.Fingerprints))},
		{"POST", "/v1/orders/{order_id}/ship", allow(staff), jsonbody.Only(handleShipOrder(svc, cfg.Fingerprints))},
		{"POST", "/v1/orders/{order_id}/deliver", allow(staff), jsonbody.Only(handleDeliverOrder(svc, cfg.Fingerprints))},
		{"POST", "/v1/orders/{order_id}/cancel", command, jsonbody.Only(handleCancelOrder(svc, cfg.Fingerprints))},
		{"GET", "/v1/orders/{order_id}/events", read, handleOrderEvents(svc)},

		{"GET", "/v1/customers/{customer_id}/orders", read, handleCustomerOrders(svc, cfg.Cursors)},
		// Erasing a customer's personal data is support staff's.
		{"DELETE", "/v1/customers/{customer_id}/personal-data", allow(staff), handleErasePersonalData(svc)},

		// Support staff tail the feed too.
		{"GET", feedPath, operator, handleFeed(svc, live, cfg.Cursors, cfg.RequestTimeout)},

		{"GET", "/v1/analytics/daily", operator, handleDailyAnalytics(svc, cfg.Cursors)},
		{"GET", "/v1/projections", operator, handleProjections(svc, cfg.Cursors)},
	}
}

// addRoutes registers routes on mux, each behind what its policy asks:
// nothing for a public one; otherwise the caller's rate (limit, counted by
// its principal when its token names one, else by its address), then a
// valid bearer token (requireAuth), then one of the roles (authorize).
// Then every route refuses a query string it cannot read
// (wellFormedQuery), before its handler reads a parameter.
func addRoutes(mux chi.Router, routes []route, auth Authenticator, limits *access.RateLimits) {
	for _, rt := range routes {
		if rt.handler == nil {
			continue
		}
		h := wellFormedQuery(rt.handler)
		if !rt.policy.public {
			h = access.Identify(auth)(limits.Limit(access.RequireAuth(access.Authorize(rt.policy.roles)(h))))
		}
		mux.Method(rt.method, rt.pattern, h)
		if rt.method == http.MethodGet {
			mux.Method(http.MethodHead, rt.pattern, h)
		}
	}
}
