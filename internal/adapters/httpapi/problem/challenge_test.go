package problem

import (
	"net/http"
	"testing"

	"github.com/orderapi/orderapi/internal/app"
)

// TestChallengeDescriptionIsQuotable: whatever a verifier says, the
// error_description stays a valid quoted string of RFC 6750's characters.
func TestChallengeDescriptionIsQuotable(t *testing.T) {
	t.Parallel()
	p := New(http.StatusUnauthorized, app.ErrInvalidToken.Code, "issuer \"evil\\\" é\r\nX-Injected: 1")
	got := challenge(p)
	want := `Bearer realm="orderapi", error="invalid_token", error_description="` + `issuer 'evil/' ???X-Injected: 1"`
	if got != want {
		t.Errorf("challenge = %q, want %q", got, want)
	}
}
