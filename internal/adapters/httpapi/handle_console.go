package httpapi

import (
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/jsonbody"
	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// DevTokenMinter signs development tokens for the console's sign-in, as
// `orderapi token` signs them: in development mode (ORDERAPI_AUTH=dev)
// only. It refuses what `orderapi token` refuses, with a
// *jwtauth.DevTokenError.
type DevTokenMinter interface {
	MintDevToken(roles []string, subject string, ttl time.Duration) (string, error)
}

// consoleConfigJSON is GET /console/config: what the console may offer
// the browser that asks.
type consoleConfigJSON struct {
	// DevTokens is whether POST /console/dev/token would answer this
	// browser, so that the sign-in offers its role picker.
	DevTokens bool `json:"dev_tokens"`
}

// handleConsoleConfig tells the console whether it may offer the role
// picker here. It always answers, so that the console's first request
// fails in no deployment (a browser reports every 404 in its console).
func handleConsoleConfig(mint DevTokenMinter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, r, http.StatusOK, consoleConfigJSON{DevTokens: mint != nil && fromThisMachine(r)})
	})
}

// devTokenRequest is POST /console/dev/token's body.
type devTokenRequest struct {
	Roles      *[]string `json:"roles"`
	Subject    string    `json:"subject"`
	TTLSeconds *int64    `json:"ttl_seconds"`
}

// devTokenJSON is POST /console/dev/token's answer.
type devTokenJSON struct {
	Token string `json:"token"`
}

// devTokenTTL is a console token's lifetime unless the request names one:
// `orderapi token`'s default.
const devTokenTTL = time.Hour

// devTokenMaxBytes bounds the request's body: three short members.
const devTokenMaxBytes = 4 << 10

// handleDevToken mints a development token for the roles and subject a
// developer picks in the console; nil, so that the route does not exist,
// without a minter. It answers only a browser on this machine (see
// fromThisMachine), and any other request as a path that does not exist.
func handleDevToken(mint DevTokenMinter) http.Handler {
	if mint == nil {
		return nil
	}
	issue := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := jsonbody.Decode(w, r, devTokenMaxBytes, func(req devTokenRequest) (devTokenRequest, error) {
			if req.Roles == nil {
				return req, order.Invalid("roles", order.FieldRequired, "is required: customer, staff or service")
			}
			return req, nil
		})
		if err != nil {
			problem.Write(w, r, err)
			return
		}
		ttl := devTokenTTL
		if req.TTLSeconds != nil {
			// Beyond what a Duration holds is as refused as a day and a
			// second, or none; the minter says why.
			const most = math.MaxInt64 / int64(time.Second)
			ttl = time.Duration(max(min(*req.TTLSeconds, most), -most)) * time.Second
		}
		tok, err := mint.MintDevToken(*req.Roles, req.Subject, ttl)
		if err != nil {
			problem.Write(w, r, devTokenProblem(req, err))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, r, http.StatusOK, devTokenJSON{Token: tok})
	})
	only := jsonbody.Only(issue)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromThisMachine(r) {
			handleNotFound()(w, r)
			return
		}
		only.ServeHTTP(w, r)
	})
}

// devTokenProblem names the request's member a refusal is about.
func devTokenProblem(req devTokenRequest, err error) error {
	e, ok := errors.AsType[*jwtauth.DevTokenError](err)
	if !ok {
		return err
	}
	switch e.Field {
	case "Roles":
		code := order.FieldBadFormat
		if len(*req.Roles) == 0 {
			code = order.FieldRequired
		}
		return order.Invalid("roles", code, e.Reason)
	case "Subject":
		code := order.FieldBadFormat
		if req.Subject == "" {
			code = order.FieldRequired
		}
		return order.Invalid("subject", code, e.Reason)
	case "TTL":
		return order.Invalid("ttl_seconds", order.FieldOutOfRange, e.Reason)
	}
	return err
}

// fromThisMachine reports whether r comes from a program on this machine
// for a name of this machine: from a loopback address (127.0.0.0/8, ::1);
// to a loopback host (localhost, a name under .localhost, a loopback
// address), so that another site's page whose name an attacker points at
// 127.0.0.1 (DNS rebinding) is refused; and not relayed by a proxy, whose
// clients are elsewhere although it connects from loopback.
func fromThisMachine(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || !loopback(host) {
		return false
	}
	for _, relayed := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if len(r.Header.Values(relayed)) > 0 {
			return false
		}
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost") ||
		loopback(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"))
}

// loopback reports whether s is a loopback address, IPv4 (127.0.0.0/8),
// IPv6 (::1) or IPv4 in IPv6 (::ffff:127.0.0.1).
func loopback(s string) bool {
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Unmap().IsLoopback()
}
