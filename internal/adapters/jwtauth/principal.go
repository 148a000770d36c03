package jwtauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/app"
)

// principal reads who a verified token names.
func (v *Verifier) principal(claims jwt.MapClaims) (app.Principal, error) {
	var p app.Principal
	var err error
	if p.ClientID, err = nameClaim(claims, "azp"); err != nil {
		return app.Principal{}, err
	}
	if p.ClientID == "" {
		if p.ClientID, err = nameClaim(claims, "client_id"); err != nil {
			return app.Principal{}, err
		}
	}
	if p.Subject, err = nameClaim(claims, "sub"); err != nil {
		return app.Principal{}, err
	}
	if p.Subject == "" {
		// RFC 9068 §2.2 requires sub. Standing in the client id for it
		// would let a client share a subject, and with it idempotency
		// keys, stream quota and the audit trail's actor, with a user of
		// that name.
		return app.Principal{}, app.InvalidToken("no subject (sub)")
	}
	// exp is required, so the parser has checked it is a date.
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		p.Expires = exp.Time
	}
	if p.Roles, err = roles(claims[v.cfg.RolesClaim]); err != nil {
		return app.Principal{}, app.InvalidToken(fmt.Sprintf("claim %q: %v", v.cfg.RolesClaim, err))
	}
	if p.Roles.Has(app.RoleCustomer) {
		s, _ := claims[v.cfg.CustomerClaim].(string)
		id, ok := customerID(s)
		if !ok {
			why := "is not a customer id (a UUID)"
			if _, err := uuid.Parse(s); err == nil && len(s) == len(uuid.Nil.String()) {
				why = "is not a customer id as orderapi writes them: a UUID in lower case"
			}
			return app.Principal{}, app.InvalidToken(fmt.Sprintf("the token grants the customer role and its claim %q %s", v.cfg.CustomerClaim, why))
		}
		p.CustomerID = id
	}
	return p, nil
}

// nameClaim is a claim that names someone (sub) or something (azp,
// client_id), which history records: it must pass app.CheckName.
func nameClaim(claims jwt.MapClaims, name string) (string, error) {
	s, err := stringClaim(claims, name)
	if err != nil || s == "" {
		return s, err
	}
	if err := app.CheckName(name, s); err != nil {
		return "", err
	}
	return s, nil
}

// stringClaim is a claim that must be a string when present.
func stringClaim(claims jwt.MapClaims, name string) (string, error) {
	c, ok := claims[name]
	if !ok {
		return "", nil
	}
	s, ok := c.(string)
	if !ok {
		return "", app.InvalidToken(fmt.Sprintf("claim %q is not a string", name))
	}
	return s, nil
}

// roles reads a roles claim: an array of names or one string of names
// separated by spaces (as OAuth's scope). Names orderapi does not know
// are ignored.
func roles(claim any) (app.Roles, error) {
	var names []string
	switch c := claim.(type) {
	case nil:
	case string:
		names = strings.Fields(c)
	case []any:
		for _, n := range c {
			s, ok := n.(string)
			if !ok {
				return 0, errNotRoles
			}
			names = append(names, s)
		}
	default:
		return 0, errNotRoles
	}
	var rs app.Roles
	for _, n := range names {
		if r, ok := app.ParseRole(n); ok {
			rs = rs.With(r)
		}
	}
	return rs, nil
}

var errNotRoles = errors.New("not a list of role names")

// customerID reads a customer's id: a UUID in its canonical form, lower
// case, the only one orderapi accepts anywhere. Another spelling of the
// same id would be the same customer under another subject, and so
// another scope for its idempotency keys and its streams.
func customerID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(s)
	return id, err == nil && id.String() == s
}
