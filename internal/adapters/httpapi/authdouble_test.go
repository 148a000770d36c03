package httpapi

import (
	"context"
	"net/http"
	"sync"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// testAuth stands for the token verifier in this package's tests: opaque
// tokens, each mapped to the principal it names. The real verifier has
// tests of its own; here what matters is what the API does with whoever a
// token says.
type testAuth struct {
	mu     sync.Mutex
	tokens map[string]app.Principal
	// unavailable, while set, answers every token with
	// app.ErrAuthUnavailable, as a verifier without keys does.
	unavailable bool
}

// unknownTokenReason is why testAuth refuses a token it did not issue.
const unknownTokenReason = "no such test token"

func (a *testAuth) Authenticate(_ context.Context, token string) (app.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unavailable {
		return app.Principal{}, app.ErrAuthUnavailable
	}
	p, ok := a.tokens[token]
	if !ok {
		return app.Principal{}, app.InvalidToken(unknownTokenReason)
	}
	return p, nil
}

// issue returns a new token for p.
func (a *testAuth) issue(p app.Principal) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	token := "t." + uuid.NewString()
	a.tokens[token] = p
	return token
}

// testAuthenticator is the verifier of every test server that sets none
// of its own.
var testAuthenticator = &testAuth{tokens: map[string]app.Principal{}}

// The principals most tests act as. Tests that predate authentication act
// as staff, who may do everything an order allows.
var (
	staffPrincipal   = app.Principal{Subject: "staff:ada", Roles: app.RolesOf(app.RoleStaff)}
	servicePrincipal = app.Principal{Subject: "svc:billing", Roles: app.RolesOf(app.RoleService), ClientID: "billing"}

	staffToken   = testAuthenticator.issue(staffPrincipal)
	serviceToken = testAuthenticator.issue(servicePrincipal)
)

// customerPrincipal is the customer id acting as itself, with the extra
// roles given.
func customerPrincipal(id uuid.UUID, extra ...app.Role) app.Principal {
	return app.Principal{Subject: id.String(), Roles: app.RolesOf(append(extra, app.RoleCustomer)...), CustomerID: id}
}

// customerToken is a token of customerPrincipal.
func customerToken(id uuid.UUID, extra ...app.Role) string {
	return testAuthenticator.issue(customerPrincipal(id, extra...))
}

// withStaffToken sets Authorization to the staff's token on a request
// that carries none, for tests that send requests outside the spec
// client.
func withStaffToken(r *http.Request) *http.Request {
	if r.Header.Get("Authorization") == "" {
		r.Header.Set("Authorization", "Bearer "+staffToken)
	}
	return r
}
