package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// TestLiveFeedEndsWhenItsTokenExpires: a live feed lasts as long as the
// token that opened it. It ends cleanly when the token expires, as at
// shutdown, and the client reconnects with a fresh token and its last id.
func TestLiveFeedEndsWhenItsTokenExpires(t *testing.T) {
	t.Parallel()
	// Given a live feed, heartbeats a minute apart, opened with a token
	// that expires in two seconds
	a, _ := newFeedAPI(t, nil, nil)
	expires := time.Now().Add(2 * time.Second)
	short := testAuthenticator.issue(app.Principal{Subject: "svc:short-lived", Roles: app.RolesOf(app.RoleService), Expires: expires})
	s := a.openStream("", "Authorization", "Bearer "+short)
	if m := s.next(feedWait); m.Retry == "" {
		t.Fatalf("first block %+v, want the retry hint", m)
	}

	// When the token expires
	// Then the stream ends cleanly, not before
	s.ended(time.Until(expires) + 5*time.Second)
	if now := time.Now(); now.Before(expires) {
		t.Errorf("the stream ended %s before its token expired", expires.Sub(now))
	}

	// and the same URL opens again with a fresh token
	a.openStream("", "Authorization", "Bearer "+serviceToken).next(feedWait)
}

// TestLiveFeedRefusesAnExpiredToken: a token past its expiry, which a
// verifier still accepts within its clock skew, opens no stream (it would
// end at once): the client is told to get a fresh one.
func TestLiveFeedRefusesAnExpiredToken(t *testing.T) {
	t.Parallel()
	// Given a token that expired a second ago
	a, _ := newFeedAPI(t, nil, nil)
	expired := testAuthenticator.issue(app.Principal{Subject: "svc:expired-" + uuid.NewString()[:8],
		Roles: app.RolesOf(app.RoleService), Expires: time.Now().Add(-time.Second)})

	// When it asks for the live feed
	r := a.as(expired).do("GET", "/v1/events", nil, "Accept", "text/event-stream")

	// Then it is refused as an expired token, with a challenge saying so
	p := r.wantProblem(t, http.StatusUnauthorized, app.ErrInvalidToken.Code)
	if !strings.Contains(p.Detail, "expired") || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("detail %q, WWW-Authenticate %q", p.Detail, r.Header.Get("WWW-Authenticate"))
	}
	// and HEAD, which answers as GET begins, says the same
	if h := a.as(expired).do("HEAD", "/v1/events", nil, "Accept", "text/event-stream"); h.Status != http.StatusUnauthorized ||
		!strings.Contains(h.Header.Get("WWW-Authenticate"), "expired") {
		t.Errorf("HEAD: %d, WWW-Authenticate %q", h.Status, h.Header.Get("WWW-Authenticate"))
	}
}
