package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// walkCaller is one principal the table walk acts as.
type walkCaller struct {
	name  string
	token string // "" sends none
	p     app.Principal
}

// walkRoute is one route of the walk, with the roles the issue grants it
// written out again here, independently of the route table, so that a
// change to either is caught.
type walkRoute struct {
	name   string
	method string
	roles  []app.Role
	// state is the state the order must be in for the request to succeed
	// ("" when the route is not about one order).
	state string
	// scope is how the route depends on the order's owner: "order" (an
	// order's route), "list" (a customer's list), "create" (the body
	// names the customer) or "" (not at all).
	scope string
	// request builds the path and body for the order (or customer) given.
	request func(order, product, customer string) (path string, body any)
	ok      int
}

// TestRoleTableWalk walks every route, GET's HEAD included, as every
// principal, on the order of the customer it acts as and on someone
// else's, and checks the status: 401 without a token, 403 when no role of
// the principal may call the route, 404 for another customer's order
// exactly as for a missing one, 403 for another customer's list or a new
// order in another customer's name, the route's success otherwise. A
// refused command changes nothing.
func TestRoleTableWalk(t *testing.T) {
	t.Parallel()
	// With the analytics projection, so that every route can succeed.
	a := newAnalyticsAPI(t, false, 10*time.Millisecond)
	const (
		customer = app.RoleCustomer
		staff    = app.RoleStaff
		service  = app.RoleService
	)
	// The customer the "own" orders belong to, and a third one whose
	// orders are someone else's for every caller.
	me, other, third := uuid.New(), uuid.New(), uuid.New()
	callers := []walkCaller{
		{name: "no token"},
		{name: "customer", p: customerPrincipal(me)},
		{name: "other customer", p: customerPrincipal(other)},
		{name: "staff", p: staffPrincipal},
		{name: "service", p: servicePrincipal},
		{name: "customer+staff", p: customerPrincipal(me, staff)},
	}
	for i := range callers {
		if callers[i].name != "no token" {
			callers[i].token = testAuthenticator.issue(callers[i].p)
		}
	}
	item := func() map[string]any {
		return map[string]any{"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50"}
	}
	orderPath := func(suffix string) func(o, p, c string) (string, any) {
		return func(o, _, _ string) (string, any) { return "/v1/orders/" + o + suffix, nil }
	}
	reads := []app.Role{customer, staff, service}
	commands := []app.Role{customer, staff}
	routes := []walkRoute{
		{"create", "POST", commands, "", "create", func(_, _, c string) (string, any) {
			return "/v1/orders", map[string]any{"customer_id": c}
		}, 201},
		{"get", "GET", reads, "placed", "order", orderPath(""), 200},
		{"get a version", "GET", reads, "placed", "order", orderPath("?version=1"), 200},
		{"get as of a time", "GET", reads, "placed", "order", orderPath("?as_of=9998-12-31T23:59:59Z"), 200},
		{"history", "GET", reads, "placed", "order", orderPath("/events"), 200},
		{"add item", "POST", commands, "draft", "order", func(o, _, _ string) (string, any) {
			return "/v1/orders/" + o + "/items", item()
		}, 200},
		{"remove item", "DELETE", commands, "draft", "order", func(o, p, _ string) (string, any) {
			return "/v1/orders/" + o + "/items/" + p, nil
		}, 200},
		{"place", "POST", commands, "draft", "order", func(o, _, _ string) (string, any) {
			return "/v1/orders/" + o + "/place", testAddress
		}, 200},
		{"ship", "POST", []app.Role{staff}, "placed", "order", func(o, _, _ string) (string, any) {
			return "/v1/orders/" + o + "/ship", map[string]any{"tracking_number": "1Z", "carrier": "UPS"}
		}, 200},
		{"deliver", "POST", []app.Role{staff}, "shipped", "order", func(o, _, _ string) (string, any) {
			return "/v1/orders/" + o + "/deliver", map[string]any{}
		}, 200},
		{"cancel", "POST", commands, "draft", "order", func(o, _, _ string) (string, any) {
			return "/v1/orders/" + o + "/cancel", map[string]any{"reason": "changed my mind"}
		}, 200},
		{"customer's orders", "GET", reads, "", "list", func(_, _, c string) (string, any) {
			return "/v1/customers/" + c + "/orders", nil
		}, 200},
		{"feed", "GET", []app.Role{staff, service}, "", "", func(_, _, _ string) (string, any) { return "/v1/events", nil }, 200},
		{"analytics", "GET", []app.Role{staff, service}, "", "", func(_, _, _ string) (string, any) {
			return "/v1/analytics/daily?from=2025-01-01&to=2025-01-31", nil
		}, 200},
		{"projections", "GET", []app.Role{staff, service}, "", "", func(_, _, _ string) (string, any) { return "/v1/projections", nil }, 200},
		{"erase personal data", "DELETE", []app.Role{staff}, "", "", func(_, _, c string) (string, any) {
			return "/v1/customers/" + c + "/personal-data", nil
		}, 204},
	}
	checkCoversTheTable(t, routes)

	// Orders to read, shared by the reads: one of the customer's, one of
	// someone else's.
	shared := map[uuid.UUID][2]string{}
	for _, owner := range []uuid.UUID{me, third} {
		o, p := a.orderIn(owner, "placed")
		shared[owner] = [2]string{o, p}
	}

	for _, rt := range routes {
		methods := []string{rt.method}
		if rt.method == "GET" {
			methods = append(methods, "HEAD")
		}
		for _, c := range callers {
			for _, own := range []bool{true, false} {
				owner := third
				if own {
					owner = me
				}
				for _, method := range methods {
					name := fmt.Sprintf("%s %s as %s, %s", method, rt.name, c.name, map[bool]string{true: "own", false: "someone else's"}[own])
					orderID, product := shared[owner][0], shared[owner][1]
					if rt.state != "" && rt.method != "GET" {
						orderID, product = a.orderIn(owner, rt.state)
					}
					want := walkWant(rt, c.p, c.token != "", owner)
					path, body := rt.request(orderID, product, owner.String())
					before := a.version(orderID)
					r := a.as(c.token).do(method, path, body)
					if r.Status != want {
						t.Errorf("%s: %d, want %d: %s", name, r.Status, want, r.Body)
						continue
					}
					if want == http.StatusNotFound && method != "HEAD" {
						if p := r.problem(t); p.Code != "order_not_found" {
							t.Errorf("%s: 404 %s, want order_not_found", name, p.Code)
						}
					}
					if want >= 400 && rt.state != "" && a.version(orderID) != before {
						t.Errorf("%s: refused with %d, yet the order changed", name, want)
					}
				}
			}
		}
	}
}

// walkWant is the status a route answers p (authenticated or not) on the
// order or customer of owner.
func walkWant(rt walkRoute, p app.Principal, authenticated bool, owner uuid.UUID) int {
	switch {
	case !authenticated:
		return http.StatusUnauthorized
	case !p.Roles.Any(app.RolesOf(rt.roles...)):
		return http.StatusForbidden
	}
	mine := p.Roles.Has(app.RoleCustomer) && p.CustomerID == owner
	command := rt.method != "GET"
	switch rt.scope {
	case "order":
		if p.Roles.Has(app.RoleStaff) || p.Roles.Has(app.RoleService) && !command || mine {
			return rt.ok
		}
		return http.StatusNotFound
	case "list":
		if p.Roles.Any(app.RolesOf(app.RoleStaff, app.RoleService)) || mine {
			return rt.ok
		}
		return http.StatusForbidden
	case "create":
		if p.Roles.Has(app.RoleStaff) || mine {
			return rt.ok
		}
		return http.StatusForbidden
	}
	return rt.ok
}

// checkCoversTheTable fails unless the walk has a route for every route
// of the table, with the same method.
func checkCoversTheTable(t *testing.T, routes []walkRoute) {
	t.Helper()
	var walked, table []string
	for _, rt := range routes {
		path, _ := rt.request("{order_id}", "{product_id}", "{customer_id}")
		path, _, _ = strings.Cut(path, "?")
		walked = append(walked, rt.method+" "+path)
	}
	for _, rt := range routeTable(nil, Config{}, nil) {
		if !rt.policy.public {
			table = append(table, rt.method+" "+rt.pattern)
		}
	}
	slices.Sort(table)
	walked = slices.Compact(slices.Sorted(slices.Values(walked)))
	if !slices.Equal(walked, table) {
		t.Fatalf("the walk covers\n%s\nthe table has\n%s", strings.Join(walked, "\n"), strings.Join(table, "\n"))
	}
}

// orderIn makes, as staff, an order of owner in state (draft with one
// item, placed or shipped) and returns its id and its item's product.
func (a *testAPI) orderIn(owner uuid.UUID, state string) (id, product string) {
	a.t.Helper()
	o := a.create(owner)
	product = uuid.NewString()
	a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": product, "product_name": "Espresso beans", "quantity": 1, "unit_price": "4.50",
	}).want(a.t, http.StatusOK)
	if state == "placed" || state == "shipped" {
		a.place(o.ID)
	}
	if state == "shipped" {
		a.do("POST", "/v1/orders/"+o.ID+"/ship", map[string]any{"tracking_number": "1Z", "carrier": "UPS"}).want(a.t, http.StatusOK)
	}
	return o.ID, product
}

// version is the order's current version, read as staff; 0 for no order.
func (a *testAPI) version(id string) int {
	a.t.Helper()
	if id == "" {
		return 0
	}
	return a.do("GET", "/v1/orders/"+id, nil).want(a.t, http.StatusOK).order(a.t).Version
}

// TestAnotherCustomersOrderIsNotFound: to a customer, another customer's
// order answers every order route exactly as a missing order does: the
// same status, headers and body, byte for byte but for the order's id
// and the request's; nothing tells the two apart.
func TestAnotherCustomersOrderIsNotFound(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	owner, snoop := uuid.New(), uuid.New()
	theirs, product := a.orderIn(owner, "placed")
	missing := uuid.NewString()
	as := a.as(customerToken(snoop))
	for _, rq := range []struct {
		method, suffix string
		body           any
	}{
		{"GET", "", nil},
		{"HEAD", "", nil},
		{"GET", "?version=1", nil},
		{"GET", "?version=999", nil},
		{"GET", "?as_of=2025-01-02T15:04:05Z", nil},
		{"GET", "/events", nil},
		{"GET", "/events?after_version=5", nil},
		{"POST", "/items", map[string]any{"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50"}},
		{"DELETE", "/items/" + product, nil},
		{"POST", "/place", testAddress},
		{"POST", "/cancel", map[string]any{"reason": "r"}},
	} {
		what := rq.method + " /v1/orders/{id}" + rq.suffix
		normal := func(id string, r reply) string {
			rid := r.Header.Get("X-Request-Id")
			h := []string{r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Header.Get("ETag"), r.Header.Get("WWW-Authenticate")}
			return fmt.Sprintf("%d %q %s", r.Status, h, strings.NewReplacer(id, "{id}", rid, "{request_id}").Replace(string(r.Body)))
		}
		got := normal(theirs, as.do(rq.method, "/v1/orders/"+theirs+rq.suffix, rq.body))
		want := normal(missing, as.do(rq.method, "/v1/orders/"+missing+rq.suffix, rq.body))
		if got != want {
			t.Errorf("%s: another customer's order answers\n%s\na missing one\n%s", what, got, want)
		}
		if !strings.HasPrefix(got, "404 ") {
			t.Errorf("%s: %s, want 404", what, got)
		}
	}
	// And the order is unchanged, as its owner sees it.
	if o := a.as(customerToken(owner)).do("GET", "/v1/orders/"+theirs, nil).want(t, http.StatusOK).order(t); o.Version != 3 || o.Status != "placed" {
		t.Errorf("the order after another customer's requests: version %d, %s", o.Version, o.Status)
	}
}

// TestCreatingAnotherCustomersOrderIsNotFound: a customer's create that
// names another customer's order as its id is answered as every other
// request of that customer on that order: 404 order_not_found, never
// order_exists, and nothing is written. Whoever may see the order (its
// owner, staff) is told 409 order_exists, the answer a retried create gets.
func TestCreatingAnotherCustomersOrderIsNotFound(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	owner, snoop := uuid.New(), uuid.New()
	theirs, _ := a.orderIn(owner, "draft")
	as := a.as(customerToken(snoop))
	normal := func(r reply) string {
		return fmt.Sprintf("%d %s", r.Status, strings.ReplaceAll(string(r.Body), r.Header.Get("X-Request-Id"), "{request_id}"))
	}
	written := a.count(`SELECT count(*) FROM events`)

	// When another customer creates an order with that id, with or
	// without naming itself, with or without an idempotency key
	for _, body := range []map[string]any{
		{"id": theirs},
		{"id": theirs, "customer_id": snoop},
		{"id": theirs, "currency": "EUR"},
	} {
		for _, headers := range [][]string{nil, {"Idempotency-Key", uuid.NewString()}} {
			got := as.do("POST", "/v1/orders", body, headers...)
			// Then it is answered as its command on that order is
			want := as.do("POST", "/v1/orders/"+theirs+"/cancel", map[string]any{"reason": "r"})
			got.wantProblem(t, http.StatusNotFound, "order_not_found")
			if normal(got) != normal(want) {
				t.Errorf("create %v: answered\n%s\na command on the order\n%s", body, normal(got), normal(want))
			}
		}
	}
	if n := a.count(`SELECT count(*) FROM events`); n != written {
		t.Errorf("%d events written by another customer's creates", n-written)
	}

	// Whoever may see the order is told it exists.
	for name, token := range map[string]string{
		"its owner":          customerToken(owner),
		"staff":              staffToken,
		"its owner as staff": customerToken(owner, app.RoleStaff),
	} {
		r := a.as(token).do("POST", "/v1/orders", map[string]any{"id": theirs, "customer_id": owner})
		if r.Status != http.StatusConflict {
			t.Errorf("create as %s: %d, want 409: %s", name, r.Status, r.Body)
			continue
		}
		r.wantProblem(t, http.StatusConflict, "order_exists")
	}
	// Staff naming another customer for it are told too: they see every
	// order.
	a.do("POST", "/v1/orders", map[string]any{"id": theirs, "customer_id": snoop}).wantProblem(t, http.StatusConflict, "order_exists")
}

// TestIdempotencyKeysAreTheCallers: a key one principal claimed never
// replays its answer to another; the other's request with the same key
// and body is its own.
func TestIdempotencyKeysAreTheCallers(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	alice, bob := uuid.New(), uuid.New()
	asAlice, asBob := a.as(customerToken(alice)), a.as(customerToken(bob))
	// Given Alice's order, created with a key and no customer_id
	first := asAlice.do("POST", "/v1/orders", map[string]any{}, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	mine := first.order(t)
	if mine.CustomerID != alice.String() {
		t.Fatalf("customer_id = %s, want the caller's %s", mine.CustomerID, alice)
	}
	// When Bob sends the very same request with the same key
	second := asBob.do("POST", "/v1/orders", map[string]any{}, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	// Then he gets an order of his own, not Alice's replayed
	if o := second.order(t); second.Header.Get("Idempotent-Replayed") != "" || o.ID == mine.ID || o.CustomerID != bob.String() {
		t.Errorf("Bob's request with Alice's key: replayed %q, order %s of %s", second.Header.Get("Idempotent-Replayed"), o.ID, o.CustomerID)
	}
	// While Alice's retry is replayed
	again := asAlice.do("POST", "/v1/orders", map[string]any{}, "Idempotency-Key", "k-1").want(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.order(t).ID != mine.ID {
		t.Errorf("Alice's retry: replayed %q, %s", again.Header.Get("Idempotent-Replayed"), again.Body)
	}
}

// TestCommandsRecordTheCaller: who created, changed and cancelled an
// order is the principal of each request, with its roles and client, in
// the history and in the order document; a cancelled_by naming someone
// else is refused.
func TestCommandsRecordTheCaller(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer := uuid.New()
	shop := app.Principal{Subject: customer.String(), Roles: app.RolesOf(app.RoleCustomer), CustomerID: customer, ClientID: "shop-web"}
	as := a.as(testAuthenticator.issue(shop))
	o := as.do("POST", "/v1/orders", map[string]any{}).want(t, http.StatusCreated).order(t)
	p := as.do("POST", "/v1/orders/"+o.ID+"/cancel", map[string]any{"reason": "r", "cancelled_by": "support"}).
		wantProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if len(p.Errors) != 1 || p.Errors[0].Field != "cancelled_by" || p.Errors[0].Code != "not_caller" {
		t.Errorf("cancelled_by naming someone else: %+v", p.Errors)
	}
	a.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50",
	}).want(t, http.StatusOK)
	cancelled := as.do("POST", "/v1/orders/"+o.ID+"/cancel", map[string]any{"reason": "r", "cancelled_by": customer.String()}).
		want(t, http.StatusOK).order(t)
	if cancelled.CancelledBy == nil || *cancelled.CancelledBy != customer.String() {
		t.Errorf("cancelled_by = %v, want %s", cancelled.CancelledBy, customer)
	}
	type who struct {
		actor, client string
		roles         string
	}
	var got []who
	for _, e := range a.events(o.ID) {
		m := e.Metadata
		got = append(got, who{deref(m.Actor), deref(m.ClientID), strings.Join(m.ActorRoles, " ")})
	}
	want := []who{{customer.String(), "shop-web", "customer"}, {staffPrincipal.Subject, "", "staff"}, {customer.String(), "shop-web", "customer"}}
	if !slices.Equal(got, want) {
		t.Errorf("actors %+v, want %+v", got, want)
	}
}
