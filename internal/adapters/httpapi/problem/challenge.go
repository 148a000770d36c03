package problem

import (
	"strings"

	"github.com/orderapi/orderapi/internal/app"
)

// realm names the protection space in every challenge (RFC 9110 §11.6.1).
const realm = "orderapi"

// challenge is the WWW-Authenticate header a problem carries (RFC 6750
// §3): a bare one when no credentials were sent, one naming the error when
// a token was refused (401) or does not grant enough (403); "" for any
// other problem.
func challenge(p Problem) string {
	const bearer = `Bearer realm="` + realm + `"`
	switch p.Code {
	case app.ErrUnauthenticated.Code:
		return bearer
	case app.ErrInvalidToken.Code:
		return bearer + `, error="invalid_token", error_description="` + quotable(p.Detail) + `"`
	case app.ErrForbidden.Code:
		return bearer + `, error="insufficient_scope", error_description="` + quotable(p.Detail) + `"`
	}
	return ""
}

// quotable makes s fit error_description, whose characters RFC 6750 §3
// limits to printable ASCII without '"' and '\'.
func quotable(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == '"':
			return '\''
		case c == '\\':
			return '/'
		case c < 0x20 || c > 0x7e:
			return '?'
		}
		return c
	}, s)
}
