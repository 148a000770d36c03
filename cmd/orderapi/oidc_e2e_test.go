package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// TestOIDCProviderEndToEnd runs orderapi against a real OpenID Connect
// provider: machine clients get tokens with the client-credentials grant,
// the API accepts them for what their roles allow and records who acted,
// and a rotation of the provider's signing key is followed without a
// restart.
func TestOIDCProviderEndToEnd(t *testing.T) {
	t.Parallel()
	const audience = "urn:orderapi"
	feed := oidcClient{ID: "orderapi-feed-reader", Secret: randomID(t) + randomID(t), Roles: []string{"service"}}
	backOffice := oidcClient{ID: "orderapi-back-office", Secret: randomID(t) + randomID(t), Roles: []string{"staff"}}

	// Given an OpenID Connect provider that knows a service client and a
	// staff client
	idp := startOIDCProvider(t, audience, feed, backOffice)
	// and orderapi trusting it, its keys fetched from the provider's jwks_uri
	addr, _ := startServerEnv(t, withMasterKey(t, map[string]string{
		"DATABASE_URL":           pgtest.NewURL(t),
		"ORDERAPI_ADDR":          "127.0.0.1:0",
		"ORDERAPI_AUTH_JWKS_URL": idp.JWKSURL,
		"ORDERAPI_AUTH_ISSUER":   idp.Issuer,
		"ORDERAPI_AUTH_AUDIENCE": audience,
	}), io.Discard)
	base := "http://" + addr

	// When the service client reads the feed with its token
	feedToken := idp.token(t, feed)
	// Then it is served (the first request may come before the keys are
	// loaded: those answer 503)
	eventuallyAs(t, 10*time.Second, http.StatusOK, feedToken, http.MethodGet, base+"/v1/events", "")

	// When the staff client creates an order
	staffToken := idp.token(t, backOffice)
	created := callAs(t, staffToken, http.MethodPost, base+"/v1/orders", newOrderBody)
	if created.status != http.StatusCreated {
		t.Fatalf("staff creates an order = %d %s (%s)", created.status, created.code, created.detail)
	}
	// Then the order's history names the client as who did it
	var id struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(created.body, &id); err != nil || id.ID == "" {
		t.Fatalf("created order: %v: %s", err, created.body)
	}
	history := callAs(t, feedToken, http.MethodGet, base+"/v1/orders/"+id.ID+"/events", "")
	var events struct {
		Events []struct {
			Metadata struct {
				Actor      string   `json:"actor"`
				ActorRoles []string `json:"actor_roles"`
				ClientID   string   `json:"client_id"`
			} `json:"metadata"`
		} `json:"events"`
	}
	if err := json.Unmarshal(history.body, &events); history.status != http.StatusOK || err != nil || len(events.Events) != 1 {
		t.Fatalf("the service reads the history = %d %v: %s", history.status, err, history.body)
	}
	// (a client-credentials token's subject is its client, RFC 9068 §2.2)
	if m := events.Events[0].Metadata; m.Actor != backOffice.ID || !slices.Equal(m.ActorRoles, backOffice.Roles) || m.ClientID != backOffice.ID {
		t.Errorf("the OrderCreated event's metadata = %+v, want actor and client_id %q with roles %v", m, backOffice.ID, backOffice.Roles)
	}

	// When a request carries no token, Then it is refused
	if a := callAs(t, "", http.MethodGet, base+"/v1/events", ""); a.status != http.StatusUnauthorized {
		t.Errorf("no token = %d %s, want 401", a.status, a.code)
	}
	// When the service client tries a command, Then its role refuses it
	if a := callAs(t, feedToken, http.MethodPost, base+"/v1/orders", newOrderBody); a.status != http.StatusForbidden {
		t.Errorf("service creates an order = %d %s, want 403", a.status, a.code)
	}

	// When the provider rotates its signing key: the old one is withdrawn
	idp.rotate(t)
	newToken := idp.token(t, feed)
	// Then a token signed with the new key is accepted by the running
	// service, which loads the set again for a kid it does not know
	eventuallyAs(t, 15*time.Second, http.StatusOK, newToken, http.MethodGet, base+"/v1/events", "")
	// and one signed with the withdrawn key is refused, although it has
	// not expired and was accepted before
	refused := eventuallyAs(t, 15*time.Second, http.StatusUnauthorized, feedToken, http.MethodGet, base+"/v1/events", "")
	if refused.code != "invalid_token" || !strings.Contains(refused.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("old token = %s, WWW-Authenticate %q; want invalid_token", refused.code, refused.header.Get("WWW-Authenticate"))
	}
}
