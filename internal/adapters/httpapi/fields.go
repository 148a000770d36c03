package httpapi

import (
	"errors"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// fieldErrs collects a request's field problems, so that one 422 names
// every bad field instead of the first.
type fieldErrs []error

func (fe *fieldErrs) add(err error) {
	if err != nil {
		*fe = append(*fe, err)
	}
}

// merge adds the domain's own verdict on the parsed values, leaving out
// fields the edge already reported: a field that failed to parse reaches
// the domain as a zero value, and its complaint would only repeat ours.
func (fe fieldErrs) merge(domain error) error {
	reported := map[string]bool{}
	for _, err := range fe {
		if e, ok := errors.AsType[*order.Error](err); ok {
			for _, f := range e.Fields {
				reported[f.Field] = true
			}
		}
	}
	all := append([]error{}, fe...)
	if e, ok := errors.AsType[*order.Error](domain); ok && e.Kind == order.KindInvalid {
		rest := &order.Error{Kind: order.KindInvalid, Code: e.Code, Message: e.Message}
		for _, f := range e.Fields {
			if !reported[f.Field] {
				rest.Fields = append(rest.Fields, f)
			}
		}
		all = append(all, rest)
	}
	return order.Merge(all...)
}

// parseID accepts a UUID in its canonical form only (see parseUUID), and
// never the nil UUID, which no order or product has.
func parseID(field, s string) (uuid.UUID, error) {
	id, err := parseUUID(s)
	if err != nil {
		return uuid.Nil, order.Invalid(field, order.FieldBadFormat,
			`must be a UUID in canonical lower-case form, e.g. "0190d6c8-6a4e-7b1c-9c53-2f1e5a8b9c0d"`)
	}
	if id == uuid.Nil {
		return uuid.Nil, order.Invalid(field, order.FieldRequired, "must not be the nil UUID")
	}
	return id, nil
}

// requiredID is parseID for a field that must be present.
func requiredID(field string, s *string) (uuid.UUID, error) {
	if s == nil {
		return uuid.Nil, order.Invalid(field, order.FieldRequired, "is required")
	}
	return parseID(field, *s)
}

// parseUUID is uuid.Parse without its alternative forms (braces, urn:, no
// hyphens, upper case): one id has one spelling on the wire, the
// canonical lower-case one the API writes, so that a URL or a retried
// body that differs only in case is not another request.
func parseUUID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 || id.String() != s {
		return uuid.Nil, errors.New("not a canonical UUID")
	}
	return id, nil
}
