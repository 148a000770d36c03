package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/access"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
)

// The challenges RFC 6750 §3 asks for, exactly as sent.
const (
	bareChallenge    = `Bearer realm="orderapi"`
	invalidChallenge = `Bearer realm="orderapi", error="invalid_token", error_description="`
)

// TestBearerHeaders: every shape of Authorization header a client may
// send to a /v1 route gets the answer RFC 6750 asks for, with its
// challenge, and only a well-formed bearer token reaches the verifier.
func TestBearerHeaders(t *testing.T) {
	t.Parallel()
	rec := &recordingAuth{next: testAuthenticator}
	a := newAPI(t, func(c *Config) { c.Auth = rec })
	o := a.create(uuid.New())
	path := "/v1/orders/" + o.ID
	overLong := "Bearer " + strings.Repeat("a", access.MaxAuthorizationLen-len("Bearer ")+1)
	atLimit := "Bearer " + strings.Repeat("a", access.MaxAuthorizationLen-len("Bearer "))

	tests := []struct {
		name      string
		headers   []string // Authorization values, each sent as a header of its own
		status    int
		code      string
		challenge string // the WWW-Authenticate header, exactly
		verified  string // the token the verifier is asked about; "" for none
	}{
		{"missing", nil, 401, "unauthenticated", bareChallenge, ""},
		{"empty", []string{""}, 401, "unauthenticated", bareChallenge, ""},
		{"another scheme", []string{"Basic x"}, 401, "unauthenticated", bareChallenge, ""},
		{"Bearer without a token", []string{"Bearer"}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: no token follows Bearer; send Authorization: Bearer <token>"`, ""},
		{"Bearer and spaces", []string{"Bearer   "}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: no token follows Bearer; send Authorization: Bearer <token>"`, ""},
		{"two Authorization headers", []string{"Bearer " + staffToken, "Bearer " + staffToken}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: send one Authorization header, not several"`, ""},
		{"over 8 KiB", []string{overLong}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: the Authorization header is longer than 8 KiB"`, ""},
		{"two halves over 8 KiB together", []string{atLimit[:4096], atLimit[:4097]}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: the Authorization header is longer than 8 KiB"`, ""},
		{"a token with a space", []string{"Bearer a b"}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: the token must be token68 text (A-Z a-z 0-9 - . _ ~ + /, then any '=')"`, ""},
		{"a token of '=' alone", []string{"Bearer =="}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: the token must be token68 text (A-Z a-z 0-9 - . _ ~ + /, then any '=')"`, ""},
		{"a token the verifier does not know", []string{"Bearer secret.not.issued"}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: ` + unknownTokenReason + `"`, "secret.not.issued"},
		{"8 KiB exactly reaches the verifier", []string{atLimit}, 401, "invalid_token",
			invalidChallenge + `the bearer token is not valid: ` + unknownTokenReason + `"`, atLimit[len("Bearer "):]},
		{"Bearer", []string{"Bearer " + staffToken}, 200, "", "", staffToken},
		{"lower-case bearer", []string{"bearer " + staffToken}, 200, "", "", staffToken},
		{"upper-case BEARER, two spaces", []string{"BEARER  " + staffToken}, 200, "", "", staffToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// When the request is sent with these headers
			req, err := http.NewRequest("GET", a.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.headers {
				req.Header.Add("Authorization", v)
			}
			rec.reset()
			r := a.as("").send(req)
			// Then it gets the status, problem and challenge, and the
			// verifier saw the token only when one was well formed
			if tt.code == "" {
				r.want(t, tt.status)
			} else {
				p := r.wantProblem(t, tt.status, tt.code)
				for _, v := range tt.headers {
					if len(v) > len("Bearer ") && strings.Contains(p.Detail+r.Header.Get("WWW-Authenticate"), v[len("Bearer "):]) {
						t.Errorf("the answer quotes the token: %s", r.Body)
					}
				}
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.challenge)
			}
			if got := rec.tokens(); tt.verified == "" && len(got) != 0 || tt.verified != "" && (len(got) != 1 || got[0] != tt.verified) {
				t.Errorf("the verifier was asked about %.40q, want %.40q", got, tt.verified)
			}
		})
	}
}

// recordingAuth records the tokens it is asked about and passes them on.
type recordingAuth struct {
	next Authenticator
	mu   sync.Mutex
	seen []string
}

func (r *recordingAuth) Authenticate(ctx context.Context, token string) (app.Principal, error) {
	r.mu.Lock()
	r.seen = append(r.seen, token)
	r.mu.Unlock()
	return r.next.Authenticate(ctx, token)
}

func (r *recordingAuth) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
}

func (r *recordingAuth) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestEveryV1RouteNeedsAToken: no /v1 route answers a request without a
// token with anything but 401, whatever the method and body, and nothing
// is written; the operational routes need none.
func TestEveryV1RouteNeedsAToken(t *testing.T) {
	t.Parallel()
	a := newEveryRouteAPI(t)
	o := a.create(uuid.New())
	written := a.count(`SELECT count(*) FROM events`)
	anonymous := a.as("")
	for _, rt := range routeTable(nil, Config{}, nil) {
		path := routePath(rt, o)
		var body any
		switch {
		case rt.pattern == "/console/dev/token":
			body = map[string]any{"roles": []string{"staff"}, "subject": "dev-staff"}
		case rt.method == http.MethodPost:
			body = map[string]any{}
		}
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		for _, method := range methods {
			r := anonymous.do(method, path, body)
			want := http.StatusOK
			if !rt.policy.public {
				want = http.StatusUnauthorized
			}
			if r.Status != want || !rt.policy.public && r.Header.Get("WWW-Authenticate") != bareChallenge {
				t.Errorf("%s %s without a token: %d, WWW-Authenticate %q; want %d: %s",
					method, rt.pattern, r.Status, r.Header.Get("WWW-Authenticate"), want, r.Body)
			}
			if !rt.policy.public && method != http.MethodHead {
				r.wantProblem(t, http.StatusUnauthorized, "unauthenticated")
			}
		}
	}
	if n := a.count(`SELECT count(*) FROM events`); n != written {
		t.Errorf("%d events written by anonymous requests", n-written)
	}
}

// TestForbiddenChallenge: a valid token without the role a route needs is
// 403 forbidden, with RFC 6750's insufficient_scope challenge naming the
// roles that would do, before the body is even looked at.
func TestForbiddenChallenge(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	o := a.create(uuid.New())
	customer := a.as(customerToken(uuid.MustParse(o.CustomerID)))
	for _, tc := range []struct {
		method, path string
		body         any
		challenge    string
	}{
		{"POST", "/v1/orders/" + o.ID + "/ship", map[string]any{"tracking_number": "T", "carrier": "UPS"},
			`Bearer realm="orderapi", error="insufficient_scope", error_description="your roles do not allow this request; it needs one of these roles: staff"`},
		{"POST", "/v1/orders/" + o.ID + "/ship", "not JSON at all",
			`Bearer realm="orderapi", error="insufficient_scope", error_description="your roles do not allow this request; it needs one of these roles: staff"`},
		{"GET", "/v1/events", nil,
			`Bearer realm="orderapi", error="insufficient_scope", error_description="your roles do not allow this request; it needs one of these roles: staff, service"`},
	} {
		r := customer.do(tc.method, tc.path, tc.body)
		p := r.wantProblem(t, http.StatusForbidden, "forbidden")
		if got := r.Header.Get("WWW-Authenticate"); got != tc.challenge {
			t.Errorf("%s %s: WWW-Authenticate = %q, want %q", tc.method, tc.path, got, tc.challenge)
		}
		if !strings.HasPrefix(p.Detail, app.ErrForbidden.Message) {
			t.Errorf("detail %q", p.Detail)
		}
	}
}

// TestAuthUnavailable: while the verifier has no keys, every /v1 route is
// 503 auth_unavailable with Retry-After and no challenge (the token may be
// fine), and the operational routes still answer.
func TestAuthUnavailable(t *testing.T) {
	t.Parallel()
	a := newAPI(t, func(c *Config) { c.Auth = &testAuth{unavailable: true} })
	for _, path := range []string{"/v1/orders/" + uuid.NewString(), "/v1/events", "/v1/projections"} {
		r := a.do("GET", path, nil)
		r.wantProblem(t, http.StatusServiceUnavailable, "auth_unavailable")
		if r.Header.Get("Retry-After") == "" || r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("GET %s: Retry-After %q, WWW-Authenticate %q", path, r.Header.Get("Retry-After"), r.Header.Get("WWW-Authenticate"))
		}
	}
	a.do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).wantProblem(t, http.StatusServiceUnavailable, "auth_unavailable")
	a.do("GET", "/readyz", nil).want(t, http.StatusOK)
	a.do("GET", "/healthz", nil).want(t, http.StatusOK)
}

// TestVerifierFailures: a principal without a subject, or with names the
// audit trail cannot record, cannot act, and a verifier's unexpected error is a logged
// 500, never a way in.
func TestVerifierFailures(t *testing.T) {
	t.Parallel()
	auth := &testAuth{tokens: map[string]app.Principal{}}
	nobody := auth.issue(app.Principal{Roles: app.RolesOf(app.RoleStaff)})
	a := newAPI(t, func(c *Config) { c.Auth = failingAuth{auth} })
	r := a.as(nobody).do("GET", "/v1/projections", nil)
	r.wantProblem(t, http.StatusUnauthorized, "invalid_token")
	if got, want := r.Header.Get("WWW-Authenticate"), invalidChallenge+`the bearer token is not valid: no subject (sub)"`; got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	// Nor can one whose names history could not record as they are
	for _, p := range []app.Principal{
		{Subject: "a\x00b", Roles: app.RolesOf(app.RoleStaff)},
		{Subject: "evil\nINFO forged", Roles: app.RolesOf(app.RoleStaff)},
		{Subject: "  ", Roles: app.RolesOf(app.RoleStaff)},
		// Blank as cancelled_by would be: such a caller could do all but
		// cancel.
		{Subject: "\u200b", Roles: app.RolesOf(app.RoleStaff)},
		{Subject: "\u3164\ufeff", Roles: app.RolesOf(app.RoleStaff)},
		{Subject: strings.Repeat("s", 101), Roles: app.RolesOf(app.RoleStaff)},
		{Subject: "staff:ok", Roles: app.RolesOf(app.RoleStaff), ClientID: "web\r\n"},
		{Subject: "staff:ok", Roles: app.RolesOf(app.RoleStaff), ClientID: "\u00ad"},
	} {
		a.as(auth.issue(p)).do("POST", "/v1/orders", map[string]any{"customer_id": uuid.New()}).wantProblem(t, http.StatusUnauthorized, "invalid_token")
	}
	a.as("broken").do("GET", "/v1/projections", nil).wantProblem(t, http.StatusInternalServerError, problem.CodeInternal)
	if !strings.Contains(a.logs.String(), "verifier exploded") {
		t.Errorf("the verifier's error was not logged:\n%s", a.logs.String())
	}
}

// failingAuth fails with an error of no known code on the token "broken".
type failingAuth struct{ *testAuth }

func (f failingAuth) Authenticate(ctx context.Context, token string) (app.Principal, error) {
	if token == "broken" {
		return app.Principal{}, errors.New("verifier exploded")
	}
	return f.testAuth.Authenticate(ctx, token)
}

// TestXActorIsNotRead: whatever X-Actor says, the events a command writes
// record the principal its token names as the actor, and a malformed
// X-Actor is no longer a reason to refuse.
func TestXActorIsNotRead(t *testing.T) {
	t.Parallel()
	a := newAPI(t)
	customer := uuid.New()
	as := a.as(customerToken(customer))
	o := as.do("POST", "/v1/orders", map[string]any{"customer_id": customer}, "X-Actor", "staff:mallory").
		want(t, http.StatusCreated).order(t)
	as.do("POST", "/v1/orders/"+o.ID+"/items", map[string]any{
		"product_id": uuid.NewString(), "product_name": "Mug", "quantity": 1, "unit_price": "4.50",
	}, "X-Actor", "robert'); DROP").want(t, http.StatusOK)
	for _, e := range a.events(o.ID) {
		if e.Metadata.Actor == nil || *e.Metadata.Actor != customer.String() {
			t.Errorf("%s: actor %v, want the token's subject %s", e.Type, e.Metadata.Actor, customer)
		}
	}
}

// TestNewServerNeedsAnAuthenticator: there is no server without
// authentication.
func TestNewServerNeedsAnAuthenticator(t *testing.T) {
	t.Parallel()
	svc, err := app.NewService(nopStore{}, nopStore{}, app.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewServer(svc, zerolog.Nop(), Config{Ready: func(context.Context) error { return nil }, Cursors: testCursors})
	if err == nil || !strings.Contains(err.Error(), "Config.Auth") {
		t.Errorf("NewServer without Auth: %v", err)
	}
}
