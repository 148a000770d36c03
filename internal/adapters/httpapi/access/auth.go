// Package access decides who may reach the API and how often: bearer
// tokens (identify, require, authorize by role), rates per caller, and
// the headers every answer carries for browsers (security, CORS).
package access

import (
	"context"
	"net/http"
	"strings"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
)

// Authenticator verifies a bearer token and says whom it speaks for. token
// is the text after "Bearer ". A refused token is an error of
// app.ErrInvalidToken's code saying why (app.InvalidToken); keys not yet
// loaded are app.ErrAuthUnavailable.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (app.Principal, error)
}

// MaxAuthorizationLen bounds the Authorization header. A JWT with a few
// roles is well under 2 KiB; anything far larger is refused before it is
// parsed, let alone verified.
const MaxAuthorizationLen = 8 << 10

// Identify verifies the request's bearer token (RFC 6750 §2.1) and puts
// what it found in the request's context: the principal the token names
// (see Principal), or why there is none. It answers nothing itself, so
// that the rate limits, which come next, count a caller by its principal
// and a request without one by its address; RequireAuth then refuses it.
func Identify(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var id identity
			token, err := bearerToken(r.Header)
			if err == nil {
				id.principal, err = auth.Authenticate(r.Context(), token)
			}
			if err == nil {
				// The audit trail records the principal: one it cannot
				// record (no subject, or names no reader can trust)
				// cannot act.
				err = id.principal.Check()
			}
			if err != nil {
				id = identity{err: err}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, id)))
		})
	}
}

// identity is what Identify found of a request's caller: a principal, or
// the error that says why there is none.
type identity struct {
	principal app.Principal
	err       error
}

// RequireAuth admits a request Identify found a principal for, and
// answers any other with the problem that says why: 401 with a challenge,
// or 503 while the keys are not available.
func RequireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := r.Context().Value(principalKey{}).(identity)
		switch {
		case !ok:
			// Identify did not run: a route wired wrongly is closed.
			problem.Write(w, r, app.ErrUnauthenticated)
		case id.err != nil:
			problem.Write(w, r, id.err)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Principal returns whom the request acts as: the zero Principal, with
// no roles, on a public route or when the request's token was refused.
func Principal(ctx context.Context) app.Principal {
	id, _ := ctx.Value(principalKey{}).(identity)
	return id.principal
}

// Why a sent Authorization header is refused. None quotes the header: it
// may be a real credential.
var (
	errAuthorizationTooLong = app.InvalidToken("the Authorization header is longer than 8 KiB")
	errAuthorizationTwice   = app.InvalidToken("send one Authorization header, not several")
	errNoToken              = app.InvalidToken("no token follows Bearer; send Authorization: Bearer <token>")
	errNotToken68           = app.InvalidToken("the token must be token68 text (A-Z a-z 0-9 - . _ ~ + /, then any '=')")
)

// bearerToken reads the token of an Authorization: Bearer header. The
// scheme's name is case-insensitive (RFC 9110 §11.1). A request with no
// header, or with another scheme, has no bearer credentials at all (RFC
// 6750 §3.1 asks for a bare challenge then); a header that names Bearer
// but holds no proper token is an invalid token.
func bearerToken(h http.Header) (string, error) {
	vs := h.Values("Authorization")
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	switch {
	case n > MaxAuthorizationLen:
		return "", errAuthorizationTooLong
	case len(vs) == 0:
		return "", app.ErrUnauthenticated
	case len(vs) > 1:
		return "", errAuthorizationTwice
	}
	scheme, token, _ := strings.Cut(vs[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", app.ErrUnauthenticated
	}
	token = strings.TrimLeft(token, " ")
	switch {
	case token == "":
		return "", errNoToken
	case !isToken68(token):
		return "", errNotToken68
	}
	return token, nil
}

// isToken68 reports whether s is RFC 9110's token68: 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=". A JWT is.
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := range len(body) {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// WithPrincipal is ctx as Identify leaves it for a request whose token
// speaks for p.
func WithPrincipal(ctx context.Context, p app.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, identity{principal: p})
}

// principalKey keys the request's identity in its context.
type principalKey struct{}

// Authorize admits a request whose principal holds one of allowed, and
// answers any other 403. It runs after authenticate: the route table (see
// routeTable) decides by role alone, the app by ownership.
func Authorize(allowed app.Roles) func(http.Handler) http.Handler {
	refusal := app.ErrForbidden
	if allowed != 0 {
		refusal = &app.Error{Code: app.ErrForbidden.Code,
			Message: app.ErrForbidden.Message + "; it needs one of these roles: " + strings.Join(allowed.Names(), ", ")}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !Principal(r.Context()).Roles.Any(allowed) {
				problem.Write(w, r, refusal)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
