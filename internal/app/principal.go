package app

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Role is one thing a principal is allowed to be. A token may grant
// several; what they allow adds up.
type Role uint8

// The roles orderapi knows. Any other role a token names is ignored.
const (
	// RoleCustomer acts on its own orders only.
	RoleCustomer Role = 1 << iota
	// RoleStaff reads and changes every order, and reads the operators'
	// views (analytics, projections, the feed).
	RoleStaff
	// RoleService is a machine client: it reads every order, the feed,
	// analytics and projections, and sends no commands.
	RoleService
)

// roleNames is the one spelling of each role, in tokens, logs and events.
var roleNames = [...]struct {
	role Role
	name string
}{
	{RoleCustomer, "customer"},
	{RoleStaff, "staff"},
	{RoleService, "service"},
}

// ParseRole reads a role by its name; ok is false for a name orderapi does
// not know.
func ParseRole(name string) (r Role, ok bool) {
	for _, n := range roleNames {
		if n.name == name {
			return n.role, true
		}
	}
	return 0, false
}

// Roles is a set of roles.
type Roles uint8

// Has reports whether the set holds r.
func (rs Roles) Has(r Role) bool { return rs&Roles(r) != 0 }

// With returns the set with r added.
func (rs Roles) With(r Role) Roles { return rs | Roles(r) }

// Any reports whether the set shares a role with other.
func (rs Roles) Any(other Roles) bool { return rs&other != 0 }

// Names lists the set's roles by name, in a fixed order.
func (rs Roles) Names() []string {
	var names []string
	for _, n := range roleNames {
		if rs.Has(n.role) {
			names = append(names, n.name)
		}
	}
	return names
}

func (rs Roles) String() string { return strings.Join(rs.Names(), " ") }

// RolesOf is the set of the given roles.
func RolesOf(roles ...Role) Roles {
	var rs Roles
	for _, r := range roles {
		rs = rs.With(r)
	}
	return rs
}

// Principal is who a request acts as, as its verified bearer token says.
// Never build one from what a client merely declares.
type Principal struct {
	// Subject is the token's subject (sub): who did it, in the audit
	// trail.
	Subject string
	// Roles are the roles the token grants now; events record them as
	// they were.
	Roles Roles
	// CustomerID is the customer the principal is, set exactly when Roles
	// holds RoleCustomer.
	CustomerID uuid.UUID
	// ClientID is the OAuth client the token was issued to (azp or
	// client_id), when the token names one.
	ClientID string
	// Expires is the time until which the token vouches for the
	// principal; zero: no bound. What outlives a request, such as a live
	// feed, ends then.
	Expires time.Time
}

// Authentication errors. The HTTP adapter answers the first two with 401
// and a WWW-Authenticate challenge, the last with 503.
var (
	// ErrUnauthenticated: the request carries no credentials at all.
	ErrUnauthenticated = &Error{Code: "unauthenticated",
		Message: "this request needs a bearer token: send Authorization: Bearer <token>"}
	// ErrInvalidToken: a token was sent and cannot be accepted. Errors of
	// this code say why (expired, wrong issuer...) in their Message, never
	// quoting the token.
	ErrInvalidToken = &Error{Code: "invalid_token", Message: "the bearer token is not valid"}
	// ErrAuthUnavailable: the keys that verify tokens have not been
	// loaded yet; retry shortly.
	ErrAuthUnavailable = &Error{Code: "auth_unavailable",
		Message: "the keys that verify bearer tokens are not available yet; retry later"}
	// ErrForbidden: the principal is known and may not do this. Never
	// the answer for another customer's order: that is not found, as if
	// it did not exist.
	ErrForbidden = &Error{Code: "forbidden", Message: "your roles do not allow this request"}
)

// CheckName reports whether a name a token gives, its subject or its
// client's id (claim names which), may be written into history: every
// event's metadata records it, never to be edited, and the subject is an
// order's cancelled_by. So it must be printable text a reader can trust:
// no control characters (a newline would forge a log line, a NUL cannot be
// stored), not blank as the domain has it for cancelled_by (white space
// and invisible characters alone, which would let its bearer do all but
// cancel), and at most order.MaxActorLen characters.
func CheckName(claim, s string) error {
	switch {
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return InvalidToken(fmt.Sprintf("claim %q holds control characters", claim))
	case order.Blank(s):
		return InvalidToken(fmt.Sprintf("claim %q is blank: white space and invisible characters alone", claim))
	case utf8.RuneCountInString(s) > order.MaxActorLen:
		return InvalidToken(fmt.Sprintf("claim %q is longer than %d characters", claim, order.MaxActorLen))
	}
	return nil
}

// Check reports whether p may act at all: it has a subject, and its
// names pass CheckName. An adapter that makes principals calls it, so
// that no use case is handed one that history cannot record.
func (p Principal) Check() error {
	if p.Subject == "" {
		return InvalidToken("no subject (sub)")
	}
	if err := CheckName("sub", p.Subject); err != nil {
		return err
	}
	if p.ClientID != "" {
		return CheckName("client_id", p.ClientID)
	}
	return nil
}

// InvalidToken is ErrInvalidToken saying why.
func InvalidToken(why string) error {
	return &Error{Code: ErrInvalidToken.Code, Message: "the bearer token is not valid: " + why}
}

// sees reports whether p may read o: staff and services read every
// order, a customer its own.
func (p Principal) sees(o *order.Order) bool {
	return p.Roles.Any(RolesOf(RoleStaff, RoleService)) || p.owns(o)
}

// changes reports whether p may send commands on o: staff on every order,
// a customer on its own. Which commands each role may send is decided
// with the rest of the route table, in the HTTP adapter.
func (p Principal) changes(o *order.Order) bool {
	return p.Roles.Has(RoleStaff) || p.owns(o)
}

func (p Principal) owns(o *order.Order) bool {
	return p.Roles.Has(RoleCustomer) && p.CustomerID != uuid.Nil && o.CustomerID == p.CustomerID
}

// listsOf reports whether p may list the orders of a customer.
func (p Principal) listsOf(customerID uuid.UUID) bool {
	return p.Roles.Any(RolesOf(RoleStaff, RoleService)) ||
		p.Roles.Has(RoleCustomer) && p.CustomerID != uuid.Nil && p.CustomerID == customerID
}

// hidden is what a principal is told of an order it may not see: exactly
// what it would be told of an order that does not exist, so that another
// customer's order cannot be told from a missing one.
func hidden(id uuid.UUID) error {
	return fmt.Errorf("order %s: %w", id, order.ErrNotFound)
}

// mustBeOrderID answers an id that cannot name an order (a customer's
// stream: see order.IsOrderID) as a missing order, before anything is
// read: the stream holds no order to show, fold or change.
func mustBeOrderID(id uuid.UUID) error {
	if order.IsOrderID(id) {
		return nil
	}
	return hidden(id)
}
