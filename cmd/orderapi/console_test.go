package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/jwtauth/jwtauthtest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestConsoleDevTokensAreDevelopmentOnly: a service in development mode
// hands the console on its machine a token of the role picked, signed as
// `orderapi token` signs it (a staff token names dev-staff), which it then
// accepts; a service that verifies a provider's tokens has no such path.
func TestConsoleDevTokensAreDevelopmentOnly(t *testing.T) {
	t.Parallel()
	t.Run("development mode", func(t *testing.T) {
		t.Parallel()
		// Given a service in development mode
		addr, _ := startServerWith(t, pgtest.NewURL(t), nil, io.Discard)
		base := "http://" + addr
		if got := consoleConfig(t, base); !got.DevTokens {
			t.Errorf("GET /console/config = %+v, want dev_tokens", got)
		}
		// When the console asks for a staff token
		var answer struct{ Token string }
		body := send(t, http.DefaultClient, "POST", base+"/console/dev/token", `{"roles": ["staff"]}`, http.StatusOK)
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatal(err)
		}
		// Then it is a token the service takes, for a member of staff
		// named as `orderapi token` names one
		staff := &http.Client{Transport: bearer{token: answer.Token}}
		send(t, staff, "GET", base+"/v1/projections", "", http.StatusOK)
		payload, err := jwtPayload(answer.Token)
		var claims struct {
			Sub   string
			Roles []string
		}
		if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Sub != "dev-staff" || len(claims.Roles) != 1 || claims.Roles[0] != "staff" {
			t.Errorf("claims %s (%v), want sub dev-staff and the staff role", payload, err)
		}
	})
	t.Run("a provider's tokens", func(t *testing.T) {
		t.Parallel()
		// Given a service that verifies a provider's tokens
		base := "http://" + startServerOfProvider(t, jwtauthtest.NewServer(t, jwtauthtest.NewKey(t, "EdDSA")))
		// When the console asks for a token, even from this machine,
		// Then there is no such path, and the console is told so
		send(t, http.DefaultClient, "POST", base+"/console/dev/token", `{"roles": ["staff"]}`, http.StatusNotFound)
		if got := consoleConfig(t, base); got.DevTokens {
			t.Errorf("GET /console/config = %+v, want no dev_tokens", got)
		}
		// while the console itself is there
		send(t, http.DefaultClient, "GET", base+"/console", "", http.StatusOK)
	})
}

func consoleConfig(t *testing.T, base string) (c struct {
	DevTokens bool `json:"dev_tokens"`
}) {
	t.Helper()
	if err := json.Unmarshal(send(t, http.DefaultClient, "GET", base+"/console/config", "", http.StatusOK), &c); err != nil {
		t.Fatal(err)
	}
	return c
}
